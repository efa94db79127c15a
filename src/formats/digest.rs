//! The audio payload compared and digested: byte for byte between an original and its rewrite
//! (the write layer's proof that the audio was kept), and SHA-256 digests of a file, whole or
//! over its payload ranges, for the evidence `--evidence` records.

use std::ops::Range;

use super::{Result, Source};

/// SHA-256 over byte ranges of a file, in order.
pub fn sha256_ranges(src: &Source, ranges: &[Range<u64>]) -> Result<[u8; 32]> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    // No bigger than the data: zeroing an unused MiB per small file cost more than hashing it.
    let mut buf = vec![0u8; total(ranges).min(1 << 20) as usize];
    for r in ranges {
        let mut pos = r.start;
        while pos < r.end {
            let n = ((r.end - pos) as usize).min(buf.len());
            src.read_into(pos, &mut buf[..n], "audio data")?;
            h.update(&buf[..n]);
            pos += n as u64;
        }
    }
    Ok(h.finalize().into())
}

/// Whether the bytes of `a`'s ranges, in order, are those of `b`'s (the ranges may be cut up
/// differently, as Ogg pages are). Stricter than comparing two digests, and cheaper.
pub fn same_bytes(a: &Source, ar: &[Range<u64>], b: &Source, br: &[Range<u64>]) -> Result<bool> {
    if total(ar) != total(br) {
        return Ok(false);
    }
    let step = total(ar).min(256 << 10) as usize;
    let (mut x, mut y) = (vec![0u8; step], vec![0u8; step]);
    let (mut ra, mut rb) = (Spans::new(ar), Spans::new(br));
    loop {
        let (n, m) = (ra.fill(a, &mut x)?, rb.fill(b, &mut y)?);
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn total(ranges: &[Range<u64>]) -> u64 {
    ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum()
}

/// Reads a list of ranges as one stream.
struct Spans<'a> {
    ranges: &'a [Range<u64>],
    /// Bytes of `ranges[0]` already read.
    done: u64,
}

impl<'a> Spans<'a> {
    fn new(ranges: &'a [Range<u64>]) -> Spans<'a> {
        Spans { ranges, done: 0 }
    }

    /// Fills `buf` as far as the ranges go; the bytes filled (0 at the end).
    fn fill(&mut self, src: &Source, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len()
            && let Some(r) = self.ranges.first()
        {
            let left = r.end.saturating_sub(r.start) - self.done;
            let k = left.min((buf.len() - n) as u64) as usize;
            src.read_into(r.start + self.done, &mut buf[n..n + k], "audio data")?;
            (n, self.done) = (n + k, self.done + k as u64);
            if self.done == r.end.saturating_sub(r.start) {
                (self.ranges, self.done) = (&self.ranges[1..], 0);
            }
        }
        Ok(n)
    }
}

/// SHA-256 of a whole file.
pub fn sha256_file(src: &Source) -> Result<[u8; 32]> {
    sha256_ranges(
        src,
        &[Range {
            start: 0,
            end: src.len(),
        }],
    )
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    // Not `format!` per byte: the Matroska proof hex-encodes a digest per element, and the
    // formatter made that 3 % of `tag`'s time.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // a list of one range is what is meant
    fn ranges_cut_up_differently_compare_by_their_bytes() {
        let f = tempfile::tempfile().unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, b"..abcdef..abXdef", 0).unwrap();
        let src = Source::new(&f, 16);
        let same = same_bytes(&src, &[2..5, 5..8], &src, &[2..3, 3..8]).unwrap();
        assert!(same, "abcdef both ways");
        assert!(
            !same_bytes(&src, &[2..8], &src, &[10..16]).unwrap(),
            "abXdef differs"
        );
        assert!(
            !same_bytes(&src, &[2..8], &src, &[2..7]).unwrap(),
            "a byte shorter"
        );
        assert!(
            same_bytes(&src, &[], &src, &[4..4]).unwrap(),
            "nothing and nothing"
        );
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn a_difference_past_the_first_step_counts() {
        // Two copies of 600 KiB (more than two steps) that differ in one byte near the end.
        let n = 600 << 10;
        let mut data: Vec<u8> = (0..2 * n).map(|i| (i % n % 251) as u8).collect();
        let f = tempfile::tempfile().unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, &data, 0).unwrap();
        let src = Source::new(&f, data.len() as u64);
        let (a, b) = (0..n as u64, n as u64..2 * n as u64);
        assert!(
            same_bytes(
                &src,
                std::slice::from_ref(&a),
                &src,
                std::slice::from_ref(&b)
            )
            .unwrap()
        );
        data[2 * n - 7] ^= 1;
        std::os::unix::fs::FileExt::write_all_at(&f, &data, 0).unwrap();
        assert!(
            !same_bytes(&src, &[a], &src, &[b]).unwrap(),
            "the last step"
        );
        assert!(!same_bytes(&src, &[0..3], &src, &[1..4]).unwrap());
        assert!(same_bytes(&src, &[0..3], &src, &[n as u64..n as u64 + 3]).unwrap());
    }
}
