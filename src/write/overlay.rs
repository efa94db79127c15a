//! A virtual view of a file as it would be after an in-place write: the original bytes with the
//! planned regions laid over them (the last region may run past the end: an append; or the
//! view stops short of the end: a cut). It reads
//! with positioned reads, so the audio is never copied into memory and the caller's file cursor
//! is left alone; the proof hands it to a parser that expects `Read + Seek`. The original bytes
//! are read through a window that survives seeks (parsers seek a lot, and a `BufReader` would
//! drop its buffer on every seek), so a tag costs a few positioned reads.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use crate::formats::Region;

pub struct Overlay<'a> {
    file: &'a File,
    /// Length of the original file: bytes below it come from `file` unless a region covers them.
    base: u64,
    /// Sorted, non-overlapping writes (checked by the caller).
    regions: &'a [Region],
    len: u64,
    pos: u64,
    /// The original bytes from `window_at` on, as last read.
    window: Vec<u8>,
    window_at: u64,
}

/// How much of the original one positioned read fetches.
const WINDOW: u64 = 64 << 10;

impl<'a> Overlay<'a> {
    /// The view of the first `base` bytes of `file` (all of it, or less when the write cuts
    /// the file) with `regions` written over it.
    pub fn new(file: &'a File, base: u64, regions: &'a [Region]) -> Overlay<'a> {
        let end = regions
            .iter()
            .map(|r| r.offset + r.bytes.len() as u64)
            .max()
            .unwrap_or(0);
        Overlay {
            file,
            base,
            regions,
            len: base.max(end),
            pos: 0,
            window: Vec::new(),
            window_at: 0,
        }
    }

    /// The file as it is, with nothing laid over it.
    pub fn plain(file: &'a File, len: u64) -> Overlay<'a> {
        Overlay::new(file, len, &[])
    }

    /// The view's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Where this view and `other` read the very same bytes: views of the same file, below
    /// both bases and under no region of either. `None` for views of different files (the two
    /// versions of a rewrite).
    pub fn unchanged_with(&self, other: &Overlay) -> Option<Unchanged> {
        std::ptr::eq(self.file, other.file).then(|| Unchanged {
            below: self.base.min(other.base),
            regions: (self.regions.iter().chain(other.regions))
                .map(|r| r.offset..r.offset + r.bytes.len() as u64)
                .collect(),
        })
    }
}

/// The bytes two views of one file share (`Overlay::unchanged_with`).
pub struct Unchanged {
    below: u64,
    regions: Vec<std::ops::Range<u64>>,
}

impl Unchanged {
    /// Whether both views read `r` from the file itself, untouched by any region.
    pub fn covers(&self, r: &std::ops::Range<u64>) -> bool {
        r.end <= self.below
            && !self
                .regions
                .iter()
                .any(|g| g.start < r.end && r.start < g.end)
    }
}

impl Overlay<'_> {
    /// Original bytes at the cursor (below `base`, none of them under a region), from the window.
    fn original(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = self.window_at + self.window.len() as u64;
        let inside = self.pos >= self.window_at && self.pos < end;
        if !inside && buf.len() as u64 >= WINDOW {
            // A big read (a cover) goes straight into the caller's buffer: one copy, not two.
            return match self.file.read_at(buf, self.pos)? {
                0 => Err(io::ErrorKind::UnexpectedEof.into()),
                n => Ok(n),
            };
        }
        if !inside {
            let len = WINDOW.min(self.base - self.pos) as usize;
            self.window.resize(len, 0);
            let mut got = 0;
            while got < len {
                match self
                    .file
                    .read_at(&mut self.window[got..], self.pos + got as u64)?
                {
                    0 => break,
                    n => got += n,
                }
            }
            self.window.truncate(got);
            self.window_at = self.pos;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let at = (self.pos - self.window_at) as usize;
        let n = buf.len().min(self.window.len() - at);
        buf[..n].copy_from_slice(&self.window[at..at + n]);
        Ok(n)
    }
}

impl Read for Overlay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.len - self.pos);
        // The first region that ends after the cursor: either it covers the cursor, or the
        // original bytes are read up to its start.
        let next = self
            .regions
            .iter()
            .find(|r| r.offset + r.bytes.len() as u64 > self.pos);
        let n = match next {
            Some(r) if r.offset <= self.pos => {
                let at = (self.pos - r.offset) as usize;
                let n = (want as usize).min(r.bytes.len() - at);
                buf[..n].copy_from_slice(&r.bytes[at..at + n]);
                n
            }
            _ => {
                let stop = next.map_or(self.len, |r| r.offset).min(self.base);
                if stop <= self.pos {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a gap between the end of the file and an appended region",
                    ));
                }
                let n = want.min(stop - self.pos) as usize;
                self.original(&mut buf[..n])?
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Overlay<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(p) = target else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        };
        self.pos = p;
        Ok(p)
    }
}

