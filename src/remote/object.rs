//! One object read by ranges, as a `formats::Backing`: the head (`0..min(size, 64 KiB)`) and,
//! for a larger object, the tail are fetched up front, two requests in flight at once; any
//! other byte a reader asks for (an ID3 tag beyond 64 KiB, an MP4 `moov` at the end) is fetched
//! on demand in bounded blocks, so a file costs about 64 KiB on the wire whatever its size.

use std::cell::RefCell;
use std::ops::Range;

use super::client::{Client, Failure};
use crate::formats::source::Backing;

/// Bytes fetched up front at the start: what `Source` keeps as its head.
pub const HEAD: u64 = 64 * 1024;
/// Bytes fetched up front at the end: an ID3v1 tag (128) and an APE footer before it (32).
pub const TAIL: u64 = 160;
/// The least a miss fetches: headers come in runs (4 KiB: 306 requests and 73.9 KB per object
/// on a generated library, against 321 and 73.1 KB for 1 KiB and 78.6 KB for 16 KiB).
const BLOCK: u64 = 4 * 1024;

pub struct RemoteObject<'c> {
    client: &'c Client,
    bucket: String,
    key: String,
    size: u64,
    /// Fetched ranges `(start, bytes)`, sorted, not overlapping.
    chunks: RefCell<Vec<(u64, Vec<u8>)>>,
}

impl<'c> RemoteObject<'c> {
    /// Fetches the head and, past 64 KiB, the tail; a 0-byte object is never asked for.
    pub fn open(
        client: &'c Client,
        bucket: &str,
        key: &str,
        size: u64,
    ) -> Result<RemoteObject<'c>, Failure> {
        let obj = RemoteObject {
            client,
            bucket: bucket.to_string(),
            key: key.to_string(),
            size,
            chunks: RefCell::new(Vec::new()),
        };
        let mut ranges = Vec::new();
        if size > 0 {
            let head = if client.settings.whole { size } else { HEAD };
            ranges.push(0..size.min(head));
        }
        if size > HEAD && !client.settings.whole {
            ranges.push(size.saturating_sub(TAIL).max(HEAD)..size);
        }
        obj.fetch(&ranges)?;
        Ok(obj)
    }

    fn fetch(&self, ranges: &[Range<u64>]) -> Result<(), Failure> {
        if ranges.is_empty() {
            return Ok(());
        }
        let got = self.client.get(&self.bucket, &self.key, ranges)?;
        let mut chunks = self.chunks.borrow_mut();
        chunks.extend(ranges.iter().map(|r| r.start).zip(got));
        chunks.sort_by_key(|c| c.0);
        Ok(())
    }

    /// Copies what is cached of `[pos, ..)` into `buf`; returns how many bytes it copied (0 when
    /// `pos` is not cached) and, if not, where the next cached range starts.
    fn copy_cached(&self, buf: &mut [u8], pos: u64) -> (usize, u64) {
        let chunks = self.chunks.borrow();
        let mut next = self.size;
        for (start, bytes) in chunks.iter() {
            let end = start + bytes.len() as u64;
            if *start <= pos && pos < end {
                let from = (pos - start) as usize;
                let n = buf.len().min(bytes.len() - from);
                buf[..n].copy_from_slice(&bytes[from..from + n]);
                return (n, next);
            }
            if *start > pos {
                next = next.min(*start);
            }
        }
        (0, next)
    }
}

impl Backing for RemoteObject<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (n, next) = self.copy_cached(&mut buf[done..], pos);
            if n > 0 {
                done += n;
                continue;
            }
            // A miss: fetch up to the next cached range, at least a block, never past the end.
            let want = pos + (buf.len() - done) as u64;
            let end = want.max(pos + BLOCK).min(next).min(self.size);
            if end <= pos {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "read past the end of the object",
                ));
            }
            self.fetch(std::slice::from_ref(&(pos..end)))
                .map_err(|f| std::io::Error::other(f.msg))?;
        }
        Ok(())
    }
}
