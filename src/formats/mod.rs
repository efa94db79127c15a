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
pub mod render;
pub mod riff;
pub mod sniff;
pub mod source;
pub mod vorbis;
pub mod xmp;

use std::ops::Range;

use crate::bad;

pub use source::Source;

/// A per-file problem (kind and sentence); the name the parsers use for `crate::error::FileError`.
pub use crate::error::FileError as FormatError;

pub type Result<T> = std::result::Result<T, FormatError>;

/// The container family, decided by content (never by extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    /// MPEG audio (MP3, or AAC/ADTS) with an optional ID3v2 tag at the start.
    #[serde(rename = "mp3")]
    Mpeg,
    Wav,
    Aiff,
    Flac,
    OggVorbis,
    #[serde(rename = "opus")]
    OggOpus,
    #[serde(rename = "speex")]
    OggSpeex,
    Mp4,
}

impl Container {
    /// True when the container has a standard XMP carrier (SPEC §3.1).
    pub fn has_xmp(self) -> bool {
        matches!(
            self,
            Container::Mpeg | Container::Wav | Container::Aiff | Container::Mp4
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Container::Mpeg => "mp3",
            Container::Wav => "wav",
            Container::Aiff => "aiff",
            Container::Flac => "flac",
            Container::OggVorbis => "ogg-vorbis",
            Container::OggOpus => "opus",
            Container::OggSpeex => "speex",
            Container::Mp4 => "mp4",
        }
    }
}

/// Where a set of fields was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum CarrierKind {
    /// An ID3v2 tag (MP3 head, WAV/AIFF chunk, or an ID3 prefix before FLAC); `major` is 2, 3, 4.
    Id3v2 {
        major: u8,
    },
    VorbisComment,
    Mp4Ilst,
    /// An XMP packet; `place` names its container box, chunk or frame.
    Xmp {
        place: &'static str,
    },
    /// A C2PA manifest store (detected, not read): no fields, a note.
    C2pa {
        place: &'static str,
    },
}

impl CarrierKind {
    pub fn label(&self) -> String {
        match self {
            CarrierKind::Id3v2 { major } => format!("ID3v2.{major} TXXX"),
            CarrierKind::VorbisComment => "Vorbis comment".into(),
            CarrierKind::Mp4Ilst => "MP4 ilst freeform".into(),
            CarrierKind::Xmp { place } => format!("XMP ({place})"),
            CarrierKind::C2pa { place } => format!("C2PA ({place})"),
        }
    }
}

/// One user-defined text field as stored: the key exactly as written (TXXX description, Vorbis
/// field name, freeform atom name) and its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawField {
    pub key: String,
    pub value: String,
}

/// The user-defined text fields of one carrier. Readers return every user-defined text field they
/// find (TXXX frames, all Vorbis comments, all freeform atoms); `crate::policy` picks SPEC's keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Carrier {
    pub kind: CarrierKind,
    pub fields: Vec<RawField>,
    /// What the reader noticed about the carrier itself (e.g. a non-canonical namespace).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// False for a carrier we read but never write (an ID3v2 tag before a FLAC stream, a second
    /// stacked ID3v2 tag, a C2PA store): a job must not promise an outcome that needs it changed.
    #[serde(skip)]
    pub editable: bool,
}

impl Carrier {
    pub fn new(kind: CarrierKind, fields: Vec<RawField>) -> Carrier {
        Carrier {
            kind,
            fields,
            notes: Vec::new(),
            editable: true,
        }
    }

    /// The carrier, marked as one that edits never change.
    pub fn read_only(self) -> Carrier {
        Carrier {
            editable: false,
            ..self
        }
    }

    /// A C2PA manifest store found at `place`; its assertions are not read.
    pub fn c2pa(place: &'static str) -> Carrier {
        let note = "a C2PA manifest store is present (its training-mining assertion is not read)";
        Carrier {
            kind: CarrierKind::C2pa { place },
            fields: Vec::new(),
            notes: vec![note.into()],
            editable: false,
        }
    }
}

