//! ASF attributes: the descriptors of the Extended Content Description (a u16 count, then per
//! descriptor a u16 name length, the UTF-16LE name, a u16 value type, a u16 value length, the
//! value) and the records of the Metadata and Metadata Library objects (u16 language, u16
//! stream, u16 name length, u16 type, u32 data length, name, data). Type 0 is a UTF-16LE
//! string; names and strings end in a NUL, which readers drop.

use super::super::{RawField, Result};
use crate::bad;
use crate::model::Edit;

/// Value type 0: a Unicode (UTF-16LE) string.
const UNICODE: u16 = 0;

/// One ECD descriptor: its decoded name, type and value, and its bytes as stored (kept verbatim
/// when the edit does not touch it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub name: String,
    pub kind: u16,
    pub value: Vec<u8>,
    pub raw: Vec<u8>,
}

impl Descriptor {
    /// A new string descriptor; the name and value must each fit a u16 length.
    pub fn text(name: &str, value: &str) -> Result<Descriptor> {
        let (n, v) = (utf16z(name), utf16z(value));
        let too_long = |what: &str| bad!(Unsupported, "the ASF attribute {what} is over 64 KiB");
        let n_len = u16::try_from(n.len()).map_err(|_| too_long("name"))?;
        let v_len = u16::try_from(v.len()).map_err(|_| too_long("value"))?;
        let mut raw = Vec::with_capacity(6 + n.len() + v.len());
        raw.extend(n_len.to_le_bytes());
        raw.extend(&n);
        raw.extend(UNICODE.to_le_bytes());
        raw.extend(v_len.to_le_bytes());
        raw.extend(&v);
        Ok(Descriptor {
            name: name.to_string(),
            kind: UNICODE,
            value: v,
            raw,
        })
    }

    /// The descriptor as a text field, for a string one.
    pub fn field(&self) -> Option<RawField> {
        (self.kind == UNICODE).then(|| RawField {
            key: self.name.clone(),
            value: utf16_text(&self.value),
        })
    }
}

/// The descriptors of an ECD object's body (after the object head).
pub fn decode_ecd(body: &[u8]) -> Result<Vec<Descriptor>> {
    let mut r = Reader { b: body, pos: 0 };
    let count = r.u16("descriptor count")?;
    let mut out = Vec::with_capacity(usize::from(count).min(body.len() / 6));
    for _ in 0..count {
        let start = r.pos;
        let n_len = r.u16("descriptor name length")?;
        let name = utf16_text(r.take(usize::from(n_len), "descriptor name")?);
        let kind = r.u16("descriptor value type")?;
        let v_len = r.u16("descriptor value length")?;
        let value = r.take(usize::from(v_len), "descriptor value")?.to_vec();
        out.push(Descriptor {
            name,
            kind,
            value,
            raw: body[start..r.pos].to_vec(),
        });
    }
    if r.pos != body.len() {
        return Err(bad!(
            Corrupt,
            "the ASF Extended Content Description has {} bytes after its descriptors",
            body.len() - r.pos
        ));
    }
    Ok(out)
}

/// An ECD object (head included) holding `descs`.
pub fn encode_ecd(descs: &[Descriptor]) -> Result<Vec<u8>> {
    let count =
        u16::try_from(descs.len()).map_err(|_| bad!(Unsupported, "over 65535 ASF attributes"))?;
    let body_len: usize = 2 + descs.iter().map(|d| d.raw.len()).sum::<usize>();
    let mut out = Vec::with_capacity(24 + body_len);
    out.extend(super::ECD);
    out.extend((24 + body_len as u64).to_le_bytes());
    out.extend(count.to_le_bytes());
    for d in descs {
        out.extend(&d.raw);
    }
    Ok(out)
}

/// `descs` after `edit`: removed names dropped (ASCII case-insensitive, any type), then the
/// set fields appended as strings. False when nothing changed.
pub fn apply(descs: &mut Vec<Descriptor>, edit: &Edit) -> Result<bool> {
    let before = descs.clone();
    descs.retain(|d| !edit.removes(&d.name));
    for (k, v) in &edit.set {
        descs.push(Descriptor::text(k, v)?);
    }
    Ok(*descs != before)
}

/// The string records of a Metadata or Metadata Library object's body, as fields.
pub fn decode_metadata(body: &[u8], place: &str) -> Result<Vec<RawField>> {
    let mut r = Reader { b: body, pos: 0 };
    let count = r.u16(place)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let _language_and_stream = r.take(4, place)?;
        let n_len = r.u16(place)?;
        let kind = r.u16(place)?;
        let d_len = r.u32(place)?;
        let name = utf16_text(r.take(usize::from(n_len), place)?);
        let data = r.take(d_len as usize, place)?;
        if kind == UNICODE {
            out.push(RawField {
                key: name,
                value: utf16_text(data),
            });
        }
    }
    Ok(out)
}

/// UTF-16LE with its terminating NUL.
fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// UTF-16LE text up to the first NUL (an odd last byte ignored, bad surrogates replaced).
pub fn utf16_text(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// A bounds-checked cursor over an object's body.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(bad!(
                Corrupt,
                "ASF attributes: the {what} runs past its object"
            ));
        };
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
