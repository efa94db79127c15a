//! Keeps reports small: a picture, base64 blob or long text found in a tag is summarised
//! (`<picture, image/png, 102,400 bytes>`, `<binary, 5,000 bytes>`, or the start of the text and
//! its length), and `tag`/`verify`/`report`/`strip` list only the reservation's fields unless
//! `--all-fields`. A catalogue of covers and lyrics would otherwise make gigabytes of JSON.

use crate::units::count as thousands;
use std::borrow::Cow;

use crate::model::Carrier;
use crate::policy::{is_marker, is_spec_key};

/// Values longer than this (in bytes) are summarised.
pub const LONG: usize = 256;
/// How much of a long text is kept (in characters).
const KEEP: usize = 80;

/// The value as reports show it: unchanged when short and textual, else a summary.
pub fn value<'a>(key: &str, v: &'a str) -> Cow<'a, str> {
    if key.eq_ignore_ascii_case("METADATA_BLOCK_PICTURE") || key.eq_ignore_ascii_case("COVERART") {
        return Cow::Owned(picture(v));
    }
    // NUL separates the values of a multi-valued ID3v2.4 frame: text, not binary.
    let binary = v
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\0'));
    if binary {
        Cow::Owned(format!("<binary, {} bytes>", thousands(v.len() as u64)))
    } else {
        text(v)
    }
}

/// A note or other free text: cut to its start and length when long (a note may quote a value).
pub fn text(v: &str) -> Cow<'_, str> {
    if v.len() <= LONG {
        return Cow::Borrowed(v);
    }
    let start: String = v.chars().take(KEEP).collect();
    Cow::Owned(format!(
        "{start}… <text, {} bytes>",
        thousands(v.len() as u64)
    ))
}

/// Shortens the file's notes in place: every output prints them, and one may quote a value.
pub fn notes(r: &mut crate::outcome::FileReport) {
    for n in &mut r.notes {
        if let Cow::Owned(short) = text(n) {
            *n = short;
        }
    }
}

/// The carriers as JSON: every field with `all`, else only the reservation's fields (and the
/// home-made markers the verdict names) and the number left out (`other_fields`); values
/// summarised either way.
pub fn carriers_json(carriers: &[Carrier], all: bool) -> serde_json::Value {
    let list = carriers.iter().map(|c| {
        let shown: Vec<_> = c
            .fields
            .iter()
            .filter(|f| all || is_spec_key(&f.key) || is_marker(&f.key))
            .map(|f| serde_json::json!({ "key": f.key, "value": value(&f.key, &f.value) }))
            .collect();
        let mut o = serde_json::json!({ "kind": c.kind, "fields": shown });
        if !c.notes.is_empty() {
            o["notes"] = c.notes.iter().map(|n| text(n)).collect();
        }
        let other = c.fields.len() - shown.len();
        if other > 0 {
            o["other_fields"] = other.into();
        }
        o
    });
    list.collect()
}

/// A Vorbis `METADATA_BLOCK_PICTURE` (base64 of a FLAC PICTURE block): its MIME type and the
/// size of the image, or the size of what could not be decoded.
fn picture(b64: &str) -> String {
    let parsed = base64(b64.trim()).and_then(|raw| picture_block(&raw));
    match parsed {
        Some((mime, len)) => format!("<picture, {mime}, {} bytes>", thousands(len as u64)),
        None => format!("<binary, {} bytes of base64>", thousands(b64.len() as u64)),
    }
}

/// (MIME type, image length) of a FLAC PICTURE block.
fn picture_block(b: &[u8]) -> Option<(String, usize)> {
    let u32_at = |i: usize| -> Option<usize> {
        let s = b.get(i..i + 4)?;
        Some(u32::from_be_bytes(s.try_into().ok()?) as usize)
    };
    let mime_len = u32_at(4)?;
    let mime = String::from_utf8_lossy(b.get(8..8 + mime_len)?).into_owned();
    let desc_len = u32_at(8 + mime_len)?;
    let data_len = u32_at(8 + mime_len + 4 + desc_len + 16)?;
    let mime = if mime.is_empty() {
        "image".into()
    } else {
        mime
    };
    Some((text(&mime).into_owned(), data_len))
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `v` with every object's keys in sorted order, as our JSON has always been written. The `c2pa`
/// crate turns on serde_json's `preserve_order` for the whole build (cargo unifies features), so
/// maps keep insertion order unless rebuilt sorted here.
pub fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut pairs: Vec<_> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => a.into_iter().map(sorted).collect(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CarrierKind, RawField};

    fn b64(b: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for ch in b.chunks(3) {
            let n = ch
                .iter()
                .enumerate()
                .fold(0u32, |a, (i, &x)| a | u32::from(x) << (16 - 8 * i));
            for i in 0..=ch.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        s
    }

    fn block(mime: &str, data: usize) -> Vec<u8> {
        let mut b = 3u32.to_be_bytes().to_vec();
        b.extend((mime.len() as u32).to_be_bytes());
        b.extend(mime.as_bytes());
        b.extend(4u32.to_be_bytes());
        b.extend(b"desc");
        b.extend([0u8; 16]);
        b.extend((data as u32).to_be_bytes());
        b.extend(vec![0xAB; data]);
        b
    }

    #[test]
    fn pictures_binary_and_long_text_are_summarised() {
        let pic = b64(&block("image/png", 102_400));
        assert_eq!(
            value("metadata_block_picture", &pic),
            "<picture, image/png, 102,400 bytes>"
        );
        assert_eq!(
            value("METADATA_BLOCK_PICTURE", "not base64!"),
            "<binary, 11 bytes of base64>"
        );
        assert_eq!(value("X", "a\u{1}b"), "<binary, 3 bytes>");
        assert_eq!(value("ARTIST", "a\0b"), "a\0b", "ID3v2.4 multi-value");
        let long = "é".repeat(300);
        let v = value("LYRICS", &long);
        assert!(v.starts_with(&"é".repeat(KEEP)), "{v}");
        assert!(v.ends_with("… <text, 600 bytes>"), "{v}");
        assert_eq!(value("TDM-RESERVATION", "1"), "1");
        assert_eq!(value("COMMENT", "two\nlines"), "two\nlines");
    }

    #[test]
    fn sorted_orders_keys_at_every_depth() {
        let v = serde_json::json!({"b": 1, "a": [{"d": 1, "c": 2}]});
        assert_eq!(
            serde_json::to_string(&sorted(v)).unwrap(),
            r#"{"a":[{"c":2,"d":1}],"b":1}"#
        );
    }

    #[test]
    fn other_fields_are_counted_unless_all() {
        let c = Carrier::new(
            CarrierKind::VorbisComment,
            vec![
                RawField {
                    key: "TDM-RESERVATION".into(),
                    value: "1".into(),
                },
                RawField {
                    key: "ARTIST".into(),
                    value: "A".into(),
                },
                RawField {
                    key: "AI_TRAINING_OPT_OUT".into(),
                    value: "yes".into(),
                },
                RawField {
                    key: "LYRICS".into(),
                    value: "x".repeat(1000),
                },
            ],
        );
        let v = carriers_json(std::slice::from_ref(&c), false);
        assert_eq!(v[0]["fields"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v[0]["fields"][1]["key"], "AI_TRAINING_OPT_OUT", "{v}");
        assert_eq!(v[0]["other_fields"], 2, "{v}");
        let v = carriers_json(&[c], true);
        assert_eq!(v[0]["fields"].as_array().unwrap().len(), 4, "{v}");
        assert!(v[0].get("other_fields").is_none());
        assert!(v.to_string().len() < 300, "{v}");
    }
}
