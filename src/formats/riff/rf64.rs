//! RF64/BW64 (EBU Tech 3306, ITU-R BS.2088): a WAV whose `RIFF` is `RF64` or `BW64`, whose
//! 32-bit root size is 0xFFFFFFFF and whose real sizes are in a `ds64` chunk that comes first:
//! the 64-bit root (`riffSize`) and `data` sizes, and a table for any other chunk over 4 GiB.
//! Everything else is WAV, handled by the rest of `riff`; an edit changes the root size only
//! through `riffSize` (`Layout::root_size`), never a chunk over 4 GiB.

use super::{Root, u32_at, unfinalized};
use crate::bad;
use crate::formats::{Result, Source};

/// Where an RF64 file keeps its 64-bit root size: the first field of the `ds64` chunk, which
/// follows the 12-byte form header.
pub(super) const RF64_SIZE_AT: u64 = 20;

/// The 64-bit sizes of an RF64 `ds64` chunk that chunk headers point to with 0xFFFFFFFF.
pub(super) struct Ds64 {
    pub(super) data: u64,
    table: Vec<([u8; 4], u64)>,
}

impl Ds64 {
    /// The size of a chunk whose header says 0xFFFFFFFF: `data` from the `ds64` fields, any
    /// other from its table.
    pub(super) fn size_of(&self, id: &[u8; 4]) -> Result<u64> {
        if id == b"data" {
            return Ok(self.data);
        }
        self.table
            .iter()
            .find(|(t, _)| t == id)
            .map(|&(_, n)| n)
            .ok_or_else(|| {
                bad!(
                    "corrupt RF64: chunk {:?} has size 0xFFFFFFFF and no entry in the ds64 table",
                    String::from_utf8_lossy(id)
                )
            })
    }
}

/// An RF64/BW64 root: the 32-bit size field is ignored (0xFFFFFFFF by the standard), the real one
/// is in the `ds64` chunk that must come first, with the `data` size and a table of any other
/// chunk over 4 GiB.
pub(super) fn rf64_root(src: &Source) -> Result<Root> {
    let h = src.read(12, 8, "ds64 chunk header")?;
    let len = u32_at(false, &h[4..8]);
    if &h[..4] != b"ds64" || len < 28 {
        return Err(bad!(
            "corrupt RF64: the first chunk is not a ds64 chunk of 28 bytes or more"
        ));
    }
    if 20 + len > src.len() {
        return Err(bad!(
            Truncated,
            "truncated: the ds64 chunk runs past the end of the file"
        ));
    }
    let d = src.read(20, len, "ds64 chunk")?;
    let u64_at = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().unwrap_or_default());
    let riff_size = u64_at(0);
    let count = u32_at(false, &d[24..28]);
    if count > (len - 28) / 12 {
        return Err(bad!(
            "corrupt RF64: the ds64 table has more entries than its chunk holds"
        ));
    }
    let table = (0..count as usize)
        .map(|i| {
            let e = &d[28 + 12 * i..40 + 12 * i];
            (
                [e[0], e[1], e[2], e[3]],
                u64::from_le_bytes(e[4..12].try_into().unwrap_or_default()),
            )
        })
        .collect();
    if riff_size == 0 || riff_size == u64::MAX {
        return Err(unfinalized("WAV", "the ds64 RIFF size"));
    }
    let end = riff_size
        .checked_add(8)
        .filter(|&e| e >= 20 + len)
        .ok_or_else(|| bad!("corrupt RF64: the ds64 RIFF size is smaller than its own header"))?;
    if end > src.len() {
        return Err(bad!(
            Truncated,
            "truncated: the ds64 chunk claims {end} bytes, the file has {}",
            src.len()
        ));
    }
    Ok(Root {
        big_endian: false,
        end,
        ds64: Some(Ds64 {
            data: u64_at(8),
            table,
        }),
    })
}

#[cfg(test)]
#[path = "rf64_tests.rs"]
mod tests;
