//! A read-only view of an open file with bounds-checked positioned reads, so that a size field
//! claiming more than the file holds becomes a clear error instead of a huge allocation or a hang.
//! The first 16 KiB are read once and served from memory: the tags and headers of most files
//! live there, and one read beats dozens of small ones (block and box headers) in syscalls.
//! (64 KiB cost more than it saved: copying the 48 KiB more per file was a quarter of `verify`'s
//! time on 2-second tracks; 16 KiB made `verify` of lib5k 1.35× faster, 8 KiB 1.05× more.)

use std::cell::OnceCell;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{FormatError, Result};
use crate::bad;

/// How much of the head of a file is read at once and kept.
const HEAD: u64 = 16 * 1024;

/// Where a `Source`'s bytes come from: positioned reads of exactly `buf.len()` bytes.
pub trait Backing {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl Backing for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.read_exact_at(buf, offset)
    }
}

/// An open file (or another backing) and its length at the time it was opened.
pub struct Source<'a> {
    /// Set for a file: the write paths copy byte ranges from it.
    file: Option<&'a File>,
    backing: &'a dyn Backing,
    len: u64,
    head: OnceCell<std::io::Result<Vec<u8>>>,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a File, len: u64) -> Self {
        Source {
            file: Some(file),
            backing: file,
            len,
            head: OnceCell::new(),
        }
    }

    /// A read-only view over any backing (an object in storage): never given to a write path.
    pub fn over(backing: &'a dyn Backing, len: u64) -> Self {
        Source {
            file: None,
            backing,
            len,
            head: OnceCell::new(),
        }
    }

    /// The first `min(HEAD, len)` bytes, read on first use.
    fn head(&self) -> std::result::Result<&[u8], &std::io::Error> {
        let head = self.head.get_or_init(|| {
            let mut buf = vec![0u8; HEAD.min(self.len) as usize];
            self.backing.read_at(&mut buf, 0).map(|_| buf)
        });
        head.as_deref()
    }

    /// The open file, for the write paths. Only `Source::new` views reach them (remote objects
    /// are refused before any plan), so the `expect` states an invariant of the engine.
    pub fn file(&self) -> &'a File {
        self.file
            .expect("a write path was given a Source without a file")
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads exactly `len` bytes at `offset`; an error names what was being read when the range
    /// runs past the end of the file.
    pub fn read(&self, offset: u64, len: u64, what: &str) -> Result<Vec<u8>> {
        self.check(offset, len, what)?;
        let mut buf = vec![0u8; len as usize];
        self.read_into(offset, &mut buf, what)?;
        Ok(buf)
    }

    /// Fills `buf` from `offset`, with the same bounds check as `read`.
    pub fn read_into(&self, offset: u64, buf: &mut [u8], what: &str) -> Result<()> {
        self.check(offset, buf.len() as u64, what)?;
        let end = offset + buf.len() as u64;
        if end <= HEAD {
            let head = self
                .head()
                .map_err(|e| FormatError::io_read(&format!("cannot read {what}"), e))?;
            buf.copy_from_slice(&head[offset as usize..end as usize]);
            return Ok(());
        }
        self.backing
            .read_at(buf, offset)
            .map_err(|e| FormatError::io_read(&format!("cannot read {what}"), &e))
    }

    /// Reads up to `len` bytes at `offset`, fewer at the end of the file.
    pub fn read_upto(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let len = len.min(self.len.saturating_sub(offset));
        self.read(offset, len, "data")
    }

    /// Errors unless `[offset, offset+len)` lies inside the file.
    pub fn check(&self, offset: u64, len: u64, what: &str) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            // Running past the end is how a cut-off download or copy shows.
            _ => Err(bad!(
                Truncated,
                "truncated or corrupt: {what} needs bytes {offset}..{} but the file has {}",
                offset.saturating_add(len),
                self.len
            )),
        }
    }
}
