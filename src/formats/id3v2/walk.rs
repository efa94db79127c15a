//! The ID3v2 layout: header, extended header, footer and the frame walk. Every byte of a tag must
//! be explained here (header, extended header, frames, zero padding, footer) or the tag is an
//! error naming the offset: a byte we cannot place is a byte a rebuild could lose.
//!
//! ID3v2.4 frame sizes are syncsafe, but iTunes and other taggers wrote them as plain 32-bit
//! numbers. Like mutagen (`determine_bpi`) and TagLib, both readings are tried; the one whose
//! frames (with valid ids) end exactly at the zero padding or the end of the tag is taken.

use std::ops::Range;

use super::{FLAG_EXTENDED, FLAG_FOOTER, FLAG_UNSYNC, syncsafe};
use crate::bad;
use crate::formats::Result;
use crate::formats::id3v2::frame::unsync_decode;

/// How a v2.4 tag's frame sizes are written (v2.2/2.3 sizes are always plain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    Syncsafe,
    /// Plain big-endian u32 in a v2.4 tag (iTunes).
    Plain,
}

/// What the walk found in a tag's body.
pub(super) struct Layout {
    /// The frames area, tag-level unsynchronisation (v2.2/2.3) undone, extended header removed,
    /// cut where the padding starts.
    pub frames: Vec<u8>,
    pub spans: Vec<Range<usize>>,
    pub sizes: Sizes,
}

/// Splits a whole tag (header included, length already checked) into its frames.
pub(super) fn layout(bytes: &[u8]) -> Result<Layout> {
    let (major, flags) = (bytes[3], bytes[5]);
    if major == 2 && flags & 0x40 != 0 {
        return Err(bad!(
            Unsupported,
            "compressed ID3v2.2 tag (undefined by the standard)"
        ));
    }
    let footer = if major == 4 && flags & FLAG_FOOTER != 0 {
        check_footer(bytes)?;
        10
    } else {
        0
    };
    let body = &bytes[10..bytes.len() - footer];
    let mut frames = if major < 4 && flags & FLAG_UNSYNC != 0 {
        unsync_decode(body)
    } else {
        body.to_vec()
    };
    let mut base = 10;
    if major >= 3 && flags & FLAG_EXTENDED != 0 {
        let skip = extended_len(&frames, major)?;
        frames.drain(..skip);
        base += skip;
    }
    let (spans, sizes) = walk(&frames, major, base)?;
    frames.truncate(spans.last().map_or(0, |s| s.end));
    Ok(Layout {
        frames,
        spans,
        sizes,
    })
}

/// The v2.4 footer repeats the header with `3DI` for `ID3`; anything else is not a footer.
fn check_footer(bytes: &[u8]) -> Result<()> {
    let at = bytes.len() - 10;
    let f = &bytes[at..];
    if &f[..3] != b"3DI" || f[3..] != bytes[3..10] {
        return Err(bad!(
            "corrupt ID3v2.4 footer at byte {at} of the tag (does not repeat the header)"
        ));
    }
    Ok(())
}

/// Length of the extended header at the start of `data`. v2.3: a plain size of 6 or 10 (with
/// CRC) not counting its own 4 bytes; v2.4: a syncsafe size counting itself.
fn extended_len(data: &[u8], major: u8) -> Result<usize> {
    let b = data
        .get(..6)
        .ok_or_else(|| bad!("corrupt ID3v2 extended header (truncated)"))?;
    let n = if major == 3 {
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let crc = b[4] & 0x80 != 0;
        if n != if crc { 10 } else { 6 } {
            return Err(bad!("corrupt ID3v2.3 extended header size {n}"));
        }
        n + 4
    } else {
        if b[..4].iter().any(|x| x & 0x80 != 0) || b[4] != 1 {
            return Err(bad!("corrupt ID3v2.4 extended header"));
        }
        syncsafe(&b[..4]) as usize
    };
    if n < 6 || n > data.len() {
        return Err(bad!("corrupt ID3v2 extended header size {n}"));
    }
    Ok(n)
}

/// Frame spans and the size convention. For v2.4, both readings are tried. When both account
/// for every byte, mutagen's rule decides: more frames wins, a tie goes to syncsafe (the plain
/// reading of a standard tag often just runs its last frame on into the zero padding).
fn walk(data: &[u8], major: u8, base: usize) -> Result<(Vec<Range<usize>>, Sizes)> {
    if major != 4 {
        return Ok((walk_with(data, major, Sizes::Plain, base)?, Sizes::Plain));
    }
    let safe = walk_with(data, 4, Sizes::Syncsafe, base);
    let plain = walk_with(data, 4, Sizes::Plain, base);
    match (safe, plain) {
        (Ok(s), Ok(p)) if p.len() > s.len() => Ok((p, Sizes::Plain)),
        (Ok(s), _) => Ok((s, Sizes::Syncsafe)),
        (Err(_), Ok(p)) => Ok((p, Sizes::Plain)),
        (Err(e), Err(_)) => Err(bad!(
            "{e} (the frames do not fit with plain 32-bit sizes either)"
        )),
    }
}

/// One strict walk: frames with valid ids, each inside the tag, then only zero bytes. `base`
/// is where `data` starts in the tag, for the messages.
fn walk_with(data: &[u8], major: u8, sizes: Sizes, base: usize) -> Result<Vec<Range<usize>>> {
    let (id_len, head) = if major == 2 { (3, 6) } else { (4, 10) };
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        if data[pos] == 0 {
            return match data[pos..].iter().position(|&b| b != 0) {
                None => Ok(spans),
                Some(i) => Err(bad!(
                    "non-zero bytes in the ID3v2 padding at byte {} of the tag",
                    base + pos + i
                )),
            };
        }
        if pos + head > data.len() {
            return Err(bad!(
                "unexplained bytes after the last ID3v2 frame at byte {} of the tag",
                base + pos
            ));
        }
        let id = &data[pos..pos + id_len];
        if !id
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(bad!(
                "corrupt ID3v2 frame id {:?} at byte {} of the tag",
                String::from_utf8_lossy(id),
                base + pos
            ));
        }
        let s = &data[pos + id_len..pos + head];
        let size = match (major, sizes) {
            (2, _) => u32::from_be_bytes([0, s[0], s[1], s[2]]),
            (4, Sizes::Syncsafe) if s[..4].iter().any(|b| b & 0x80 != 0) => {
                return Err(bad!(
                    "ID3v2.4 frame {} at byte {} of the tag: size is not syncsafe",
                    String::from_utf8_lossy(id),
                    base + pos
                ));
            }
            (4, Sizes::Syncsafe) => syncsafe(&s[..4]),
            _ => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        } as usize;
        let end = pos + head + size;
        if end > data.len() {
            return Err(bad!(
                "corrupt ID3v2 frame {} at byte {} of the tag: {size} bytes run past the tag",
                String::from_utf8_lossy(id),
                base + pos
            ));
        }
        spans.push(pos..end);
        pos = end;
    }
    Ok(spans)
}
