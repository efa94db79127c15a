//! Does the audio end where it should? The C2PA SDK signs a file cut off in the middle of its
//! audio without complaint, and a signature would then vouch for a damaged copy. Two checks the
//! container walks of `proof::signed::whole` cannot make:
//! - MP3: the MPEG frames, followed from the first one, must not run past the end of the file
//!   (before an ID3v1 or APE tag);
//! - FLAC: the file must end with a complete frame: a frame header whose CRC-8 holds, from which
//!   the CRC-16 over the rest of the file matches its last two bytes.

use crate::bad;
use crate::formats::{Result, Source, mpeg_sync};

/// How far from the end the last FLAC frame is looked for (frames are at most a few hundred KB).
const FLAC_TAIL: u64 = 1 << 20;

/// Errors (Truncated) when the MPEG frames starting at `from` run past the audio's end.
pub fn mpeg(src: &Source, from: u64) -> Result<()> {
    let Some(mut pos) = mpeg_sync::first_frame(src, from)? else {
        return Ok(());
    };
    let end = audio_end(src)?;
    let mut buf = Vec::new();
    let mut at = 0u64;
    while pos + 4 <= end {
        if pos < at || pos + 4 > at + buf.len() as u64 {
            at = pos;
            buf = src.read_upto(pos, 1 << 20)?;
        }
        let i = (pos - at) as usize;
        let Some((_, len)) = mpeg_sync::frame(&buf[i..]) else {
            // Not a frame: junk or a tag noai does not know; nothing to judge.
            return Ok(());
        };
        if pos + len > end {
            return Err(bad!(
                Truncated,
                "the last MPEG frame (at byte {pos}) runs past the end of the audio: the file is cut off"
            ));
        }
        pos += len;
    }
    Ok(())
}

/// The end of the MPEG audio: before an ID3v1 tag and an APEv2 tag with a footer.
fn audio_end(src: &Source) -> Result<u64> {
    let mut end = src.len();
    if end >= 128 && src.read(end - 128, 3, "the ID3v1 tag")? == b"TAG" {
        end -= 128;
    }
    if end >= 32 {
        let f = src.read(end - 32, 32, "an APE footer")?;
        if &f[..8] == b"APETAGEX" {
            let size = u64::from(u32::from_le_bytes([f[12], f[13], f[14], f[15]]));
            end = end.saturating_sub(size);
        }
    }
    Ok(end)
}

/// Errors (Truncated) unless the file ends with a complete FLAC frame.
pub fn flac(src: &Source, audio_start: u64) -> Result<()> {
    let from = audio_start.max(src.len().saturating_sub(FLAC_TAIL));
    let tail = src.read_upto(from, src.len() - from)?;
    if tail.len() < 8 {
        return Err(bad!(
            Truncated,
            "no FLAC frame after the metadata: the file is cut off"
        ));
    }
    let want = u16::from_be_bytes([tail[tail.len() - 2], tail[tail.len() - 1]]);
    let complete = (0..tail.len() - 2)
        .rev()
        .filter(|&i| tail[i] == 0xFF && tail[i + 1] & 0xFE == 0xF8)
        .any(|i| header_ok(&tail[i..]) && crc16(&tail[i..tail.len() - 2]) == want);
    if complete {
        Ok(())
    } else {
        Err(bad!(
            Truncated,
            "the FLAC audio does not end with a complete frame (its CRC-16 does not match): the file is cut off"
        ))
    }
}

/// A frame header (RFC 9639 §9.1) whose CRC-8 matches.
fn header_ok(b: &[u8]) -> bool {
    if b.len() < 6 {
        return false;
    }
    // The coded number: a UTF-8-like sequence of 1-7 bytes.
    let lead = b[4];
    let n = match lead.leading_ones() {
        0 => 1,
        k @ 2..=7 => k as usize,
        _ => return false,
    };
    let mut len = 4 + n;
    len += match b[2] >> 4 {
        6 => 1,
        7 => 2,
        _ => 0,
    };
    len += match b[2] & 0x0F {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    b.len() > len && crc8(&b[..len]) == b[len]
}

fn crc8(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |mut c, &x| {
        c ^= x;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
        c
    })
}

fn crc16(b: &[u8]) -> u16 {
    b.iter().fold(0u16, |mut c, &x| {
        c ^= u16::from(x) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::formats::testutil::source_of;

    #[test]
    fn mpeg_frames_cut_short_are_truncated() {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, 0x11);
        let whole = frame.repeat(6);
        assert!(mpeg(&source_of(&whole), 0).is_ok());
        let e = mpeg(&source_of(&whole[..whole.len() - 100]), 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
    }

    #[test]
    fn flac_ends_with_a_whole_frame_or_is_truncated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio/flac-nopad.flac");
        let file = std::fs::read(path).unwrap();
        let src = source_of(&file);
        let start = super::super::proof::signed::flac_blocks_end(&src, 0).unwrap();
        assert!(flac(&src, start).is_ok());
        let e = flac(&source_of(&file[..file.len() - 50]), start).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
    }
}
