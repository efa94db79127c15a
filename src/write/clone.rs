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
use std::os::unix::fs::FileExt;
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
/// can; returns the bytes cloned and the bytes left as holes, neither written. Where it clones, whole blocks of zeros in
/// new bytes (a rewrite's padding) are left as holes: they read as zeros all the same, and on a
/// file system that shares extents writing into them later allocates no more than writing
/// into a cloned block does.
pub fn write_parts(src: &File, dev: u64, parts: &[Part], out: &File) -> Result<(u64, u64)> {
    clone_block(src, dev);
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    let src_len = src.metadata().map_err(io)?.len();
    let mut pos = 0u64;
    let (mut cloned, mut holes) = (0u64, 0u64);
    let mut w = out;
    for part in parts {
        let len = match (part, known(dev)) {
            (Part::Copy { offset, len }, _) => {
                let at_eof = offset + len == src_len;
                cloned += copy_or_clone(src, dev, (*offset, *len, at_eof), out, pos)?;
                *len
            }
            (Part::Bytes(bytes), Some(Some(block))) => {
                let (c, h) = write_new(src, src_len, out, pos, bytes, block).map_err(io)?;
                (cloned, holes) = (cloned + c, holes + h);
                bytes.len() as u64
            }
            (other, _) => {
                render::write_parts(src, std::slice::from_ref(other), &mut w)?;
                w.stream_position().map_err(io)? - pos
            }
        };
        pos += len;
        w.seek(SeekFrom::Start(pos)).map_err(io)?;
    }
    // A clone that failed half way may have left the file longer than its parts; holes at the
    // end need the length set. Only when it differs: setting the same length zeroes the rest
    // of the last block, which unshares a block cloned at the end of the file.
    if out.metadata().map_err(io)?.len() != pos {
        out.set_len(pos).map_err(io)?;
    }
    Ok((cloned, holes))
}

/// New bytes at `pos` in `out`. Runs of whole blocks equal to the original's at the same
/// offset (a big comment or picture before the first change of length, say) are cloned from
/// it and read back: a block that does not hold the new bytes after all (the original changed
/// meanwhile) is written over. The rest is written, but for whole blocks of zeros. Returns the
/// bytes cloned and the bytes left as holes.
fn write_new(
    src: &File,
    src_len: u64,
    out: &File,
    pos: u64,
    bytes: &[u8],
    block: u64,
) -> std::io::Result<(u64, u64)> {
    let (mut cloned, mut holes) = (0, 0);
    let mut from = 0;
    for run in same_blocks(src, src_len, pos, bytes, block)? {
        holes += write_sparse(out, pos + from as u64, &bytes[from..run.start], block)?;
        let (at, new) = (pos + run.start as u64, &bytes[run.clone()]);
        let mut back = vec![0; new.len()];
        let ok = clone_range(src, at, new.len() as u64, out, at).is_ok()
            && out.read_exact_at(&mut back, at).is_ok()
            && back == new;
        if ok {
            cloned += new.len() as u64;
        } else {
            out.write_all_at(new, at)?;
        }
        from = run.end;
    }
    holes += write_sparse(out, pos + from as u64, &bytes[from..], block)?;
    Ok((cloned, holes))
}

/// The runs (ranges in `bytes`, at least `MIN_CLONE` long) of whole blocks, aligned in the
/// new file at `pos`, that are the same bytes as the original's at the same offset and not
/// all zeros (those become holes).
fn same_blocks(
    src: &File,
    src_len: u64,
    pos: u64,
    bytes: &[u8],
    block: u64,
) -> std::io::Result<Vec<std::ops::Range<usize>>> {
    let overlap = src_len.saturating_sub(pos).min(bytes.len() as u64) as usize;
    if overlap < MIN_CLONE as usize {
        return Ok(Vec::new());
    }
    let mut old = vec![0; overlap];
    src.read_exact_at(&mut old, pos)?;
    let block = block as usize;
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut at = (block - (pos % block as u64) as usize) % block;
    while at + block <= overlap {
        let new = &bytes[at..at + block];
        if new == &old[at..at + block] && new.iter().any(|&b| b != 0) {
            match runs.last_mut() {
                Some(run) if run.end == at => run.end += block,
                _ => runs.push(at..at + block),
            }
        }
        at += block;
    }
    runs.retain(|r| r.len() >= MIN_CLONE as usize);
    Ok(runs)
}

