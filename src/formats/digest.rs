//! SHA-256 digests of a file, whole or over the ranges of its audio payload: the write layer's
//! proof that a rewrite kept the audio, and the evidence `--evidence` records.

use std::ops::Range;

use super::{Container, Result, Source, payload};

/// SHA-256 of the audio payload (the ranges `payload` names), read in 1 MiB steps.
pub fn payload_sha256(src: &Source, container: Container) -> Result<[u8; 32]> {
    sha256_ranges(src, &payload(src, container)?)
}

/// SHA-256 over byte ranges of a file, in order.
pub fn sha256_ranges(src: &Source, ranges: &[Range<u64>]) -> Result<[u8; 32]> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
