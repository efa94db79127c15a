//! Paths in output: escaped for terminals (control characters and invalid UTF-8 can neither
//! inject escape sequences nor be lost), and lossless in JSON (`path` plus `path_hex` when the
//! name is not valid UTF-8 — see docs/json.md).

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The path for a terminal: printable UTF-8 as is, everything else as `\xNN` / `\u{…}` escapes.
pub fn display(p: &Path) -> String {
    let bytes = p.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Serialises a path as its UTF-8 text, with invalid bytes replaced by U+FFFD (see `hex`).
pub fn serialize<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// The raw bytes of a path in hex, for names that are not valid UTF-8.
pub fn hex(p: &Path) -> Option<String> {
    let b = p.as_os_str().as_bytes();
    if std::str::from_utf8(b).is_ok() {
        return None;
    }
    Some(hex_bytes(p))
}

/// The raw bytes of any path in hex (`hex` gives it only for names that are not valid UTF-8).
pub fn hex_bytes(p: &Path) -> String {
    p.as_os_str()
        .as_bytes()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn escapes_control_and_invalid_bytes() {
        let p = Path::new(OsStr::from_bytes(b"a\x1b[31mred\n\xe9.mp3"));
        assert_eq!(display(p), "a\\u{1b}[31mred\\u{a}\\xe9.mp3");
        assert_eq!(hex(p).unwrap(), "611b5b33316d7265640ae92e6d7033");
        assert_eq!(hex(Path::new("Café.mp3")), None);
    }
}