/// Writes `bytes` at `pos`, skipping each whole block (aligned in `out`) of zeros; returns the
/// bytes skipped.
fn write_sparse(out: &File, pos: u64, bytes: &[u8], block: u64) -> std::io::Result<u64> {
    let block = block as usize;
    let (mut pending, mut holes) = (0, 0);
    let mut at = (block - (pos % block as u64) as usize) % block;
    while at + block <= bytes.len() {
        if bytes[at..at + block].iter().all(|&b| b == 0) {
            out.write_all_at(&bytes[pending..at], pos + pending as u64)?;
            pending = at + block;
            holes += block as u64;
        }
        at += block;
    }
    out.write_all_at(&bytes[pending..], pos + pending as u64)?;
    Ok(holes)
}

/// One unchanged range (`offset`, `len`, and whether it ends the original) at `pos` in `out`:
/// the head up to a block boundary copied, the whole blocks cloned, the rest copied. A range
/// that ends the original is cloned to its end in one piece where the file system allows it
/// (Linux lets a clone end unaligned at the source's end of file), saving the last partial
/// block. Returns the bytes cloned (0 when it copied everything).
fn copy_or_clone(
    src: &File,
    dev: u64,
    (offset, len, at_eof): (u64, u64, bool),
    out: &File,
    pos: u64,
) -> Result<u64> {
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
    copy(offset, head, pos)?;
    // Any refusal here falls back to the aligned clone below, which decides about the device.
    if at_eof && clone_range(src, offset + head, len - head, out, pos + head).is_ok() {
        return Ok(len - head);
    }
    let middle = (len - head) / block * block;
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

    fn pattern(len: usize) -> Vec<u8> {
        (0..len as u32).map(|i| (i * 31 % 251 + 1) as u8).collect()
    }

    /// Equal runs of at least `MIN_CLONE`, block-aligned in the new file, not counting blocks
    /// of zeros or blocks past the original's end.
    #[test]
    fn same_blocks_are_aligned_equal_runs_of_the_original() {
        let old = pattern(80_000);
        let src = tempfile::tempfile().unwrap();
        src.write_all_at(&old, 0).unwrap();
        // New bytes from 100 on: the same but for one byte in block 3 and a zero block 10.
        let mut new = old[100..].to_vec();
        new[3 * 4096 + 5 - 100] ^= 0xff;
        new[10 * 4096 - 100..11 * 4096 - 100].fill(0);
        let runs = same_blocks(&src, old.len() as u64, 100, &new, 4096).unwrap();
        let at = |b: usize| b * 4096 - 100;
        assert_eq!(runs, vec![at(4)..at(10), at(11)..at(19)]);
        // Past the original's end nothing is the same; a short overlap is not worth a read.
        assert!(
            same_blocks(&src, 16_000, 100, &new, 4096)
                .unwrap()
                .is_empty()
        );
    }

    /// Where the file system refuses clones (or the runs are too short), every byte arrives
    /// all the same: written, or a hole where a whole block is zeros.
    #[test]
    fn write_new_gives_the_new_bytes_whatever_it_clones() {
        let old = pattern(70_000);
        let src = tempfile::tempfile().unwrap();
        src.write_all_at(&old, 0).unwrap();
        let mut new = old.clone();
        new[..5000].fill(7);
        new[20_000..30_000].fill(0);
        let out = tempfile::tempfile().unwrap();
        let (_, holes) = write_new(&src, old.len() as u64, &out, 0, &new, 4096).unwrap();
        assert_eq!(holes, 8192, "two whole blocks of zeros: 20,480..28,672");
        out.set_len(new.len() as u64).unwrap();
        let mut back = vec![1u8; new.len()];
        out.read_exact_at(&mut back, 0).unwrap();
        assert!(back == new, "the new bytes differ");
    }

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
        let cloned = copy_or_clone(&src, dev, (1000, 20_000, false), &out, 1000).unwrap();
        assert_eq!(cloned, 0);
        let mut back = vec![0u8; 20_000];
        out.read_exact_at(&mut back, 1000).unwrap();
        assert!(back == data[1000..21_000], "the range was not copied whole");
    }
}
