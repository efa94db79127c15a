//! The per-file error: a sentence for people (no path; the printer adds it) and a kind for
//! programs. The kind's `code()` is what `--format json`/`jsonl`/`csv` show as `error_code`, so
//! a script can tell a damaged file from a busy one or a permission problem without parsing the
//! sentence. Codes are stable: a new kind may be added, an existing code never changes meaning.
//!
//! `bad!` builds one (`bad!("...")` is `Corrupt`, `bad!(Kind, "...")` any other kind); I/O
//! failures go through `FileError::io_read`/`io_write`, which turn the system's errno into a
//! kind (permission, not-found, a full disk). There is deliberately no `From<io::Error>`: a `?`
//! could not tell a read from a write, so each site says which it was.

use std::fmt;
use std::io;

/// What went wrong with one file, for programs (see `code`). Documented in docs/formats.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The bytes break the container's rules (a bad header, a size pointing nowhere).
    Corrupt,
    /// Well-formed, but uses something noai does not handle (a compressed ID3v2.2 tag, two XMP
    /// packets, a file that is not audio or not a regular file).
    Unsupported,
    /// The file ends before its own structure says it should.
    Truncated,
    /// Another process holds the file's lock (a second `noai tag` on it).
    Busy,
    /// The file changed, was replaced or vanished between the scan and the write.
    Changed,
    /// The system refused access (EACCES, EPERM, a read-only file system) or the file or its
    /// folder has no write permission.
    Permission,
    /// The path does not exist (a wrong path on the command line, a dangling link).
    NotFound,
    /// Reading failed for another reason (EIO, …).
    IoRead,
    /// Writing or syncing failed for another reason (EIO, a full disk or quota, …).
    IoWrite,
    /// noai declined the change because it could not keep everything else as it was: extended
    /// attributes, owner, hard links, a reservation it reads but does not write, a failed
    /// independent check of the new bytes, an undo journal it does not trust.
    Refused,
    /// A fault of noai itself (a panic, a written file that does not verify): please report it.
    Internal,
}

impl ErrorKind {
    /// Every kind, in documentation order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Corrupt,
        ErrorKind::Unsupported,
        ErrorKind::Truncated,
        ErrorKind::Busy,
        ErrorKind::Changed,
        ErrorKind::Permission,
        ErrorKind::NotFound,
        ErrorKind::IoRead,
        ErrorKind::IoWrite,
        ErrorKind::Refused,
        ErrorKind::Internal,
    ];

    /// The stable kebab-case code shown in machine-readable output.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Busy => "busy",
            ErrorKind::Changed => "changed",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not-found",
            ErrorKind::IoRead => "io-read",
            ErrorKind::IoWrite => "io-write",
            ErrorKind::Refused => "refused",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind an I/O error has by its errno, or `fallback` when the errno says nothing more.
    pub fn of_io(e: &io::Error, fallback: ErrorKind) -> ErrorKind {
        match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => ErrorKind::Permission,
            Some(libc::ENOENT) => ErrorKind::NotFound,
            // Only a write can fill a disk or a quota, whichever step met it.
            Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => ErrorKind::IoWrite,
            // Not from the system: a reader (the Ogg page copier) found malformed bytes.
            None if e.kind() == io::ErrorKind::InvalidData => ErrorKind::Corrupt,
            _ => fallback,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A per-file problem: its kind and a short, human-readable sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    kind: ErrorKind,
    message: String,
}

