//! Making a batch's writes durable. On a local file system one `syncfs` covers every journal,
//! temp file, file and folder written on it. FUSE and network file systems do not pass
//! `syncfs` on to where the data lives (FUSE sends the daemon nothing, network clients need
//! a flush or commit per open file), so on those each journal, temp file, target and folder is
//! fsynced instead; the file system type comes from `fstatfs`.
//!
//! The files are opened again by path: the temp file's name is fixed by the target's path, a
//! folder's journal is named after one of its files (`bundle::write`), and an fsync on any
//! descriptor of an inode flushes that inode.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{fs_type, journal_path, parent_dir, rewrite};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// `f_type` of the file systems where `syncfs` does not reach the data (linux/magic.h and the
/// file systems' own sources).
const PER_FILE: [(u32, &str); 13] = [
    (0x6573_5546, "FUSE"),
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFF53_4D42, "CIFS"),
    (0xFE53_4D42, "SMB2"),
    (0x0102_1997, "9P"),
    (0x00C3_6400, "Ceph"),
    (0x5346_414F, "AFS"),
    (0x6B41_4653, "AFS"),
    (0x7375_7245, "Coda"),
    (0x0BD0_0BD0, "Lustre"),
    (0x0116_1970, "GFS2"),
    (0x7461_636F, "OCFS2"),
];

/// Makes everything written so far for `files` (device and path; a path may come more than
/// once, as a folder's journal does for each of its files) durable.
pub(super) fn sync<'a>(files: impl IntoIterator<Item = (u64, &'a Path)>) -> Result<()> {
    let mut by_dev: HashMap<u64, Vec<&Path>> = HashMap::new();
    for (dev, p) in files {
        by_dev.entry(dev).or_default().push(p);
    }
    for paths in by_dev.values_mut() {
        let Some(first) = paths.first() else {
            continue;
        };
        let d = File::open(parent_dir(first))
            .map_err(|e| FileError::io_write("cannot open the folder to sync it", &e))?;
        match per_file(&d)? {
            Some(fs) => {
                // Each path once. Only here: a local file system's one `syncfs` needs no list,
                // and an ordered set of every path cost about 6 % of a `tag` run's CPU.
                paths.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
                paths.dedup();
                fsync_each(paths, fs)?
            }
            None => syncfs(&d)?,
        }
    }
    Ok(())
}

/// The file system's name when it needs an fsync per file.
fn per_file(d: &File) -> Result<Option<&'static str>> {
    let fs = fs_type::of(d).map_err(|e| bad!(IoWrite, "cannot tell the file system type: {e}"))?;
    Ok(PER_FILE
        .iter()
        .find(|(m, _)| *m == fs.magic)
        .map(|(_, n)| *n))
}

fn syncfs(d: &File) -> Result<()> {
    // SAFETY: syncfs on a valid fd.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(bad!(
            IoWrite,
            "cannot sync the file system: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// fsync of each file's journal and temp file (those that exist), the file, then each folder
/// once: the folder last, so the names it holds point at durable data.
fn fsync_each(paths: &[&Path], fs: &str) -> Result<()> {
    let mut dirs = BTreeSet::new();
    for p in paths {
        for (helper, what) in [
            (journal_path(p), "undo journal"),
            (rewrite::temp_path(p), "temp file"),
        ] {
            if std::fs::symlink_metadata(&helper).is_ok() {
                fsync(&helper, what, fs)?;
            }
        }
        fsync(p, "file", fs)?;
        dirs.insert(parent_dir(p));
    }
    for d in dirs {
        fsync(d, "folder", fs)?;
    }
    Ok(())
}

/// Opens `path` (read-only, or write-only for a file that cannot be read) and fsyncs it.
fn fsync(path: &Path, what: &str, fs: &str) -> Result<()> {
    // A folder may be reached through a link (the user's own path); a file never is.
    let nofollow = if what == "folder" {
        0
    } else {
        libc::O_NOFOLLOW
    };
    let open = |write: bool| {
        File::options()
            .read(!write)
            .write(write)
            .custom_flags(nofollow | libc::O_NONBLOCK)
            .open(path)
    };
    open(false)
        .or_else(|_| open(true))
        .and_then(|f| f.sync_all())
        .map_err(|e| {
            let what = format!(
                "cannot sync the {what} {} on this {fs} file system",
                path.display()
            );
            FileError::io_write(&what, &e)
        })
}
