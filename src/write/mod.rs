//! The only code that modifies user files. Two strategies, both crash-safe:
//! - in place, when the new metadata has exactly the old region's length: the old region is
//!   saved to an undo journal first (fsynced), then one positioned write + fdatasync; a torn
//!   write is rolled back by `recover` on the next run;
//! - otherwise a temp sibling (`O_EXCL`) is written, fsynced, verified (same container, audio
//!   payload hash equal, our fields readable) and renamed over the original.
//!
//! Before either, the file must still be the one that was scanned (same inode, size, mtime).

mod journal;
mod rewrite;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::bad;
use crate::formats::{self, Container, Edit, FormatError, Plan, Result};

pub use journal::{JOURNAL_SUFFIX, is_journal_name, recover, target_of as journal_target};
pub use rewrite::{is_temp_name, remove_stale_temp};

/// The identity and state of a file when it was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
}

impl Snapshot {
    pub fn of(meta: &std::fs::Metadata) -> Snapshot {
        Snapshot {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            mode: meta.mode(),
            nlink: meta.nlink(),
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }

    /// Errors unless the file at `path` is still this one, unchanged.
    fn check_unchanged(&self, path: &Path) -> Result<()> {
        let now =
            std::fs::symlink_metadata(path).map_err(|e| bad!("cannot stat before writing: {e}"))?;
        let now = Snapshot::of(&now);
        if (now.dev, now.ino, now.size, now.mtime) != (self.dev, self.ino, self.size, self.mtime) {
            return Err(bad!(
                "the file changed while it was being processed; not written (run again)"
            ));
        }
        Ok(())
    }
}

/// How a write was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    InPlace,
    Rewrite,
}

/// What a write did: the strategy and how many bytes it wrote to the file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub strategy: Strategy,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Give the file back its modification time after the write.
    pub preserve_mtime: bool,
}

/// Everything the writer needs about the scanned original.
pub struct Target<'a> {
    pub path: &'a Path,
    pub file: &'a File,
    pub snapshot: Snapshot,
    pub container: Container,
}

/// Carries out `plan` on the target; on success the file holds `edit` and its audio payload is
/// unchanged, on failure it is as it was.
pub fn apply(t: &Target, plan: Plan, edit: &Edit, opts: Options) -> Result<Written> {
    if t.snapshot.mode & 0o222 == 0 {
        return Err(bad!(
            "read-only file (mode {:o}): not changed",
            t.snapshot.mode & 0o7777
        ));
    }
    // Both strategies create a file beside the target (undo journal or temp file); a folder
    // without write permission is refused by its mode, so root behaves like everyone else.
    let dir = t
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir_mode = std::fs::metadata(dir)
        .map_err(|e| bad!("cannot stat its folder: {e}"))?
        .mode();
    if dir_mode & 0o222 == 0 {
        return Err(bad!(
            "read-only folder (mode {:o}): noai needs to create its undo or temp file beside the file; not changed",
            dir_mode & 0o7777
        ));
    }
    match plan {
        Plan::InPlace { offset, bytes } => in_place(t, offset, &bytes, opts),
        Plan::Rewrite { parts } => rewrite::run(t, &parts, edit, opts),
    }
}

fn in_place(t: &Target, offset: u64, bytes: &[u8], opts: Options) -> Result<Written> {
    let src = formats::Source::new(t.file, t.snapshot.size);
    let end = offset + bytes.len() as u64;
    if end > t.snapshot.size {
        return Err(bad!(
            "internal check: in-place write past the end of the file; not written"
        ));
    }
    for r in formats::payload(&src, t.container)? {
        if offset < r.end && r.start < end {
            return Err(bad!(
                "internal check: in-place write would touch audio data; not written"
            ));
        }
    }
    let old = src.read(offset, bytes.len() as u64, "metadata region")?;
    let out = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(t.path)
        .map_err(|e| bad!("cannot open for writing: {e}"))?;
    let same = Snapshot::of(&out.metadata()?);
    if (same.dev, same.ino) != (t.snapshot.dev, t.snapshot.ino) {
        return Err(bad!(
            "the file was replaced while it was being processed; not written"
        ));
    }
    t.snapshot.check_unchanged(t.path)?;
    let journal = journal::Journal::create(t.path, &t.snapshot, offset, &old, bytes)?;
    let result = write_region(&out, offset, bytes, &t.snapshot, opts);
    match result {
        Ok(()) => {
            journal.finish();
            Ok(Written {
                strategy: Strategy::InPlace,
                bytes: bytes.len() as u64,
            })
        }
        Err(e) => {
            // Put the old bytes back now rather than at the next run.
            let restored = out.write_all_at(&old, offset).and_then(|_| out.sync_data());
            if restored.is_ok() {
                journal.finish();
            }
            Err(e)
        }
    }
}

fn write_region(
    out: &File,
    offset: u64,
    bytes: &[u8],
    snap: &Snapshot,
    opts: Options,
) -> Result<()> {
    let io = |e: std::io::Error| FormatError(format!("write failed: {e}"));
    out.write_all_at(bytes, offset).map_err(io)?;
    if opts.preserve_mtime {
        set_mtime(out, snap.mtime)?;
    }
    out.sync_data().map_err(io)?;
    let mut check = vec![0u8; bytes.len()];
    out.read_exact_at(&mut check, offset)
        .map_err(|e| bad!("cannot read back the written region: {e}"))?;
    if check != bytes {
        return Err(bad!("read-back of the written region differs"));
    }
    Ok(())
}

/// Sets the file's modification time (access time is left alone).
pub(crate) fn set_mtime(f: &File, mtime: (i64, i64)) -> Result<()> {
    let times = [
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        libc::timespec {
            tv_sec: mtime.0,
            tv_nsec: mtime.1,
        },
    ];
    // SAFETY: a valid fd and a pointer to two initialised timespecs, as futimens requires.
    let rc = unsafe { libc::futimens(std::os::fd::AsRawFd::as_raw_fd(f), times.as_ptr()) };
    if rc != 0 {
        return Err(bad!(
            "cannot restore the modification time: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The path of a helper file beside `target`: `.<name><suffix>`, or for a name too long for
/// that, `.<first 120 bytes>~<hash><suffix>` so it stays within the 255-byte name limit.
pub(crate) fn sibling(target: &Path, suffix: &str) -> std::path::PathBuf {
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

/// fsyncs a directory so a new, renamed or removed entry in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = File::open(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .map_err(|e| bad!("cannot open the folder to sync it: {e}"))?;
    d.sync_all()
        .map_err(|e| bad!("cannot sync the folder: {e}"))
}