/// What reading a file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub container: Container,
    pub carriers: Vec<Carrier>,
}

/// A change to the user-defined text fields of the file's primary carrier: delete every field
/// whose key equals one of `remove` (ASCII case-insensitive), then append `set` in order.
/// Keys in `set` are canonical (UPPERCASE ASCII); values are trimmed UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub remove: Vec<String>,
    pub set: Vec<(String, String)>,
}

impl Edit {
    pub fn removes(&self, key: &str) -> bool {
        self.remove.iter().any(|k| k.eq_ignore_ascii_case(key))
    }
}

/// Fresh padding left by a rewrite so the next edit fits in place.
pub const REWRITE_PADDING: usize = 8192;

/// One piece of a rewritten file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// New bytes.
    Bytes(Vec<u8>),
    /// `len` bytes copied verbatim from the original at `offset`.
    Copy { offset: u64, len: u64 },
    /// Ogg pages copied from the original range with each page's sequence number shifted by
    /// `seq_delta` and its CRC recomputed (bodies and granule positions unchanged).
    OggPages {
        offset: u64,
        len: u64,
        seq_delta: i64,
    },
}

/// How to carry out an edit. Built from a scan of the original; the writer checks the file is
/// unchanged since then before acting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Overwrite `bytes.len()` bytes at `offset`; the file size does not change.
    InPlace { offset: u64, bytes: Vec<u8> },
    /// Build a new file from `parts` (temp sibling + rename).
    Rewrite { parts: Vec<Part> },
    /// Several positioned writes, in increasing offset order and not overlapping; the last may
    /// start exactly at the end of the file (an append: the file grows, nothing moves).
    Patch { regions: Vec<Region> },
    /// Positioned writes as in `Patch` (none past `len`), then the file is cut to `len` bytes,
    /// shorter than now: `strip` taking away a box `tag` appended at the end.
    Cut { regions: Vec<Region>, len: u64 },
}

/// One positioned write of a `Plan::Patch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

impl Plan {
    /// The plan as positioned writes, or `None` for a rewrite (a `Cut`'s length is `cut()`).
    pub fn regions(self) -> Option<Vec<Region>> {
        match self {
            Plan::InPlace { offset, bytes } => Some(vec![Region { offset, bytes }]),
            Plan::Patch { regions } | Plan::Cut { regions, .. } => Some(regions),
            Plan::Rewrite { .. } => None,
        }
    }

    /// The length a `Plan::Cut` leaves the file, after its writes.
    pub fn cut(&self) -> Option<u64> {
        match self {
            Plan::Cut { len, .. } => Some(*len),
            _ => None,
        }
    }
}

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

/// `parts` with the original bytes at `offset` replaced by `bytes` (same length): the `Copy`
/// part covering them is split around the new bytes. For folding a small patch (a retyped box,
/// a size field) into a rewrite.
pub fn patch_parts(parts: Vec<Part>, offset: u64, bytes: &[u8]) -> Result<Vec<Part>> {
    let end = offset + bytes.len() as u64;
    let mut out = Vec::with_capacity(parts.len() + 2);
    let mut done = false;
    for p in parts {
        match p {
            Part::Copy { offset: o, len } if !done && o <= offset && end <= o + len => {
                out.push(Part::Copy {
                    offset: o,
                    len: offset - o,
                });
                out.push(Part::Bytes(bytes.to_vec()));
                out.push(Part::Copy {
                    offset: end,
                    len: o + len - end,
                });
                done = true;
            }
            other => out.push(other),
        }
    }
    if !done {
        return Err(bad!(
            "internal: no copied range covers bytes {offset}..{end}"
        ));
    }
    out.retain(|p| !matches!(p, Part::Copy { len: 0, .. }));
    Ok(out)
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
