//! Container formats: sniff the family from content; then, through the one contract every family
//! implements (`ContainerFormat`, looked up in the registry `family`), read the reservation
//! carriers, plan an edit as data (`Plan`: positioned writes or a rewrite recipe) and name the
//! audio payload. Nothing here writes to a user file; the plans are carried out by `crate::write`,
//! the one module that modifies user files. docs/architecture.md has the whole picture.

pub mod apev2;
pub mod asf;
pub mod carry;
mod digest;
pub mod dsd;
mod family;
pub mod flac;
pub mod id3v2;
pub mod mkv;
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

pub use crate::model::{Carrier, CarrierKind, Container, Edit, Layout, RawField, Scan};
pub use digest::{hex, same_bytes, sha256_file, sha256_ranges};
pub use family::{ContainerFormat, Planned, family};
pub use plan::{Part, Plan, REWRITE_PADDING, Region, filler, patch_parts};
pub use source::Source;

/// A per-file problem (kind and sentence); the name the parsers use for `crate::error::FileError`.
pub use crate::error::FileError as FormatError;

pub type Result<T> = std::result::Result<T, FormatError>;

/// Reads the carriers of a file whose container is already known.
pub fn scan(src: &Source, container: Container) -> Result<Scan> {
    Ok(Scan {
        container,
        carriers: family(container).carriers(src)?,
    })
}

/// Plans `edit` (its XMP and layout choices included); `Ok(None)` means it changes nothing.
pub fn plan(src: &Source, container: Container, edit: &Edit) -> Result<Option<Plan>> {
    family(container).plan(src, edit)
}

/// As `plan`, with the original's audio payload (`ContainerFormat::plan_with_payload`).
pub fn plan_with_payload(
    src: &Source,
    container: Container,
    edit: &Edit,
) -> Result<Option<Planned>> {
    family(container).plan_with_payload(src, edit)
}

/// The byte ranges of the file that hold the audio payload (`ContainerFormat::payload`).
pub fn payload(src: &Source, container: Container) -> Result<Vec<Range<u64>>> {
    family(container).payload(src)
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