/// Positioned reads of the view, so our own reader can judge the file as it will be (a
/// `Source::over` it) before a byte of it is written.
impl crate::formats::source::Backing for Overlay<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if offset.saturating_add(buf.len() as u64) > self.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let (mut pos, mut done) = (offset, 0);
        while done < buf.len() {
            let next = self
                .regions
                .iter()
                .find(|r| r.offset + r.bytes.len() as u64 > pos);
            let want = buf.len() - done;
            let n = match next {
                Some(r) if r.offset <= pos => {
                    let at = (pos - r.offset) as usize;
                    let n = want.min(r.bytes.len() - at);
                    buf[done..done + n].copy_from_slice(&r.bytes[at..at + n]);
                    n
                }
                _ => {
                    let stop = next.map_or(self.len, |r| r.offset).min(self.base);
                    if stop <= pos {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a gap between the end of the file and an appended region",
                        ));
                    }
                    let n = want.min((stop - pos) as usize);
                    self.file.read_exact_at(&mut buf[done..done + n], pos)?;
                    n
                }
            };
            (pos, done) = (pos + n as u64, done + n);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn region(offset: u64, bytes: &[u8]) -> Region {
        Region {
            offset,
            bytes: bytes.to_vec(),
        }
    }

    fn read_all(o: &mut Overlay) -> Vec<u8> {
        let mut out = Vec::new();
        o.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn regions_replace_the_bytes_they_cover() {
        let f = file_of(b"0123456789");
        let regions = [region(0, b"ab"), region(5, b"XYZ")];
        let mut o = Overlay::new(&f, 10, &regions);
        assert_eq!(read_all(&mut o), b"ab234XYZ89");
    }

    /// The positioned reads give the bytes the cursor reads give, at every offset and length,
    /// with an append and with a cut.
    #[test]
    fn positioned_reads_agree_with_the_cursor() {
        use crate::formats::source::Backing;
        let f = file_of(b"0123456789");
        for (base, regions) in [
            (
                10,
                vec![region(0, b"ab"), region(5, b"XYZ"), region(10, b"+tail")],
            ),
            (7, vec![region(2, b"cd")]),
        ] {
            let whole = read_all(&mut Overlay::new(&f, base, &regions));
            let o = Overlay::new(&f, base, &regions);
            for at in 0..whole.len() {
                for n in 0..=whole.len() - at {
                    let mut buf = vec![0u8; n];
                    o.read_at(&mut buf, at as u64).unwrap();
                    assert_eq!(buf, whole[at..at + n], "at {at}, {n} bytes");
                }
            }
            let mut past = vec![0u8; 2];
            assert!(
                o.read_at(&mut past, whole.len() as u64 - 1).is_err(),
                "past the end"
            );
        }
    }

    #[test]
    fn an_append_extends_the_view() {
        let f = file_of(b"0123");
        let regions = [region(1, b"-"), region(4, b"tail")];
        let mut o = Overlay::new(&f, 4, &regions);
        assert_eq!(read_all(&mut o), b"0-23tail");
    }

    #[test]
    fn seeks_land_inside_regions_and_original_bytes() {
        let f = file_of(b"0123456789");
        let regions = [region(3, b"abc")];
        let mut o = Overlay::new(&f, 10, &regions);
        let mut b = [0u8; 4];
        o.seek(SeekFrom::Start(4)).unwrap();
        o.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"bc67");
        o.seek(SeekFrom::End(-2)).unwrap();
        assert_eq!(read_all(&mut o), b"89");
        o.seek(SeekFrom::Current(-3)).unwrap();
        assert_eq!(read_all(&mut o), b"789");
        assert!(o.seek(SeekFrom::Current(-11)).is_err());
        o.seek(SeekFrom::Start(20)).unwrap();
        assert_eq!(read_all(&mut o), b"", "past the end reads nothing");
    }

    #[test]
    fn a_file_larger_than_the_window_reads_back_exactly() {
        let old: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let f = file_of(&old);
        let regions = [region(70_000, b"patch"), region(200_000, b"end")];
        let mut want = old.clone();
        want[70_000..70_005].copy_from_slice(b"patch");
        want.extend_from_slice(b"end");
        let mut o = Overlay::new(&f, 200_000, &regions);
        // Small reads with seeks back and forth, as a parser does.
        let mut b = [0u8; 7];
        for at in [0u64, 69_998, 150_000, 65_530, 199_996, 3] {
            o.seek(SeekFrom::Start(at)).unwrap();
            o.read_exact(&mut b).unwrap();
            assert_eq!(&b[..], &want[at as usize..at as usize + 7], "at {at}");
        }
        o.seek(SeekFrom::Start(0)).unwrap();
        assert!(read_all(&mut o) == want);
    }

    #[test]
    fn a_gap_before_an_append_is_an_error() {
        let f = file_of(b"0123");
        let regions = [region(6, b"x")];
        let mut o = Overlay::new(&f, 4, &regions);
        let mut out = Vec::new();
        assert!(o.read_to_end(&mut out).is_err());
    }

    #[test]
    fn the_file_cursor_is_not_moved() {
        let mut f = file_of(b"0123");
        f.seek(SeekFrom::Start(1)).unwrap();
        let mut o = Overlay::plain(&f, 4);
        assert_eq!(read_all(&mut o), b"0123");
        assert_eq!(f.stream_position().unwrap(), 1);
    }
}