impl FileError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> FileError {
        FileError {
            kind,
            message: message.into(),
        }
    }

    /// A failed read: "`what`: `e`", its kind from the errno (else `IoRead`).
    pub fn io_read(what: &str, e: &io::Error) -> FileError {
        FileError::new(
            ErrorKind::of_io(e, ErrorKind::IoRead),
            format!("{what}: {e}"),
        )
    }

    /// A failed write or sync: "`what`: `e`", its kind from the errno (else `IoWrite`).
    pub fn io_write(what: &str, e: &io::Error) -> FileError {
        FileError::new(
            ErrorKind::of_io(e, ErrorKind::IoWrite),
            format!("{what}: {e}"),
        )
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn into_message(self) -> String {
        self.message
    }

    /// The same problem as another kind: a parse failure inside an independent check of new
    /// bytes is a refusal of the write, not a damaged file.
    pub fn with_kind(self, kind: ErrorKind) -> FileError {
        FileError { kind, ..self }
    }

    /// Met while checking bytes noai is about to write: a parse failure there means the check
    /// failed (the original parsed when it was scanned), so the write is refused; an I/O
    /// failure stays what it is.
    pub fn in_check(self) -> FileError {
        match self.kind {
            ErrorKind::Corrupt | ErrorKind::Truncated | ErrorKind::Unsupported => {
                self.with_kind(ErrorKind::Refused)
            }
            _ => self,
        }
    }

    /// The same kind, the sentence rewritten (`f` gets the old one), for a step that adds
    /// what it was doing.
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> FileError {
        let message = f(&self.message);
        FileError { message, ..self }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileError {}

/// Builds a `FileError` from format arguments: `Corrupt` unless a kind comes first,
/// `bad!(Unsupported, "two XMP packets")`.
macro_rules! bad {
    ($kind:ident, $fmt:literal $($arg:tt)*) => {
        $crate::error::FileError::new($crate::error::ErrorKind::$kind, format!($fmt $($arg)*))
    };
    ($($arg:tt)*) => {
        $crate::error::FileError::new($crate::error::ErrorKind::Corrupt, format!($($arg)*))
    };
}
pub(crate) use bad;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_unique_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            let code = k.code();
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{code}"
            );
            assert_eq!(serde_json::to_value(k).unwrap(), code, "serde of {k:?}");
            assert_eq!(k.to_string(), code);
        }
    }

    #[test]
    fn codes_are_stable() {
        // Scripts depend on these strings: changing one is a breaking change.
        let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(
            codes,
            [
                "corrupt",
                "unsupported",
                "truncated",
                "busy",
                "changed",
                "permission",
                "not-found",
                "io-read",
                "io-write",
                "refused",
                "internal"
            ]
        );
    }

    #[test]
    fn bad_is_corrupt_unless_told() {
        let n = 3;
        let e = bad!("corrupt header {n}");
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Corrupt, "corrupt header 3")
        );
        let e = bad!(Unsupported, "version {}.{}", 2, n);
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Unsupported, "version 2.3")
        );
        assert_eq!(e.to_string(), "version 2.3", "Display is the message alone");
    }

    #[test]
    fn io_errors_take_their_kind_from_the_errno() {
        let os = io::Error::from_raw_os_error;
        for (errno, read, write) in [
            (libc::EACCES, ErrorKind::Permission, ErrorKind::Permission),
            (libc::EPERM, ErrorKind::Permission, ErrorKind::Permission),
            (libc::EROFS, ErrorKind::Permission, ErrorKind::Permission),
            (libc::ENOENT, ErrorKind::NotFound, ErrorKind::NotFound),
            (libc::ENOSPC, ErrorKind::IoWrite, ErrorKind::IoWrite),
            (libc::EDQUOT, ErrorKind::IoWrite, ErrorKind::IoWrite),
            (libc::EIO, ErrorKind::IoRead, ErrorKind::IoWrite),
        ] {
            assert_eq!(FileError::io_read("x", &os(errno)).kind(), read, "{errno}");
            assert_eq!(
                FileError::io_write("x", &os(errno)).kind(),
                write,
                "{errno}"
            );
        }
        let bad_page = io::Error::new(io::ErrorKind::InvalidData, "bad checksum");
        assert_eq!(
            FileError::io_write("x", &bad_page).kind(),
            ErrorKind::Corrupt
        );
        let e = FileError::io_write("write failed", &os(libc::EIO));
        assert_eq!(e.message(), format!("write failed: {}", os(libc::EIO)));
    }

    #[test]
    fn kind_and_message_change_apart() {
        let e = bad!(Truncated, "cut").map_message(|m| format!("before: {m}"));
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Truncated, "before: cut")
        );
        assert_eq!(e.clone().in_check().kind(), ErrorKind::Refused);
        let e = e.with_kind(ErrorKind::Internal);
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Internal, "before: cut")
        );
        let io = FileError::io_read("x", &io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(io.in_check().kind(), ErrorKind::IoRead, "I/O stays I/O");
    }
}
