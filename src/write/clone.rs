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
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use super::fs_type;
use crate::error::FileError;
use crate::formats::{Part, Result, render};

/// Ranges shorter than this are copied: a clone's fixed cost is not worth a block or two.
/// (Short tracks matter: a 2-second MP3 has about 32 KiB of audio.)
const MIN_CLONE: u64 = 16 * 1024;

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
    let block = fs_type::of(file)
        .ok()
        .filter(|fs| fs.magic == fs_type::XFS || fs.magic == fs_type::BTRFS)
        .map(|fs| fs.block)
        .filter(|b| b.is_power_of_two());
    remember(dev, block);
    block
}

/// The original a rewrite is built from: its file, its device, and its length when scanned.
#[derive(Clone, Copy)]
pub struct Original<'a> {
    pub file: &'a File,
    pub dev: u64,
    pub len: u64,
}

/// A range of the temp file cloned from the original: `len` bytes at `at`, from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub at: u64,
    pub from: u64,
    pub len: u64,
}

/// What `write_parts` did besides writing: the bytes cloned and the bytes left as holes,
/// neither written, and the unchanged ranges of the original it cloned (not the blocks of new
/// bytes it cloned: those were read back already).
#[derive(Debug, Default)]
pub struct Filled {
    pub cloned: u64,
    pub holes: u64,
    pub shared: Vec<Shared>,
}

