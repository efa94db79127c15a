//! Container formats: sniff the family from content, read the reservation carriers, and plan an
//! edit as data (in-place bytes or a rewrite recipe). Nothing here writes to a user file; the plans
//! are carried out by `crate::write`, the one module that modifies user files.

pub mod carry;
pub mod flac;
pub mod id3v2;
pub mod mp4;
pub mod mpeg;
pub mod mpeg_sync;
pub mod ogg;
mod plan;
pub mod render;
pub mod riff;
pub mod sniff;
pub mod source;
pub mod vorbis;
pub mod xmp;

use std::ops::Range;

pub use crate::model::{Carrier, CarrierKind, Container, Edit, RawField, Scan};
pub use plan::{Part, Plan, REWRITE_PADDING, Region, filler, patch_parts, splice};
pub use source::Source;

/// A per-file problem: a short, human-readable sentence (no path; the printer adds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for FormatError {
    fn from(e: std::io::Error) -> Self {
        FormatError(format!("read failed: {e}"))
    }
}

/// Builds a `FormatError` from format arguments.
#[macro_export]
macro_rules! bad {
    ($($arg:tt)*) => { $crate::formats::FormatError(format!($($arg)*)) };
}

pub type Result<T> = std::result::Result<T, FormatError>;

/// Reads the carriers of a file whose container is already known.
pub fn scan(src: &Source, container: Container) -> Result<Scan> {
    let carriers = match container {
        Container::Mpeg => mpeg::carriers(src)?,
        Container::Wav | Container::Aiff => riff::carriers(src)?,
        Container::Flac => flac::carriers(src)?,
        Container::OggVorbis | Container::OggOpus | Container::OggSpeex => ogg::carriers(src)?,
        Container::Mp4 => mp4::carriers(src)?,
    };
    Ok(Scan {
        container,
        carriers,
    })
}

/// Plans `edit` on the file's primary carrier. `Ok(None)` means the edit changes nothing.
pub fn plan(src: &Source, container: Container, edit: &Edit) -> Result<Option<Plan>> {
    match container {
        Container::Mpeg => mpeg::plan(src, edit),
        Container::Wav | Container::Aiff => riff::plan(src, edit),
        Container::Flac => flac::plan(src, edit),
        Container::OggVorbis | Container::OggOpus | Container::OggSpeex => ogg::plan(src, edit),
        Container::Mp4 => mp4::plan(src, edit),
    }
}

/// As `plan`, and with `xmp` the container's XMP packet too (merged, or created when fields are
/// set), where the container has a standard carrier.
pub fn plan_with(
    src: &Source,
    container: Container,
    edit: &Edit,
    xmp: bool,
) -> Result<Option<Plan>> {
    plan_xmp_chunks(src, container, edit, xmp, true)
}

/// As `plan_with`, but a WAV/AIFF XMP chunk that `strip` empties stays in place instead of
/// being removed by a rewrite: for a file whose hard links a rewrite would split.
pub fn plan_in_place_layout(
    src: &Source,
    container: Container,
    edit: &Edit,
    xmp: bool,
) -> Result<Option<Plan>> {
    plan_xmp_chunks(src, container, edit, xmp, false)
}

fn plan_xmp_chunks(
    src: &Source,
    container: Container,
    edit: &Edit,
    xmp: bool,
    drop_empty: bool,
) -> Result<Option<Plan>> {
    if !xmp || !container.has_xmp() {
        return plan(src, container, edit);
    }
    match container {
        Container::Mpeg => mpeg::plan_xmp(src, edit),
        Container::Wav | Container::Aiff => riff::plan_xmp(src, edit, drop_empty),
        Container::Mp4 => mp4::plan_xmp(src, edit),
        _ => plan(src, container, edit),
    }
}

/// The byte ranges of the file that hold the audio payload (everything an edit must not
/// change). Used to prove a write left the audio identical: in place, the written range must not
/// touch them; after a rewrite, their hash must equal the original's.
pub fn payload(src: &Source, container: Container) -> Result<Vec<Range<u64>>> {
    match container {
        Container::Mpeg => mpeg::payload(src),
        Container::Wav | Container::Aiff => riff::payload(src),
        Container::Flac => flac::payload(src),
        Container::OggVorbis | Container::OggOpus | Container::OggSpeex => ogg::payload(src),
        Container::Mp4 => mp4::payload(src),
    }
}

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

/// Helpers for the format unit tests: a file holding given bytes, and a plan applied in memory.
#[cfg(test)]
pub(crate) mod testutil {
    use std::fs::File;
    use std::io::Write;

    use super::{Plan, Source};

    /// A `Source` over a temp file holding `bytes` (the file is leaked: tests only).
    pub fn source_of(bytes: &[u8]) -> Source<'static> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        let f: &'static File = Box::leak(Box::new(f));
        Source::new(f, bytes.len() as u64)
    }

    /// The bytes a plan produces from `old`.
    pub fn apply(old: &[u8], plan: &Plan) -> Vec<u8> {
        super::render::apply(&source_of(old), plan).unwrap()
    }
}
