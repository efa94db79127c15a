//! EBML mechanics for Matroska/WebM: element IDs and sizes as variable-length integers, element
//! headers parsed from bytes (the open file or an in-memory copy of a small master element),
//! the children of a master, and elements built from bytes (with a `Void` filling spare room).

use crate::bad;
use crate::formats::Result;

pub const EBML: u32 = 0x1A45_DFA3;
pub const DOC_TYPE: u32 = 0x4282;
pub const SEGMENT: u32 = 0x1853_8067;
pub const SEEK_HEAD: u32 = 0x114D_9B74;
pub const SEEK: u32 = 0x4DBB;
pub const SEEK_ID: u32 = 0x53AB;
pub const SEEK_POSITION: u32 = 0x53AC;
pub const VOID: u32 = 0xEC;
pub const CRC32: u32 = 0xBF;
pub const TRACKS: u32 = 0x1654_AE6B;
pub const TRACK_ENTRY: u32 = 0xAE;
pub const TRACK_TYPE: u32 = 0x83;
pub const CODEC_ID: u32 = 0x86;
pub const CODEC_PRIVATE: u32 = 0x63A2;
pub const CLUSTER: u32 = 0x1F43_B675;
pub const TAGS: u32 = 0x1254_C367;
pub const TAG: u32 = 0x7373;
pub const TARGETS: u32 = 0x63C0;
pub const TARGET_TYPE_VALUE: u32 = 0x68CA;
pub const SIMPLE_TAG: u32 = 0x67C8;
pub const TAG_NAME: u32 = 0x45A3;
pub const TAG_STRING: u32 = 0x4487;
/// TagTrackUID, TagEditionUID, TagChapterUID, TagAttachmentUID: a Tag holding one with a
/// non-zero value is about a part of the file, not the whole.
pub const TARGET_UIDS: [u32; 4] = [0x63C5, 0x63C9, 0x63C4, 0x63C6];

/// The longest element header: a 4-byte ID and an 8-byte size.
pub const MAX_HEADER: u64 = 12;

/// One element: where it starts, how long its ID and size fields are, and its data size (`None`
/// for the "unknown" size of a live stream, all value bits set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u32,
    pub start: u64,
    pub id_len: u8,
    pub size_len: u8,
    pub size: Option<u64>,
}

impl Header {
    /// Where the element's data starts.
    pub fn body(&self) -> u64 {
        self.start + u64::from(self.id_len) + u64::from(self.size_len)
    }

    /// Where the element ends (for an unknown size: where its data starts).
    pub fn end(&self) -> u64 {
        self.body().saturating_add(self.size.unwrap_or(0))
    }
}

/// The length of a vint from its first byte (1 to 8), or `None` for a zero byte.
fn vint_len(first: u8) -> Option<u8> {
    (first != 0).then(|| first.leading_zeros() as u8 + 1)
}

/// The header at the start of `b`, an element starting at file offset `start`.
pub fn parse(b: &[u8], start: u64) -> Result<Header> {
    let short = || {
        bad!(
            Truncated,
            "truncated Matroska element header at byte {start}"
        )
    };
    let first = *b.first().ok_or_else(short)?;
    let id_len = vint_len(first)
        .filter(|l| *l <= 4)
        .ok_or_else(|| bad!("corrupt Matroska: invalid element ID at byte {start}"))?;
    let id_bytes = b.get(..usize::from(id_len)).ok_or_else(short)?;
    let id = id_bytes.iter().fold(0u32, |a, x| a << 8 | u32::from(*x));
    let size_first = *b.get(usize::from(id_len)).ok_or_else(short)?;
    let size_len = vint_len(size_first)
        .ok_or_else(|| bad!("corrupt Matroska: invalid element size at byte {start}"))?;
    let from = usize::from(id_len);
    let size_bytes = b
        .get(from..from + usize::from(size_len))
        .ok_or_else(short)?;
    let mask = if size_len == 8 { 0 } else { 0xFFu8 >> size_len };
    let value = size_bytes[1..]
        .iter()
        .fold(u64::from(size_first & mask), |a, x| a << 8 | u64::from(*x));
    let unknown = value == (1u64 << (7 * u32::from(size_len))) - 1;
    Ok(Header {
        id,
        start,
        id_len,
        size_len,
        size: (!unknown).then_some(value),
    })
}

