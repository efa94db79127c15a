//! Debug builds only: a fault injected into a planned write, so the tests can show the proof
//! refuses a write that would damage another item. `NOAI_TEST_CORRUPT=<text>` alters the first
//! occurrence of `<text>` in the planned new bytes (letters change case, other bytes flip their
//! low bit). An Ogg page holding it gets its checksum fixed, so the damage reaches the proof
//! instead of tripping our own page reader first; with `NOAI_TEST_CORRUPT_KEEP_CRC` set it keeps
//! the old one, which the proof's page check must catch.

use crate::bad;
use crate::formats::{Part, Plan, Result};

/// Corrupts the plan as `NOAI_TEST_CORRUPT` says. Errors when the text is not in the plan, so a
/// test cannot pass by corrupting nothing.
pub fn test_fault(plan: &mut Plan) -> Result<()> {
    let Ok(needle) = std::env::var("NOAI_TEST_CORRUPT") else {
        return Ok(());
    };
    let needle = needle.as_bytes();
    let buffers: Vec<&mut Vec<u8>> = match plan {
        Plan::Patch { regions } | Plan::Cut { regions, .. } => {
            regions.iter_mut().map(|r| &mut r.bytes).collect()
        }
        Plan::Rewrite { parts } => parts
            .iter_mut()
            .filter_map(|p| match p {
                Part::Bytes(b) => Some(b),
                _ => None,
            })
            .collect(),
    };
    for b in buffers {
        if let Some(at) = b.windows(needle.len()).position(|w| w == needle) {
            for x in &mut b[at..at + needle.len()] {
                *x ^= if x.is_ascii_alphabetic() { 0x20 } else { 0x01 };
            }
            if std::env::var_os("NOAI_TEST_CORRUPT_KEEP_CRC").is_none() {
                fix_ogg_crc(b, at);
            }
            return Ok(());
        }
    }
    Err(bad!(
        Internal,
        "test hook: NOAI_TEST_CORRUPT text is not in the planned bytes"
    ))
}

/// Recomputes the checksum of the Ogg page in `b` that holds byte `at`, if there is one.
fn fix_ogg_crc(b: &mut [u8], at: usize) {
    let Some(start) = b[..at].windows(4).rposition(|w| w == b"OggS") else {
        return;
    };
    let Some(&segs) = b.get(start + 26) else {
        return;
    };
    let head = 27 + usize::from(segs);
    let Some(lacing) = b.get(start + 27..start + head) else {
        return;
    };
    let end = start + head + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
    if end > b.len() || at >= end {
        return;
    }
    b[start + 22..start + 26].fill(0);
    let crc = b[start..end].iter().fold(0u32, |crc, &x| {
        let mut c = crc ^ (u32::from(x) << 24);
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
        }
        c
    });
    b[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}
