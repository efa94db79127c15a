//! Where helper files go and how the file's times are put back: a journal or temp file lives
//! beside its target (`.<name><suffix>`, shortened for long names), in the same folder and so on
//! the same file system, and a write that must look untouched gets its times restored.

use std::fs::File;
use std::path::{Path, PathBuf};

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
    set_times(f, [(0, libc::UTIME_OMIT), mtime])
        .map_err(|e| FileError::io_write("cannot restore the modification time", &e))
}

/// Sets the file's (atime, mtime) with `futimens`; the ctime cannot be set by anyone.
pub(crate) fn set_times(f: &File, times: [(i64, i64); 2]) -> std::io::Result<()> {
    let times = times.map(|(tv_sec, tv_nsec)| libc::timespec { tv_sec, tv_nsec });
    // SAFETY: a valid fd and a pointer to two initialised timespecs, as futimens requires.
    let rc = unsafe { libc::futimens(std::os::fd::AsRawFd::as_raw_fd(f), times.as_ptr()) };
    match rc {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
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