/// The children of the master element whose data is `buf`, which starts at offset `base`; each
/// must have a known size inside `buf`.
pub fn children(buf: &[u8], base: u64) -> Result<Vec<Header>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        let h = parse(&buf[pos..], base + pos as u64)?;
        let Some(size) = h.size else {
            return Err(bad!(
                Unsupported,
                "Matroska element {:#x} at byte {} has an unknown size inside a master element",
                h.id,
                h.start
            ));
        };
        let end = (h.body() - base)
            .checked_add(size)
            .filter(|e| *e <= buf.len() as u64)
            .ok_or_else(|| {
                bad!(
                    "corrupt Matroska: element {:#x} at byte {} runs past its parent",
                    h.id,
                    h.start
                )
            })?;
        out.push(h);
        pos = end as usize;
    }
    Ok(out)
}

/// The data of `h`, a child found by `children` in `buf` (which starts at `base`).
pub fn data<'a>(buf: &'a [u8], base: u64, h: &Header) -> &'a [u8] {
    let from = (h.body() - base) as usize;
    &buf[from..from + h.size.unwrap_or(0) as usize]
}

/// All of `h` (header and data), a child found by `children` in `buf`.
pub fn whole<'a>(buf: &'a [u8], base: u64, h: &Header) -> &'a [u8] {
    let from = (h.start - base) as usize;
    &buf[from..(h.end() - base) as usize]
}

/// An unsigned integer element's value (0 to 8 big-endian bytes).
pub fn uint(b: &[u8]) -> Option<u64> {
    (b.len() <= 8).then(|| b.iter().fold(0u64, |a, x| a << 8 | u64::from(*x)))
}

/// A string element's value: UTF-8 up to the first NUL (the spec allows NUL padding).
pub fn text(b: &[u8]) -> Option<String> {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    std::str::from_utf8(&b[..end]).ok().map(str::to_owned)
}

/// `value` as a size field of exactly `len` bytes, if it fits (the all-ones value is reserved).
pub fn size_field(value: u64, len: u8) -> Option<Vec<u8>> {
    if !(1..=8).contains(&len) || value >= (1u64 << (7 * u32::from(len))) - 1 {
        return None;
    }
    let mut out = value.to_be_bytes()[8 - usize::from(len)..].to_vec();
    out[0] |= 0x80 >> (len - 1);
    Some(out)
}

/// The bytes of an element ID (its marker bits are part of the value).
pub fn id_bytes(id: u32) -> Vec<u8> {
    let b = id.to_be_bytes();
    let skip = b.iter().position(|x| *x != 0).unwrap_or(3);
    b[skip..].to_vec()
}

/// The element `id` holding `body`, its size field `len` bytes long.
pub fn element_sized(id: u32, body: &[u8], len: u8) -> Option<Vec<u8>> {
    let mut out = id_bytes(id);
    out.extend(size_field(body.len() as u64, len)?);
    out.extend_from_slice(body);
    Some(out)
}

/// The element `id` holding `body`, with the shortest size field.
pub fn element(id: u32, body: &[u8]) -> Result<Vec<u8>> {
    (1..=8)
        .find_map(|len| element_sized(id, body, len))
        .ok_or_else(|| bad!(Internal, "internal: element too large"))
}

/// An unsigned integer element with the shortest encoding (at least one byte).
pub fn uint_element(id: u32, value: u64) -> Result<Vec<u8>> {
    let b = value.to_be_bytes();
    let skip = b.iter().position(|x| *x != 0).unwrap_or(7);
    element(id, &b[skip..])
}

