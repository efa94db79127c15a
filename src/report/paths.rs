//! Paths (and free text) in output: escaped for terminals (control characters and invalid UTF-8
//! can neither inject escape sequences nor be lost), and lossless in JSON (`path` plus `path_hex` when the
//! name is not valid UTF-8 — see docs/json.md).

use std::borrow::Cow;
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

/// Free text for a terminal (a message, a note, a tag's key or value, which may come from a
/// file's bytes): control characters other than tab (and newline with `lines`) as `\u{…}`, as in
/// `display`, so no text can move the cursor, retitle the window or overwrite a line.
pub fn terminal(s: &str, lines: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\t' && !(lines && c == '\n');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The path as plain text for formats that cannot escape bytes (XML, workflow commands):
/// invalid UTF-8 and control characters other than tab, newline and carriage return become
/// U+FFFD. The second value is `hex_bytes` when the text is not exactly the name.
pub fn text(p: &Path) -> (String, Option<String>) {
    let lossy = p.to_string_lossy();
    let text = plain(&lossy);
    let exact = matches!((&lossy, &text), (Cow::Borrowed(_), Cow::Borrowed(_)));
    (text.into_owned(), (!exact).then(|| hex_bytes(p)))
}

/// Text without control characters other than tab, newline and carriage return (XML 1.0 cannot
/// carry them even escaped, and a log viewer may act on them): each becomes U+FFFD.
pub fn plain(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if bad(c) { '\u{fffd}' } else { c })
            .collect(),
    )
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
        assert_eq!(text(Path::new("a\tb\n.mp3")), ("a\tb\n.mp3".into(), None));
        assert_eq!(plain("a<b>&\"'\t\r\n"), "a<b>&\"'\t\r\n");
        assert_eq!(plain("a\x1b[0m\x00"), "a\u{fffd}[0m\u{fffd}");
        let (t, h) = text(p);
        assert_eq!(t, "a\u{fffd}[31mred\n\u{fffd}.mp3");
        assert_eq!(h.unwrap(), "611b5b33316d7265640ae92e6d7033");
    }

    #[test]
    fn terminal_text_has_no_control_characters() {
        let s = "k\x1b]0;t\x07\r\u{9b}2J\t\\n\n";
        assert_eq!(
            terminal(s, false),
            "k\\u{1b}]0;t\\u{7}\\u{d}\\u{9b}2J\t\\n\\u{a}"
        );
        assert_eq!(
            terminal(s, true),
            "k\\u{1b}]0;t\\u{7}\\u{d}\\u{9b}2J\t\\n\n"
        );
        assert!(matches!(
            terminal("plain \"q\" \\ ♪", false),
            Cow::Borrowed(_)
        ));
    }
}
