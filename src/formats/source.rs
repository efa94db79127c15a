//! A read-only view of an open file with bounds-checked positioned reads, so that a size field
//! claiming more than the file holds becomes a clear error instead of a huge allocation or a hang.
//! The first 64 KiB are read once and served from memory: metadata lives there in most files,
//! and one read beats dozens of small ones (block and box headers) in syscalls.

use std::cell::OnceCell;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{FormatError, Result};
use crate::bad;

/// How much of the head of a file is read at once and kept.
const HEAD: u64 = 64 * 1024;

/// An open file and its length at the time it was opened.
pub struct Source<'a> {
    file: &'a File,
    len: u64,
    head: OnceCell<std::io::Result<Vec<u8>>>,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a File, len: u64) -> Self {
        Source {
            file,
            len,
            head: OnceCell::new(),
        }
    }

    /// The first `min(HEAD, len)` bytes, read on first use.
    fn head(&self) -> std::result::Result<&[u8], &std::io::Error> {
        let head = self.head.get_or_init(|| {
            let mut buf = vec![0u8; HEAD.min(self.len) as usize];
            self.file.read_exact_at(&mut buf, 0).map(|_| buf)
        });
        head.as_deref()
    }

    pub fn file(&self) -> &'a File {
        self.file
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
        self.file
            .read_exact_at(buf, offset)
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
