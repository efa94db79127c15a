//! A rewrite's new inode gets the original's inode flags (what `lsattr` shows and `chattr`
//! sets), or the file is not changed. `d` (no dump) tells backup tools to skip the file; `C` (no
//! copy-on-write), `c` and `m` (compress, or not) say how btrfs stores it; `A`, `S`, `s`, `u`,
//! `t`, `j` and `x` how the kernel treats it. They are set on the still empty temp file, before
//! any data: btrfs takes `C` only on an empty file, and clones only between files that agree on
//! it. A flag the temp file inherited from its folder but the original lacks is cleared the same
//! way. Flags that describe the inode's layout (`e` extents, `N` inline data, `E` encrypted, `V`
//! verity, `I` indexed) are the file system's own business; an immutable (`i`) or append-only
//! (`a`) file cannot be replaced at all, and the kernel refuses the rename.

use std::fs::File;
use std::os::fd::AsRawFd;

use super::fs_type;
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// The flags carried over, with their `lsattr` letters (linux/fs.h values).
const CARRIED: [(libc::c_int, char); 11] = [
    (0x0000_0001, 's'), // FS_SECRM_FL
    (0x0000_0002, 'u'), // FS_UNRM_FL
    (COMPR, 'c'),
    (0x0000_0008, 'S'), // FS_SYNC_FL
    (0x0000_0040, 'd'), // FS_NODUMP_FL
    (0x0000_0080, 'A'), // FS_NOATIME_FL
    (0x0000_0400, 'm'), // FS_NOCOMP_FL
    (JOURNAL_DATA, 'j'),
    (0x0000_8000, 't'), // FS_NOTAIL_FL
    (NOCOW, 'C'),
    (0x0200_0000, 'x'), // FS_DAX_FL
];
const COMPR: libc::c_int = 0x0000_0004; // FS_COMPR_FL
const JOURNAL_DATA: libc::c_int = 0x0000_4000; // FS_JOURNAL_DATA_FL
const NOCOW: libc::c_int = 0x0080_0000; // FS_NOCOW_FL
/// A file no rename may replace: refused before any work.
const IMMUTABLE: libc::c_int = 0x0000_0010; // FS_IMMUTABLE_FL
const APPEND: libc::c_int = 0x0000_0020; // FS_APPEND_FL

/// `statfs` magic numbers of file systems that report a flag they cannot set back.
const CIFS: u32 = 0xFF53_4D42;
const SMB2: u32 = 0xFE53_4D42;
const F2FS: u32 = 0xF2F5_2010;

/// The flags carried on the file system of `f`, where the original and the temp file show
/// `seen` between them. SMB reports a compressed file as `c` but can only ask the server to
/// compress, and f2fs reports a pinned file as `C` but takes no `C`: those stay as the file
/// system makes them. Only a `c` or `C` seen makes the file system's type matter (most
/// rewrites show neither, and skip the `fstatfs`).
fn mask(f: &File, seen: libc::c_int) -> libc::c_int {
    let all = CARRIED.iter().fold(0, |m, (bit, _)| m | bit);
    if seen & (COMPR | NOCOW) == 0 {
        return all;
    }
    match fs_type::of(f).map(|t| t.magic) {
        Ok(CIFS | SMB2) => all & !COMPR,
        Ok(F2FS) => all & !NOCOW,
        _ => all,
    }
}

/// The carried flags in `flags` as `lsattr` letters ("none" for none).
fn letters(flags: libc::c_int) -> String {
    let s: String = CARRIED
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, c)| *c)
        .collect();
    if s.is_empty() { "none".into() } else { s }
}

/// Gives the (empty) temp file `out` the original's carried flags, or refuses.
pub(super) fn carry(original: &File, out: &File) -> Result<()> {
    let read = |f: &File, what: &str| {
        get(f).map_err(|e| FileError::io_read(&format!("cannot read {what} attribute flags"), &e))
    };
    // A file system without inode flags (FUSE, NFS, tmpfs before 6.0): nothing to carry.
    let Some(old) = read(original, "its")? else {
        return Ok(());
    };
    if old & (IMMUTABLE | APPEND) != 0 {
        return Err(bad!(
            Refused,
            "it is immutable or append-only (lsattr shows i or a), and this change needs a rewrite, which the system refuses for such a file; not changed"
        ));
    }
    let have = read(out, "the temp file's")?.unwrap_or(0);
    let mask = mask(original, old | have);
    // Data journaling (`j`) inherited from the folder stays: only a process with
    // CAP_SYS_RESOURCE may clear it, and having it changes nothing the file holds.
    let want = (old & mask) | (have & JOURNAL_DATA & !(old & mask));
    let target = (have & !mask) | want;
    if have == target {
        return Ok(());
    }
    // Flags to drop go first, alone: btrfs refuses to swap `c` for `C` (or back) in one call.
    let drop = have & mask & !want;
    if drop != 0 {
        set(out, have & !drop).map_err(|e| inherited(drop, e))?;
    }
    set(out, target).map_err(|e| {
        bad!(
            Refused,
            "cannot keep its attribute flags ({}, as lsattr shows them): {e}; this change needs a rewrite, which would drop them; not changed",
            letters(want)
        )
    })?;
    let now = read(out, "the temp file's")?.unwrap_or(0) & mask;
    if now != want {
        return Err(bad!(
            Refused,
            "the file system did not keep its attribute flags ({}, got {}); this change needs a rewrite, which would change them; not changed",
            letters(want),
            letters(now)
        ));
    }
    Ok(())
}

/// The flags `drop` a new file in the folder is born with, which the original lacks, could not
/// be cleared.
fn inherited(drop: libc::c_int, e: std::io::Error) -> FileError {
    bad!(
        Refused,
        "a new file in its folder gets the attribute flags {} (lsattr), which it does not have and which cannot be cleared ({e}); this change needs a rewrite, which would add them; not changed",
        letters(drop)
    )
}

/// The file's inode flags; `None` where the file system has none.
fn get(f: &File) -> std::io::Result<Option<libc::c_int>> {
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int (the kernel's size, whatever the macro says) to a
    // valid pointer, on a valid fd.
    let rc = unsafe {
        libc::ioctl(
            f.as_raw_fd(),
            libc::FS_IOC_GETFLAGS,
            &mut flags as *mut libc::c_int,
        )
    };
    if rc == 0 {
        return Ok(Some(flags));
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOTTY | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => Ok(None),
        _ => Err(e),
    }
}

fn set(f: &File, flags: libc::c_int) -> std::io::Result<()> {
    // SAFETY: FS_IOC_SETFLAGS reads one int from a valid pointer, on a valid fd.
    let rc = unsafe {
        libc::ioctl(
            f.as_raw_fd(),
            libc::FS_IOC_SETFLAGS,
            &flags as *const libc::c_int,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_follow_lsattr() {
        assert_eq!(letters(0), "none");
        assert_eq!(letters(0x40 | 0x0080_0000), "dC");
        // Not carried: extents (e), immutable (i), append only (a).
        assert_eq!(letters(0x0008_0000 | 0x10 | 0x20), "none");
    }
}
