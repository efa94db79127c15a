//! A read-only view of an open file with bounds-checked positioned reads, so that a size field
//! claiming more than the file holds becomes a clear error instead of a huge allocation or a hang.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{FormatError, Result};

/// An open file and its length at the time it was opened.
pub struct Source<'a> {
    file: &'a File,
    len: u64,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a File, len: u64) -> Self {
        Source { file, len }
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
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| FormatError(format!("cannot read {what}: {e}")))
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
            _ => Err(FormatError(format!(
                "truncated or corrupt: {what} needs bytes {offset}..{} but the file has {}",
                offset.saturating_add(len),
                self.len
            ))),
        }
    }
}
