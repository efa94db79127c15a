//! Freeform `----` atoms of an `ilst`: reading one (mean, name, text values) and building ours
//! the way iTunes writes them. Only mean `com.apple.iTunes` carries the reservation (SPEC §3).

use super::boxes::{Bytes, children, header, make, slice};
use crate::formats::Result;

/// The name and text values of one `----` atom.
pub(super) struct Freeform {
    pub(super) mean: Option<String>,
    pub(super) name: Option<String>,
    pub(super) values: Vec<String>,
}

/// The only freeform namespace that carries the reservation (SPEC §3); atoms under any other
/// mean belong to someone else and are never read, replaced or removed as ours.
pub(super) const ITUNES_MEAN: &str = "com.apple.iTunes";

impl Freeform {
    /// Parses a whole `----` atom. A missing or non-UTF-8 name and non-text data are skipped (they
    /// cannot be ours); broken sub-atom sizes are errors.
    pub(super) fn parse(atom: &[u8]) -> Result<Freeform> {
        let h = header(atom, 0, atom.size(), false)?;
        let mut ff = Freeform {
            mean: None,
            name: None,
            values: Vec::new(),
        };
        let text = |body: &[u8]| {
            // After 4 bytes of version/flags.
            body.get(4..)
                .and_then(|s| std::str::from_utf8(s).ok())
                .map(str::to_owned)
        };
        for k in children(atom, h.body(), h.end(), false)? {
            let body = slice(atom, k.body()..k.end(), "freeform sub-atom")?;
            if k.is(b"mean") && ff.mean.is_none() {
                ff.mean = text(body);
            } else if k.is(b"name") && ff.name.is_none() {
                ff.name = text(body);
            } else if k.is(b"data") && body.len() >= 8 {
                // 1 byte version, 3 bytes type, 4 bytes locale, then the value.
                let value = &body[8..];
                match u32::from_be_bytes([0, body[1], body[2], body[3]]) {
                    1 => ff.values.push(String::from_utf8_lossy(value).into_owned()),
                    // Type 0 ("implicit") holds text for some taggers; accept it only when UTF-8.
                    0 => ff
                        .values
                        .extend(std::str::from_utf8(value).ok().map(str::to_owned)),
                    _ => {}
                }
            }
        }
        Ok(ff)
    }

    pub(super) fn is_itunes(&self) -> bool {
        self.mean.as_deref() == Some(ITUNES_MEAN)
    }
}

/// A new freeform atom as iTunes writes it: mean, name, then `data` of type 1 (UTF-8), locale 0.
pub(super) fn freeform(key: &str, value: &str) -> Result<Vec<u8>> {
    let mean = make(b"mean", &[&[0; 4], ITUNES_MEAN.as_bytes()])?;
    let name = make(b"name", &[&[0; 4], key.as_bytes()])?;
    let data = make(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0], value.as_bytes()])?;
    make(b"----", &[&mean, &name, &data])
}
