//! Opening a file a job will read or write: the link resolved (`-L`), no FIFO or device, no
//! access-time update, and for a writing job the cross-process lock, taken on the file the path
//! still names.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// How `open` treats a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenMode {
    /// A writing job: take the file's lock (and recover an undo journal under it); open it
    /// for writing too, so an in-place write needs no second open.
    pub write: bool,
    /// Symbolic links may arrive (`-L`): resolve them to their target.
    pub follow: bool,
    /// Look for an undo journal (not when re-reading a file this run has just written).
    pub journal: bool,
}

/// A file opened (and for a writing job locked) whose bytes are not read yet.
pub(crate) struct Locked {
    pub(super) real: PathBuf,
    pub(super) file: File,
    pub(super) writable: bool,
}

pub(super) fn lock(path: &Path, mode: OpenMode) -> Result<Locked> {
    // A followed link arrives as the link's own path (the walker decided to follow it): work on
    // its target. Without -L the walker yields no links, and O_NOFOLLOW refuses one that
    // appeared since.
    let real = if mode.follow && path.is_symlink() {
        std::fs::canonicalize(path)
            .map_err(|e| FileError::io_read("cannot resolve the link", &e))?
    } else {
        path.to_path_buf()
    };
    // Another run's rewrite renames its temp file over the path, then lets go of its lock on
    // the old file: a lock won on that old file is a lock on a file no longer there, whose
    // write would be refused later as "changed". Open again: the other run is done with it.
    for _ in 0..3 {
        let locked = open_locked(real.clone(), mode)?;
        if !mode.write || still_named(&locked.real, &locked.file)? {
            return Ok(locked);
        }
    }
    Err(bad!(
        Busy,
        "busy: another process keeps replacing this file"
    ))
}

fn open_locked(real: PathBuf, mode: OpenMode) -> Result<Locked> {
    // O_NONBLOCK: a FIFO named `.mp3` must not hang the run.
    let open = |write: bool| open_unseen(&real, write, libc::O_NONBLOCK | libc::O_NOFOLLOW);
    // A file that cannot be opened for writing is still read (and reported read-only later).
    let (file, writable) = match mode.write {
        true => open(true)
            .map(|f| (f, true))
            .or_else(|_| open(false).map(|f| (f, false))),
        false => open(false).map(|f| (f, false)),
    }
    .map_err(|e| FileError::io_read("cannot open", &e))?;
    if !stat(&file)?.is_file() {
        return Err(bad!(Unsupported, "not a regular file"));
    }
    // One writer per file across processes: a second `noai tag` skips a busy file.
    // `try_lock` is `flock(LOCK_EX | LOCK_NB)` on Linux, the lock other noai processes take.
    if mode.write && file.try_lock().is_err() {
        return Err(bad!(Busy, "busy: another process is writing this file"));
    }
    Ok(Locked {
        real,
        file,
        writable,
    })
}

/// Whether `path` still names the opened `file` (same device and inode).
fn still_named(path: &Path, file: &File) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let held = stat(file)?;
    Ok(std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.dev() == held.dev() && m.ino() == held.ino()))
}

/// Opens `path` for reading (and writing) without moving its access time where the kernel
/// allows (`O_NOATIME`: the file's owner, or root). Reading a file's tags is not a use of it:
/// a scan of a catalogue must not mark every file as just accessed, and each access time update
/// is a metadata write the next sync pays for. Any refusal (the kernel's EPERM for someone
/// else's file, or whatever a FUSE or network file system says to the flag) gets an ordinary
/// open, whose error, if any, is the one reported.
pub(crate) fn open_unseen(path: &Path, write: bool, flags: libc::c_int) -> std::io::Result<File> {
    let open = |more| {
        (File::options().read(true).write(write))
            .custom_flags(flags | more)
            .open(path)
    };
    open(libc::O_NOATIME).or_else(|_| open(0))
}

pub(super) fn stat(f: &File) -> Result<std::fs::Metadata> {
    f.metadata()
        .map_err(|e| FileError::io_read("read failed", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_renamed_over_after_opening_is_no_longer_named() {
        let d = tempfile::tempdir().unwrap();
        let (path, other) = (d.path().join("a.flac"), d.path().join("b.flac"));
        std::fs::write(&path, b"old").unwrap();
        std::fs::write(&other, b"new").unwrap();
        let held = File::open(&path).unwrap();
        assert!(still_named(&path, &held).unwrap());
        std::fs::rename(&other, &path).unwrap();
        assert!(!still_named(&path, &held).unwrap());
        std::fs::remove_file(&path).unwrap();
        assert!(!still_named(&path, &held).unwrap());
    }
}