/// Writes `parts` to the empty `out`, cloning from the original where it can. Where it clones,
/// whole blocks of zeros in new bytes (a rewrite's padding) are left as holes: they read as
/// zeros all the same, and on a file system that shares extents writing into them later
/// allocates no more than writing into a cloned block does.
pub fn write_parts(orig: Original, parts: &[Part], out: &File) -> Result<Filled> {
    clone_block(orig.file, orig.dev);
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    let mut pos = 0u64;
    let mut filled = Filled::default();
    let mut w = out;
    for part in parts {
        let len = match (part, known(orig.dev)) {
            (Part::Copy { offset, len }, _) => {
                if let Some(s) = copy_or_clone(orig, *offset, *len, out, pos)? {
                    filled.cloned += s.len;
                    filled.shared.push(s);
                }
                *len
            }
            (Part::Bytes(bytes), Some(Some(block))) => {
                let (c, h) = write_new(orig, out, pos, bytes, block).map_err(io)?;
                filled.cloned += c;
                filled.holes += h;
                bytes.len() as u64
            }
            (other, _) => {
                render::write_parts(orig.file, std::slice::from_ref(other), &mut w)?;
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
    Ok(filled)
}

/// The whole file-system blocks of a span of `len` bytes that starts at `pos` in its file, as
/// ranges within the span.
fn whole_blocks(pos: u64, len: usize, block: u64) -> impl Iterator<Item = Range<usize>> {
    let block = block as usize;
    let first = (block - (pos % block as u64) as usize) % block;
    (first..)
        .step_by(block)
        .take_while(move |at| at + block <= len)
        .map(move |at| at..at + block)
}

/// New bytes at `pos` in `out`. Runs of whole blocks equal to the original's at the same
/// offset (a big comment or picture before the first change of length, say) are cloned from
/// it and read back: a block that does not hold the new bytes after all (the original changed
/// meanwhile) is written over. The rest is written, but for whole blocks of zeros. Returns the
/// bytes cloned and the bytes left as holes.
fn write_new(
    orig: Original,
    out: &File,
    pos: u64,
    bytes: &[u8],
    block: u64,
) -> std::io::Result<(u64, u64)> {
    let (mut cloned, mut holes) = (0, 0);
    let mut from = 0;
    for run in same_blocks(orig, pos, bytes, block)? {
        holes += write_sparse(out, pos + from as u64, &bytes[from..run.start], block)?;
        let (at, new) = (pos + run.start as u64, &bytes[run.clone()]);
        let mut back = vec![0; new.len()];
        let ok = try_clone(orig, at, new.len() as u64, out, at)
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
    orig: Original,
    pos: u64,
    bytes: &[u8],
    block: u64,
) -> std::io::Result<Vec<Range<usize>>> {
    let overlap = orig.len.saturating_sub(pos).min(bytes.len() as u64) as usize;
    if overlap < MIN_CLONE as usize {
        return Ok(Vec::new());
    }
    let mut old = vec![0; overlap];
    orig.file.read_exact_at(&mut old, pos)?;
    let mut runs: Vec<Range<usize>> = Vec::new();
    for b in whole_blocks(pos, overlap, block) {
        let new = &bytes[b.clone()];
        if new == &old[b.clone()] && new.iter().any(|&x| x != 0) {
            match runs.last_mut() {
                Some(run) if run.end == b.start => run.end = b.end,
                _ => runs.push(b),
            }
        }
    }
    runs.retain(|r| r.len() >= MIN_CLONE as usize);
    Ok(runs)
}

/// Writes `bytes` at `pos`, skipping each whole block (aligned in `out`) of zeros; returns the
/// bytes skipped.
fn write_sparse(out: &File, pos: u64, bytes: &[u8], block: u64) -> std::io::Result<u64> {
    let (mut pending, mut holes) = (0, 0);
    for b in whole_blocks(pos, bytes.len(), block) {
        if bytes[b.clone()].iter().all(|&x| x == 0) {
            out.write_all_at(&bytes[pending..b.start], pos + pending as u64)?;
            holes += b.len() as u64;
            pending = b.end;
        }
    }
    out.write_all_at(&bytes[pending..], pos + pending as u64)?;
    Ok(holes)
}

/// One unchanged range of the original at `pos` in `out`: the head up to a block boundary
/// copied, the whole blocks cloned, the rest copied. A range that ends the original is cloned
/// to its end in one piece where the file system allows it (Linux lets a clone end unaligned
/// at the source's end of file), saving the last partial block. Returns the range it cloned
/// (none when it copied everything).
fn copy_or_clone(
    orig: Original,
    offset: u64,
    len: u64,
    out: &File,
    pos: u64,
) -> Result<Option<Shared>> {
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    let copy = |offset: u64, len: u64, at: u64| -> Result<()> {
        let mut w = out;
        w.seek(SeekFrom::Start(at)).map_err(io)?;
        render::write_parts(orig.file, &[Part::Copy { offset, len }], &mut w)
    };
    // With blocks larger than the range (64 KiB blocks), there may be no whole block to clone.
    let first = match known(orig.dev) {
        Some(Some(b)) if len >= MIN_CLONE && offset % b == pos % b => usize::try_from(len)
            .ok()
            .and_then(|n| whole_blocks(pos, n, b).next())
            .map(|r| (b, r.start as u64)),
        _ => None,
    };
    let Some((block, head)) = first else {
        copy(offset, len, pos)?;
        return Ok(None);
    };
    let shared = |len| Shared {
        at: pos + head,
        from: offset + head,
        len,
    };
    copy(offset, head, pos)?;
    // Any error here falls back to the aligned clone below, which decides about the device
    // (an unaligned end may be refused where aligned clones work).
    let at_eof = offset + len == orig.len;
    if at_eof && clone_range(orig.file, offset + head, len - head, out, pos + head).is_ok() {
        return Ok(Some(shared(len - head)));
    }
    let middle = (len - head) / block * block;
    let cloned = try_clone(orig, offset + head, middle, out, pos + head);
    if !cloned {
        copy(offset + head, middle, pos + head)?;
    }
    copy(
        offset + head + middle,
        len - head - middle,
        pos + head + middle,
    )?;
    Ok(cloned.then(|| shared(middle)))
}

/// Clones `len` bytes of the original at `offset` to `at` in `out`. A refusal that means the
/// file system does not clone is remembered, so the rest of the run copies without trying.
fn try_clone(orig: Original, offset: u64, len: u64, out: &File, at: u64) -> bool {
    match clone_range(orig.file, offset, len, out, at) {
        Ok(()) => true,
        Err(e) => {
            if refuses(&e) {
                remember(orig.dev, None);
            }
            false
        }
    }
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
        let orig = |len| Original {
            file: &src,
            dev: 0,
            len,
        };
        let runs = same_blocks(orig(old.len() as u64), 100, &new, 4096).unwrap();
        let at = |b: usize| b * 4096 - 100;
        assert_eq!(runs, vec![at(4)..at(10), at(11)..at(19)]);
        // Past the original's end nothing is the same; a short overlap is not worth a read.
        assert!(
            same_blocks(orig(16_000), 100, &new, 4096)
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
        let orig = Original {
            file: &src,
            dev: u64::MAX - 2,
            len: old.len() as u64,
        };
        let (_, holes) = write_new(orig, &out, 0, &new, 4096).unwrap();
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
        let orig = Original {
            file: &src,
            dev,
            len: 40_000,
        };
        let cloned = copy_or_clone(orig, 1000, 20_000, &out, 1000).unwrap();
        assert_eq!(cloned, None);
        let mut back = vec![0u8; 20_000];
        out.read_exact_at(&mut back, 1000).unwrap();
        assert!(back == data[1000..21_000], "the range was not copied whole");
    }
}
