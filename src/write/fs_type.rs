//! Which file system a file lives on, by its `statfs` magic number: whether a rewrite may
//! clone there (`clone`), whether its block maps can be trusted (`extents`), and whether one
//! `syncfs` reaches its data (`durable`). One `fstatfs` and one reading of `f_type`, whose width
//! and sign differ between targets, for all three.

use std::fs::File;
use std::os::fd::AsRawFd;

/// `statfs` magic numbers (linux/magic.h).
pub const XFS: u32 = 0x5846_5342;
pub const BTRFS: u32 = 0x9123_683E;

/// A file system as `fstatfs` describes it.
#[derive(Debug, Clone, Copy)]
pub struct FsType {
    /// The magic number, its low 32 bits (`f_type` is signed on some targets).
    pub magic: u32,
    /// The preferred block size.
    pub block: u64,
}

/// The file system `file` lives on.
pub fn of(file: &File) -> std::io::Result<FsType> {
    // SAFETY: statfs is plain data, and fstatfs fills it for an open descriptor.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // f_type's and f_bsize's widths differ between targets
    Ok(FsType {
        magic: (st.f_type as i64 & 0xFFFF_FFFF) as u32,
        block: st.f_bsize as u64,
    })
}
