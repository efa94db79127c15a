//! Filling a rewrite's temp file by sharing extents with the original where the file system
//! can (`FICLONERANGE`: XFS with reflink, btrfs): a large unchanged range whose source and
//! destination offsets agree modulo the block size is copied up to the first block boundary,
//! cloned whole block by whole block, and its remainder copied. Every other part, and every
//! range the file system refuses to clone, is copied as before: the temp file's bytes are the
//! same either way, and it goes through the same proof, sync and rename.
//!
//! A file system that refuses a clone (ext4, tmpfs, FUSE, NFS, XFS without reflink) is
//! remembered by device, so each one is probed once per run.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::sync::Mutex;

use crate::error::FileError;
use crate::formats::{Part, Result, render};

/// Ranges shorter than this are copied: a clone's fixed cost is not worth a block or two.
/// (Short tracks matter: a 2-second MP3 has about 32 KiB of audio.)
const MIN_CLONE: u64 = 16 * 1024;

/// `statfs` magic numbers of the file systems that share extents.
const XFS_MAGIC: i64 = 0x5846_5342;
const BTRFS_MAGIC: i64 = 0x9123_683E;

/// Per device: `Some(block size)` while cloning works or has not been tried, `None` once it
/// was refused (or the file system is not one that clones).
static DEVICES: Mutex<Option<HashMap<u64, Option<u64>>>> = Mutex::new(None);

fn known(dev: u64) -> Option<Option<u64>> {
    let devices = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    devices.as_ref().and_then(|m| m.get(&dev).copied())
}

fn remember(dev: u64, block: Option<u64>) {
    let mut devices = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    devices.get_or_insert_with(HashMap::new).insert(dev, block);
}

/// The block size of `file`'s file system (device `dev`) when a rewrite there may clone:
/// XFS or btrfs, and no clone on it refused so far in this run. The engine pads a rewrite so
/// the audio moves by whole blocks only where this is `Some`.
pub fn clone_block(file: &File, dev: u64) -> Option<u64> {
    if let Some(k) = known(dev) {
        return k;
    }
    // SAFETY: statfs is plain data, and fstatfs fills it for an open descriptor.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) } == 0;
    #[allow(clippy::unnecessary_cast)] // f_type's width differs between targets
    let fs = st.f_type as i64;
    let block = (ok && (fs == XFS_MAGIC || fs == BTRFS_MAGIC) && st.f_bsize > 0)
        .then_some(st.f_bsize as u64)
        .filter(|b| b.is_power_of_two());
    remember(dev, block);
    block
}

/// Writes `parts` to the empty `out` (the original is `src` on device `dev`), cloning where it
/// can; returns the bytes cloned rather than written.
pub fn write_parts(src: &File, dev: u64, parts: &[Part], out: &File) -> Result<u64> {
    clone_block(src, dev);
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    let mut pos = 0u64;
    let mut cloned = 0u64;
    let mut w = out;
    for part in parts {
        let len = match part {
            Part::Copy { offset, len } => {
                cloned += copy_or_clone(src, dev, *offset, *len, out, pos)?;
                *len
            }
            other => {
                render::write_parts(src, std::slice::from_ref(other), &mut w)?;
                w.stream_position().map_err(io)? - pos
            }
        };
        pos += len;
        w.seek(SeekFrom::Start(pos)).map_err(io)?;
    }
    // A clone that failed half way may have left the file longer than its parts.
    out.set_len(pos).map_err(io)?;
    Ok(cloned)
}

/// One unchanged range at `pos` in `out`: the head up to a block boundary copied, the whole
/// blocks cloned, the rest copied. Returns the bytes cloned (0 when it copied everything).
fn copy_or_clone(src: &File, dev: u64, offset: u64, len: u64, out: &File, pos: u64) -> Result<u64> {
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    let copy = |offset: u64, len: u64, at: u64| -> Result<()> {
        let mut w = out;
        w.seek(SeekFrom::Start(at)).map_err(io)?;
        render::write_parts(src, &[Part::Copy { offset, len }], &mut w)
    };
    let block = match known(dev) {
        Some(Some(b)) if len >= MIN_CLONE && offset % b == pos % b => b,
        _ => {
            copy(offset, len, pos)?;
            return Ok(0);
        }
    };
    let head = (block - pos % block) % block;
    // With blocks larger than the range (64 KiB blocks), there may be no whole block to clone.
    if len < head + block {
        copy(offset, len, pos)?;
        return Ok(0);
    }
    let middle = (len - head) / block * block;
    copy(offset, head, pos)?;
    let cloned = match clone_range(src, offset + head, middle, out, pos + head) {
        Ok(()) => middle,
        Err(e) => {
            if refuses(&e) {
                remember(dev, None);
            }
            copy(offset + head, middle, pos + head)?;
            0
        }
    };
    copy(
        offset + head + middle,
        len - head - middle,
        pos + head + middle,
    )?;
    Ok(cloned)
}

/// Errors that mean "this file system does not clone these files": fall back for good.
fn refuses(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EXDEV | libc::EINVAL | libc::ENOTTY | libc::ENOSYS)
    )
}

fn clone_range(src: &File, offset: u64, len: u64, out: &File, at: u64) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let range = libc::file_clone_range {
        src_fd: i64::from(src.as_raw_fd()),
        src_offset: offset,
        src_length: len,
        dest_offset: at,
    };
    // SAFETY: FICLONERANGE reads the plain struct above and touches no memory of ours.
    match unsafe { libc::ioctl(out.as_raw_fd(), libc::FICLONERANGE, &range) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use super::*;

    /// A range shorter than one block past its head (64 KiB blocks) is copied, not cloned with a
    /// negative length: the bytes arrive whole and nothing is reported cloned.
    #[test]
    fn a_range_without_a_whole_block_is_copied() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 31) as u8).collect();
        let src = tempfile::tempfile().unwrap();
        src.write_all_at(&data, 0).unwrap();
        let out = tempfile::tempfile().unwrap();
        // A made-up device said to clone with 64 KiB blocks; the range starts 1,000 bytes into
        // a block on both sides, so its head alone (64,536 bytes) is longer than the range.
        let dev = u64::MAX - 1;
        remember(dev, Some(64 * 1024));
        let cloned = copy_or_clone(&src, dev, 1000, 20_000, &out, 1000).unwrap();
        assert_eq!(cloned, 0);
        let mut back = vec![0u8; 20_000];
        out.read_exact_at(&mut back, 1000).unwrap();
        assert!(back == data[1000..21_000], "the range was not copied whole");
    }
}
