//! ID3v2 frame bodies: undoing per-frame transformations, decoding and encoding the text of
//! `TXXX` frames, and encoding `PRIV` frames (the XMP carrier). No tag-level logic here.

use super::{
    F23_COMPRESSED, F23_ENCRYPTED, F23_GROUP, F24_COMPRESSED, F24_DLI, F24_ENCRYPTED, F24_GROUP,
    F24_UNSYNC, Sizes, to_syncsafe,
};
use crate::bad;
use crate::formats::{RawField, Result};

pub(super) fn unsync_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = 0u8;
    for &b in data {
        if !(prev == 0xFF && b == 0x00) {
            out.push(b);
        }
        prev = b;
    }
    out
}

pub(super) fn unsync_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    for (i, &b) in data.iter().enumerate() {
        out.push(b);
        let next = data.get(i + 1).copied();
        if b == 0xFF && next.is_none_or(|n| n == 0 || n & 0xE0 == 0xE0) {
            out.push(0);
        }
    }
    out
}

/// Undoes per-frame transformations we can undo (grouping byte, DLI, unsync); compressed or
/// encrypted user text frames are refused, since we could not tell whose key they hold.
pub(super) fn frame_body(major: u8, flags: u16, mut body: Vec<u8>) -> Result<Vec<u8>> {
    let (compressed, encrypted, group) = if major == 3 {
        (F23_COMPRESSED, F23_ENCRYPTED, F23_GROUP)
    } else {
        (F24_COMPRESSED, F24_ENCRYPTED, F24_GROUP)
    };
    if flags & (compressed | encrypted) != 0 {
        return Err(bad!(
            Unsupported,
            "compressed or encrypted TXXX frame: not supported"
        ));
    }
    let mut skip = if flags & group != 0 { 1 } else { 0 };
    if major == 4 {
        if flags & F24_DLI != 0 {
            skip += 4;
        }
        if flags & F24_UNSYNC != 0 {
            body = unsync_decode(&body);
        }
    }
    if skip > body.len() {
        return Err(bad!("corrupt TXXX frame"));
    }
    body.drain(..skip);
    Ok(body)
}

pub(super) fn decode_user_text(body: &[u8]) -> Result<RawField> {
    let (&enc, rest) = body.split_first().ok_or_else(|| bad!("empty TXXX frame"))?;
    let wide = matches!(enc, 1 | 2);
    let split = if wide {
        rest.chunks_exact(2)
            .position(|c| c == [0, 0])
            .map(|i| (i * 2, i * 2 + 2))
    } else {
        rest.iter().position(|&b| b == 0).map(|i| (i, i + 1))
    };
    let (desc, value) = match split {
        Some((end, next)) => (&rest[..end], &rest[next..]),
        None => (rest, &[][..]),
    };
    let text = |b: &[u8]| decode_text(enc, b).map(|s| s.trim_end_matches('\0').to_string());
    Ok(RawField {
        key: text(desc)?,
        value: text(value)?,
    })
}

fn decode_text(enc: u8, b: &[u8]) -> Result<String> {
    match enc {
        0 => Ok(b.iter().map(|&c| c as char).collect()),
        3 => String::from_utf8(b.to_vec()).map_err(|_| bad!("TXXX text is not valid UTF-8")),
        1 | 2 => {
            let (le, data) = match b {
                [0xFF, 0xFE, r @ ..] => (true, r),
                [0xFE, 0xFF, r @ ..] => (false, r),
                _ => (false, b),
            };
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| {
                    if le {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16(&units).map_err(|_| bad!("TXXX text is not valid UTF-16"))
        }
        _ => Err(bad!("TXXX frame with unknown text encoding {enc}")),
    }
}

/// How new frames are written to fit the tag they join: its version, whether a v2.4 tag is
/// flagged unsynchronised (then the frame is too), and its frame size convention.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub major: u8,
    pub unsync: bool,
    pub sizes: Sizes,
}

/// One user text frame. ASCII text is ISO-8859-1; other text is UTF-16 with BOM (v2.2/2.3) or
/// UTF-8 (v2.4).
pub(super) fn encode_user_text(style: Style, key: &str, value: &str) -> Vec<u8> {
    let mut body = Vec::new();
    if key.is_ascii() && value.is_ascii() {
        body.push(0);
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
    } else if style.major == 4 {
        body.push(3);
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
    } else {
        body.push(1);
        for (i, s) in [key, value].iter().enumerate() {
            body.extend_from_slice(&[0xFF, 0xFE]);
            body.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            if i == 0 {
                body.extend_from_slice(&[0, 0]);
            }
        }
    }
    frame(style, b"TXXX", body)
}

/// A frame header in `style` with `body` following.
pub(super) fn frame(style: Style, id: &[u8; 4], body: Vec<u8>) -> Vec<u8> {
    let (body, flags) = if style.unsync {
        (unsync_encode(&body), F24_UNSYNC)
    } else {
        (body, 0)
    };
    let n = body.len() as u32;
    let mut out = Vec::with_capacity(body.len() + 10);
    match style.major {
        2 => {
            out.extend_from_slice(match id {
                b"TXXX" => b"TXX",
                _ => b"PRV",
            });
            out.extend_from_slice(&n.to_be_bytes()[1..]);
        }
        3 => {
            out.extend_from_slice(id);
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        _ => {
            out.extend_from_slice(id);
            out.extend_from_slice(&match style.sizes {
                Sizes::Syncsafe => to_syncsafe(n),
                Sizes::Plain => n.to_be_bytes(),
            });
            out.extend_from_slice(&flags.to_be_bytes());
        }
    }
    out.extend_from_slice(&body);
    out
}

/// A `PRIV` frame with owner `XMP` holding `packet` (SPEC §3.1).
pub(super) fn encode_xmp(style: Style, packet: &[u8]) -> Vec<u8> {
    let mut body = b"XMP\0".to_vec();
    body.extend_from_slice(packet);
    frame(style, b"PRIV", body)
}
