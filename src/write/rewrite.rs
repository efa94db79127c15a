//! The rewrite strategy: a temp sibling `.<name>.noai-<pid>.tmp` created with `O_EXCL`, filled
//! from the plan (unchanged ranges cloned where the file system shares extents, `clone`, else
//! copied with `copy_file_range` via `io::copy`), verified and
//! given the original's owner, extended attributes and mode (`attrs`), or refused. The batch
//! syncs it before `Staged::apply` renames it over the original. Any failure removes the temp
//! file and leaves the original as it was.

use std::fs::{File, OpenOptions};

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Options, Target, attrs, clone, extents, flags, set_mtime};
use crate::bad;
use crate::error::FileError;
use crate::formats::{self, Part, Result, Source};
use crate::model::{Edit, Scan};

const TEMP_MARK: &str = ".noai-";
const TEMP_SUFFIX: &str = ".tmp";

pub(super) fn temp_path(target: &Path) -> PathBuf {
    super::sibling(
        target,
        &format!("{TEMP_MARK}{}{TEMP_SUFFIX}", std::process::id()),
    )
}

/// Creates the temp file beside `target` (new, mode 600, never through a symlink): its path and
/// handle, for reading back as well as writing. Reading it back (the proofs) leaves its access
/// time alone where the kernel allows (`O_NOATIME`), so that read costs no metadata write.
pub(super) fn create_temp(target: &Path) -> Result<(PathBuf, File)> {
    let tmp = temp_path(target);
    let out = OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .map_err(|e| FileError::io_write("cannot create a temp file beside it", &e))?;
    // Set after the open, not in it: an open that creates the file and then fails the owner
    // check (a squashed owner on NFS) would leave the file behind. A refusal here changes
    // nothing but the access time.
    no_atime(&out);
    Ok((tmp, out))
}

/// Asks the kernel not to update `f`'s access time on reads; allowed to its owner (and root).
fn no_atime(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a valid descriptor; F_GETFL/F_SETFL only read and set its status flags.
    unsafe {
        let flags = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(f.as_raw_fd(), libc::F_SETFL, flags | libc::O_NOATIME);
        }
    }
}

/// The pid in one of our temp names (`.<name>.noai-<pid>.tmp`), if it is one.
fn temp_pid(name: &std::ffi::OsStr) -> Option<i32> {
    let b = name.as_bytes();
    let stem = b.strip_prefix(b".")?.strip_suffix(TEMP_SUFFIX.as_bytes())?;
    let mark = stem
        .windows(TEMP_MARK.len())
        .rposition(|w| w == TEMP_MARK.as_bytes())?;
    std::str::from_utf8(&stem[mark + TEMP_MARK.len()..])
        .ok()?
        .parse()
        .ok()
}

pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    temp_pid(name).is_some()
}

/// Removes a temp file left by a run that was killed; one whose process still runs is kept.
pub fn remove_stale_temp(path: &Path) -> Result<bool> {
    let Some(pid) = path.file_name().and_then(temp_pid) else {
        return Ok(false);
    };
    // A journal's temp file is locked by its writer: that says whether it is still at work
    // (a pid may be reused, even by this run); a rewrite's temp file has only its pid.
    let journal_temp = (path.file_name()).is_some_and(|n| {
        n.as_encoded_bytes()
            .starts_with(super::bundle::TEMP_PREFIX.as_bytes())
    });
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let alive = match journal_temp {
        true => (OpenOptions::new().read(true))
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_or(true, |f| f.try_lock().is_err()),
        false => pid == std::process::id() as i32 || unsafe { libc::kill(pid, 0) } == 0,
    };
    if alive {
        return Ok(false);
    }
    std::fs::remove_file(path)
        .map_err(|e| FileError::io_write("cannot remove stale temp file", &e))?;
    Ok(true)
}

/// What `stage` left: the verified temp file, its length and how many of its bytes were
/// cloned from the original or left as holes rather than written.
pub struct Temp {
    pub path: PathBuf,
    pub len: u64,
    pub cloned: u64,
    pub holes: u64,
    /// The new file as our own reader read it from the temp file; `None` for a signing.
    pub after: Option<Scan>,
}

/// Writes and verifies the temp file. Not synced (the batch's
/// `sync` does that before any rename) and not renamed; on error nothing is left behind.
pub fn stage(t: &Target, parts: &[Part], edit: &Edit, opts: Options) -> Result<Temp> {
    if t.snapshot.nlink > 1 {
        return Err(bad!(
            Refused,
            "the file has {} hard links and this change needs a rewrite, which would split them; not changed",
            t.snapshot.nlink
        ));
    }
    let (tmp, out) = create_temp(t.path)?;
    match fill_and_verify(t, &out, parts, edit, opts) {
        Ok((len, (cloned, holes), after)) => Ok(Temp {
            path: tmp,
            len,
            cloned,
            holes,
            after: Some(after),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn fill_and_verify(
    t: &Target,
    out: &File,
    parts: &[Part],
    edit: &Edit,
    opts: Options,
) -> Result<(u64, (u64, u64), Scan)> {
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    attrs::take_owner(t, out)?;
    flags::carry(t.file, out)?;
    let orig = clone::Original {
        file: t.file,
        dev: t.snapshot.dev,
        len: t.snapshot.size,
    };
    let filled = clone::write_parts(orig, parts, out)?;
    #[cfg(debug_assertions)]
    extents::test_scribble(out, &filled.shared).map_err(io)?;
    let len = out.metadata().map_err(io)?.len();
    let after = verify(t, out, len, edit, &filled.shared)?;
    attrs::carry(t, out)?;
    if opts.preserve_mtime {
        set_mtime(out, t.snapshot.mtime)?;
    }
    Ok((len, (filled.cloned, filled.holes), after))
}

/// The new file must be the same container, with the same audio payload, and carry the edit;
/// returns it as our reader reads it. The payload is compared byte by byte but where the block
/// maps prove a cloned range is on the original's very blocks (`extents`).
fn verify(t: &Target, out: &File, len: u64, edit: &Edit, shared: &[clone::Shared]) -> Result<Scan> {
    let old_src = Source::new(t.file, t.snapshot.size);
    let new_src = Source::new(out, len);
    super::same_container(&new_src, t.container)?;
    let kept = formats::payload(&new_src, t.container).map_err(FileError::in_check)?;
    let proven = extents::proven(t.file, out, shared);
    let left = extents::split(t.payload, &kept, &proven, shared, len);
    if !formats::same_bytes(&old_src, &left.old, &new_src, &left.new)? {
        return Err(bad!(
            Refused,
            "internal check: the audio data would change; not written"
        ));
    }
    super::proof::rewrite(t, out, len, edit, left.tail)?;
    super::judge(&new_src, t.container, edit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_round_trip() {
        let p = temp_path(Path::new("/x/My Song.flac"));
        let name = p.file_name().unwrap();
        assert!(is_temp_name(name));
        assert_eq!(temp_pid(name), Some(std::process::id() as i32));
        assert!(!is_temp_name(std::ffi::OsStr::new("song.tmp")));
        assert!(!is_temp_name(std::ffi::OsStr::new(".song.noai-x.tmp")));
    }
}
