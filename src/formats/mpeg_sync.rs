//! Finding the first real MPEG audio frame (MP3 layers I–III, AAC ADTS) when something other than
//! a frame follows the ID3v2 tag or starts the file: encoders and rippers leave junk there, and
//! mutagen and ffmpeg skip it. A candidate counts only when the frames it starts chain on: each
//! header valid, of the same stream kind, and found exactly where the previous frame ends.

use super::{Result, Source};

/// How far to look for the first frame.
pub const SEARCH_LIMIT: u64 = 1 << 20;
/// Consecutive frames a candidate must start (fewer only when the file ends exactly after them).
const CHAIN: usize = 4;

/// The frame header at the start of `b`: its stream kind (everything but bitrate and padding
/// must stay equal along a stream) and its length in bytes; `None` when `b` is no valid header.
pub fn frame(b: &[u8]) -> Option<(u32, u64)> {
    let &[0xFF, b1, b2, b3, ..] = b else {
        return None;
    };
    if b1 & 0xE0 != 0xE0 {
        return None;
    }
    let (version, layer) = ((b1 >> 3) & 3, (b1 >> 1) & 3);
    let kind = u32::from_be_bytes([0, b1 & 0xFE, b2 & 0x0C, b3 & 0xC0]);
    if layer == 0 {
        return adts_len(b, version, b2).map(|len| (kind, len));
    }
    let rate = (b2 >> 2) & 3;
    let index = usize::from(b2 >> 4);
    if version == 1 || rate == 3 || index == 0 || index == 15 {
        // Reserved values, or free-format bitrate (its length cannot be known from the header).
        return None;
    }
    let v1 = version == 3;
    let kbps = u64::from(bitrate(v1, layer, index));
    const HZ: [[u64; 3]; 3] = [
        [44100, 48000, 32000],
        [22050, 24000, 16000],
        [11025, 12000, 8000],
    ];
    let hz = HZ[match version {
        3 => 0,
        2 => 1,
        _ => 2,
    }][usize::from(rate)];
    let pad = u64::from((b2 >> 1) & 1);
    let len = match layer {
        3 => (12 * kbps * 1000 / hz + pad) * 4,
        1 if !v1 => 72 * kbps * 1000 / hz + pad,
        _ => 144 * kbps * 1000 / hz + pad,
    };
    Some((kind, len))
}

/// ADTS (AAC) frame length from its 13-bit field; version bits 0/2 only, sampling index < 13.
fn adts_len(b: &[u8], version: u8, b2: u8) -> Option<u64> {
    if version & 1 != 0 || (b2 >> 2) & 0xF >= 13 {
        return None;
    }
    let (b3, b4, b5) = (*b.get(3)?, *b.get(4)?, *b.get(5)?);
    let len = (u64::from(b3 & 3) << 11) | (u64::from(b4) << 3) | u64::from(b5 >> 5);
    (len >= 7).then_some(len)
}

/// Kbit/s for a bitrate index 1..=14 (ISO 11172-3 and 13818-3 tables).
fn bitrate(v1: bool, layer: u8, index: usize) -> u16 {
    const V1: [[u16; 14]; 3] = [
        [
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
        [
            32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
    ];
    const V2_L1: [u16; 14] = [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ];
    const V2_L23: [u16; 14] = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    match (v1, layer) {
        (true, l) => V1[usize::from(l - 1)][index - 1],
        (false, 3) => V2_L1[index - 1],
        (false, _) => V2_L23[index - 1],
    }
}

/// True when a chain of frames of one stream starts at `at` in `buf` (whose first byte is at
/// file offset `base`; `file_len` lets a short file end right after its last frame).
fn chains(buf: &[u8], at: usize, base: u64, file_len: u64) -> bool {
    let Some((kind, _)) = frame(&buf[at..]) else {
        return false;
    };
    let mut pos = at;
    for n in 0..CHAIN {
        match buf.get(pos..).and_then(frame) {
            Some((k, len)) if k == kind => pos += len as usize,
            // The file (not just the buffer) ends exactly where the last frame did.
            None if n >= 2 && base + pos as u64 == file_len => return true,
            _ => return false,
        }
    }
    true
}

/// The offset of the first real frame at or after `from`, searching `SEARCH_LIMIT` bytes.
pub fn first_frame(src: &Source, from: u64) -> Result<Option<u64>> {
    // A few frames past the limit, so a chain that starts near it can be followed.
    let buf = src.read_upto(from, SEARCH_LIMIT + 8 * 1441)?;
    let end = buf.len().min(SEARCH_LIMIT as usize);
    Ok((0..end)
        .filter(|&i| buf[i] == 0xFF)
        .find(|&i| chains(&buf, i, from, src.len()))
        .map(|i| from + i as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 128 kbit/s, 44.1 kHz MPEG-1 layer III frame (417 bytes, no padding).
    fn mp3_frame() -> Vec<u8> {
        let mut f = vec![0xFF, 0xFB, 0x90, 0x64];
        f.resize(417, 0x11);
        f
    }

    fn src_of(b: &[u8]) -> Source<'static> {
        crate::formats::testutil::source_of(b)
    }

    #[test]
    fn header_lengths_follow_the_standard() {
        assert_eq!(frame(&mp3_frame()).map(|f| f.1), Some(417));
        // Layer II, MPEG-1, 192 kbit/s, 48 kHz: 144 * 192000 / 48000 = 576.
        assert_eq!(frame(&[0xFF, 0xFD, 0xA4, 0]).map(|f| f.1), Some(576));
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz, padded: 72 * 64000 / 22050 + 1 = 209.
        assert_eq!(frame(&[0xFF, 0xF3, 0x82, 0]).map(|f| f.1), Some(209));
        assert_eq!(frame(&[0xFF, 0xFB, 0xF0, 0]), None, "bitrate index 15");
        assert_eq!(frame(&[0xFF, 0xFB, 0x00, 0]), None, "free format");
    }

    #[test]
    fn junk_before_the_frames_is_skipped_but_a_lone_sync_is_not_a_frame() {
        let mut file = b"junk\xFF\xFB\x90\x64 more junk".to_vec();
        let start = file.len() as u64;
        for _ in 0..6 {
            file.extend(mp3_frame());
        }
        assert_eq!(first_frame(&src_of(&file), 0).unwrap(), Some(start));
        assert_eq!(first_frame(&src_of(&file), 2).unwrap(), Some(start));
        let lone = b"\xFF\xFB\x90\x64 and then text, no frames".repeat(20);
        assert_eq!(first_frame(&src_of(&lone), 0).unwrap(), None);
    }

    #[test]
    fn a_short_file_may_end_right_after_its_frames() {
        let mut file = vec![0u8; 10];
        for _ in 0..3 {
            file.extend(mp3_frame());
        }
        assert_eq!(first_frame(&src_of(&file), 0).unwrap(), Some(10));
        file.pop();
        assert_eq!(first_frame(&src_of(&file), 0).unwrap(), None);
    }
}
