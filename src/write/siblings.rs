//! Where helper files go and how the file's times are put back: a journal or temp file lives
//! beside its target (`.<name><suffix>`, shortened for long names), in the same folder and so on
//! the same file system, and a write that must look untouched gets its times restored.

use std::fs::{File, FileTimes};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::FileError;
use crate::formats::Result;

/// The folder a file is in (`.` for a bare name).
pub(crate) fn parent_dir(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Sets the file's modification time (access time is left alone).
pub(crate) fn set_mtime(f: &File, mtime: (i64, i64)) -> Result<()> {
    f.set_times(FileTimes::new().set_modified(system_time(mtime)))
        .map_err(|e| FileError::io_write("cannot restore the modification time", &e))
}

/// Sets the file's (atime, mtime), as `futimens` does; the ctime cannot be set by anyone.
pub(crate) fn set_times(f: &File, [atime, mtime]: [(i64, i64); 2]) -> std::io::Result<()> {
    let times = FileTimes::new()
        .set_accessed(system_time(atime))
        .set_modified(system_time(mtime));
    f.set_times(times)
}

/// A (seconds, nanoseconds) time as `stat` gives it; the seconds may be before 1970, the
/// nanoseconds are always a positive part of a second.
fn system_time((sec, nsec): (i64, i64)) -> SystemTime {
    let whole = Duration::from_secs(sec.unsigned_abs());
    let base = match sec < 0 {
        true => UNIX_EPOCH - whole,
        false => UNIX_EPOCH + whole,
    };
    base + Duration::from_nanos(nsec.clamp(0, 999_999_999) as u64)
}

/// The path of a helper file beside `target`: `.<name><suffix>`, or for a name too long for
/// that, `.<first 120 bytes>~<hash><suffix>` so it stays within the 255-byte name limit.
pub(crate) fn sibling(target: &Path, suffix: &str) -> PathBuf {
    use sha2::Digest;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = target.file_name().unwrap_or_default().as_bytes();
    let mut out = b".".to_vec();
    if 1 + name.len() + suffix.len() <= 255 {
        out.extend_from_slice(name);
    } else {
        out.extend_from_slice(&name[..120]);
        let hash = sha2::Sha256::digest(name);
        out.push(b'~');
        out.extend(
            hash[..8]
                .iter()
                .flat_map(|b| format!("{b:02x}").into_bytes()),
        );
    }
    out.extend_from_slice(suffix.as_bytes());
    target.with_file_name(std::ffi::OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn times_before_and_after_1970_read_back_exactly() {
        let f = tempfile::tempfile().unwrap();
        for (atime, mtime) in [
            ((1, 2), (1_700_000_000, 999_999_999)),
            ((-5, 7), (-86_401, 1)),
        ] {
            set_times(&f, [atime, mtime]).unwrap();
            let m = f.metadata().unwrap();
            assert_eq!((m.atime(), m.atime_nsec()), atime);
            assert_eq!((m.mtime(), m.mtime_nsec()), mtime);
        }
        set_mtime(&f, (42, 43)).unwrap();
        let m = f.metadata().unwrap();
        assert_eq!((m.mtime(), m.mtime_nsec()), (42, 43));
        assert_eq!(
            (m.atime(), m.atime_nsec()),
            (-5, 7),
            "the access time is left alone"
        );
    }
}