/// A `Void` element of exactly `total` bytes (at least 2), its data zeroed.
pub fn void(total: u64) -> Option<Vec<u8>> {
    (1..=8u8).find_map(|len| {
        let body = total.checked_sub(1 + u64::from(len))?;
        let body = usize::try_from(body).ok()?;
        element_sized(VOID, &vec![0; body], len)
    })
}

/// The element `id` holding `body`, filling exactly `room` bytes: followed by a `Void` for the
/// spare bytes, or (one spare byte, too few for a `Void`) with a size field one byte longer.
/// `None` when it does not fit.
pub fn fill(id: u32, body: &[u8], room: u64) -> Result<Option<Vec<u8>>> {
    let mut el = element(id, body)?;
    let need = el.len() as u64;
    if need == room {
        return Ok(Some(el));
    }
    if room == need + 1 {
        let len = (el.len() - body.len() - id_bytes(id).len()) as u8 + 1;
        return Ok(element_sized(id, body, len));
    }
    match room.checked_sub(need).filter(|s| *s >= 2).and_then(void) {
        Some(v) => {
            el.extend(v);
            Ok(Some(el))
        }
        None => Ok(None),
    }
}

/// The CRC-32 (IEEE, as EBML's `CRC-32` element stores it: little-endian) of `b`.
pub fn crc32_element(b: &[u8]) -> Result<Vec<u8>> {
    let mut crc = 0xFFFF_FFFFu32;
    for &x in b {
        crc ^= u32::from(x);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    element(CRC32, &(!crc).to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_ids_sizes_and_the_unknown_size() {
        let h = parse(&[0x1A, 0x45, 0xDF, 0xA3, 0x84], 10).unwrap();
        assert_eq!((h.id, h.id_len, h.size_len, h.size), (EBML, 4, 1, Some(4)));
        assert_eq!((h.body(), h.end()), (15, 19));
        let live = parse(
            &[
                0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ],
            0,
        );
        assert_eq!(live.unwrap().size, None);
        assert!(parse(&[0x00, 0x81], 0).is_err());
        assert!(parse(&[0xEC], 0).is_err());
        assert!(parse(&[0x08, 0x81], 0).is_err(), "a 5-byte ID");
    }

    #[test]
    fn built_elements_read_back_and_fill_their_room() {
        assert_eq!(id_bytes(TAGS), [0x12, 0x54, 0xC3, 0x67]);
        assert_eq!(id_bytes(VOID), [0xEC]);
        assert_eq!(size_field(5, 8).unwrap(), [1, 0, 0, 0, 0, 0, 0, 5]);
        assert!(size_field(127, 1).is_none(), "all ones is the unknown size");
        assert_eq!(void(2).unwrap(), [0xEC, 0x80]);
        for room in [6, 7, 8, 9, 200, 20_000] {
            let el = fill(TAG_NAME, b"KEY", room).unwrap().unwrap();
            assert_eq!(el.len() as u64, room);
            let kids = children(&el, 0).unwrap();
            assert_eq!(kids[0].id, TAG_NAME);
            assert_eq!(data(&el, 0, &kids[0]), b"KEY");
            assert!(kids[1..].iter().all(|k| k.id == VOID));
        }
        assert!(fill(TAG_NAME, b"KEY", 6).unwrap().is_some());
        assert!(fill(TAG_NAME, b"KEY", 5).unwrap().is_none());
        assert_eq!(
            uint_element(SEEK_POSITION, 0).unwrap(),
            [0x53, 0xAC, 0x81, 0]
        );
        assert_eq!(uint(&[1, 0]), Some(256));
        assert_eq!(text(b"AB\0\0"), Some("AB".into()));
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(
            crc32_element(b"123456789").unwrap()[2..],
            0xCBF4_3926u32.to_le_bytes()
        );
    }
}
