//! The APEv2 tag as bytes: decode the items (kept as raw bytes, so the ones we do not touch are
//! re-encoded byte-identically), apply an `Edit` to its UTF-8 text items, encode header + items +
//! footer. Pure byte handling, no I/O; `apev2` finds the tag in the file.

use crate::bad;
use crate::formats::{Edit, RawField, Result};

/// Header and footer are 32 bytes each.
pub const FRAME: usize = 32;
/// The tag's signature, at the start of its header and of its footer.
pub const MAGIC: &[u8; 8] = b"APETAGEX";
/// `version` of an APEv2 tag; 1000 is APEv1 (footer only, text items only).
pub const V2: u32 = 2000;
pub const V1: u32 = 1000;
/// Tag flags: the tag has a header; this 32-byte frame is the header; the tag is read-only.
const HAS_HEADER: u32 = 1 << 31;
const IS_HEADER: u32 = 1 << 29;
const READ_ONLY: u32 = 1;
/// The smallest item: value size, flags, a 2-character key and its NUL.
const MIN_ITEM: usize = 4 + 4 + 2 + 1;

/// The 32-byte footer (or header) of a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    pub version: u32,
    /// Bytes of the items and the footer (not the header).
    pub size: u32,
    pub count: u32,
    pub flags: u32,
}

impl Footer {
    /// The frame in `b` (32 bytes), if it carries the signature.
    pub fn parse(b: &[u8]) -> Option<Footer> {
        if b.len() != FRAME || &b[..8] != MAGIC {
            return None;
        }
        Some(Footer {
            version: le(&b[8..]),
            size: le(&b[12..]),
            count: le(&b[16..]),
            flags: le(&b[20..]),
        })
    }

    pub fn has_header(&self) -> bool {
        self.flags & HAS_HEADER != 0
    }

    pub fn read_only(&self) -> bool {
        self.flags & READ_ONLY != 0
    }

    /// The whole tag's length: header (if any), items and footer.
    pub fn tag_len(&self) -> u64 {
        u64::from(self.size) + if self.has_header() { FRAME as u64 } else { 0 }
    }
}

/// One item exactly as stored: its flags, key and value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub flags: u32,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

impl Item {
    /// Item type 0 (bits 1–2 of the flags): UTF-8 text. 1 is binary (cover art), 2 a locator.
    pub fn is_text(&self) -> bool {
        (self.flags >> 1) & 3 == 0
    }

    /// The key as text: keys are ASCII 0x20–0x7E, checked when the tag is decoded.
    pub fn key_str(&self) -> &str {
        std::str::from_utf8(&self.key).unwrap_or_default()
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.value.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.key);
        out.push(0);
        out.extend_from_slice(&self.value);
    }
}

/// A decoded tag: its footer and its items in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub footer: Footer,
    pub items: Vec<Item>,
}

impl Tag {
    /// Decodes the items region (`footer.size - 32` bytes, between header and footer). Every
    /// byte must belong to one of the `count` items: bytes we cannot explain refuse the tag.
    pub fn decode(footer: Footer, data: &[u8]) -> Result<Tag> {
        let count = footer.count as usize;
        if count > data.len() / MIN_ITEM {
            return Err(bad!(
                "corrupt APE tag: {count} items claimed in {} bytes",
                data.len()
            ));
        }
        let mut items = Vec::with_capacity(count);
        let mut pos = 0usize;
        for n in 0..count {
            let item = take_item(data, &mut pos).ok_or_else(|| {
                bad!(
                    "corrupt APE tag: item {} of {count} runs past the tag",
                    n + 1
                )
            })?;
            items.push(item);
        }
        if pos != data.len() {
            return Err(bad!(
                "corrupt APE tag: {} bytes after its last item that belong to no item",
                data.len() - pos
            ));
        }
        Ok(Tag { footer, items })
    }

    /// The text items as fields (values lossy only for display; several values of one item
    /// are NUL-separated, as stored).
    pub fn fields(&self) -> Vec<RawField> {
        self.items
            .iter()
            .filter(|i| i.is_text())
            .map(|i| RawField {
                key: i.key_str().to_string(),
                value: String::from_utf8_lossy(&i.value).into_owned(),
            })
            .collect()
    }

    /// Applies `edit`: drops the text items whose key is removed (keys are case-insensitive in
    /// APEv2), appends ours as UTF-8 text items. An item of another type under one of our keys
    /// is refused: APEv2 keys are unique, and it is not ours to remove. False when nothing
    /// changed.
    pub fn apply(&mut self, edit: &Edit) -> Result<bool> {
        if let Some(i) = self.items.iter().find(|i| !i.is_text() && owns(edit, i)) {
            return Err(bad!(
                Unsupported,
                "the APE tag holds a binary or locator item named {:?}: not ours to replace; not written",
                i.key_str()
            ));
        }
        let before = self.items.len();
        self.items.retain(|i| !edit.removes(i.key_str()));
        let removed = self.items.len() != before;
        for (k, v) in &edit.set {
            self.items.push(Item {
                flags: 0,
                key: k.as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            });
        }
        Ok(removed || !edit.set.is_empty())
    }

    /// The whole tag as APEv2: header, items, footer.
    pub fn encode(&self) -> Vec<u8> {
        let mut items = Vec::new();
        for i in &self.items {
            i.encode_into(&mut items);
        }
        let size = (items.len() + FRAME) as u32;
        let count = self.items.len() as u32;
        let mut out = Vec::with_capacity(items.len() + 2 * FRAME);
        frame(&mut out, size, count, HAS_HEADER | IS_HEADER);
        out.extend_from_slice(&items);
        frame(&mut out, size, count, HAS_HEADER);
        out
    }
}

/// An empty APEv2 tag to add items to.
pub fn empty() -> Tag {
    Tag {
        footer: Footer {
            version: V2,
            size: FRAME as u32,
            count: 0,
            flags: HAS_HEADER,
        },
        items: Vec::new(),
    }
}

fn owns(edit: &Edit, i: &Item) -> bool {
    let k = i.key_str();
    edit.removes(k) || edit.set.iter().any(|(s, _)| s.eq_ignore_ascii_case(k))
}

fn frame(out: &mut Vec<u8>, size: u32, count: u32, flags: u32) {
    out.extend_from_slice(MAGIC);
    for v in [V2, size, count, flags] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[0; 8]);
}

fn take_item(data: &[u8], pos: &mut usize) -> Option<Item> {
    let rest = data.get(*pos..)?;
    let len = le(rest.get(..4)?) as usize;
    let flags = le(rest.get(4..8)?);
    // A key is 2–255 printable ASCII characters and ends in a NUL.
    let key_len = rest.get(8..)?.iter().take(256).position(|&c| c == 0)?;
    let key = &rest[8..8 + key_len];
    if key_len < 2 || key.iter().any(|&c| !(0x20..=0x7E).contains(&c)) {
        return None;
    }
    let start = 8 + key_len + 1;
    let value = rest.get(start..start.checked_add(len)?)?;
    *pos += start + len;
    Some(Item {
        flags,
        key: key.to_vec(),
        value: value.to_vec(),
    })
}

fn le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
