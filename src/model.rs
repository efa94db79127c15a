//! The shared vocabulary of the crate, a leaf that imports nothing of it: the container families,
//! the carriers a file holds and their raw fields, an edit of those fields, how a write is carried
//! out, and SPEC §1's keys. `policy` (the SPEC rules) and `formats` (the containers) both build on
//! these types, so neither has to import the other.

/// SPEC §1's keys, canonical spelling.
pub const KEY_RESERVATION: &str = "TDM-RESERVATION";
pub const KEY_DATAMINING: &str = "DATAMINING";
pub const KEY_POLICY: &str = "TDM-POLICY";
pub const KEY_CONSTRAINTS: &str = "OTHERCONSTRAINTS";
/// Every key of SPEC §1, canonical spelling.
pub const SPEC_KEYS: [&str; 4] = [KEY_RESERVATION, KEY_DATAMINING, KEY_POLICY, KEY_CONSTRAINTS];
/// The PLUS vocabulary prefix (scheme `http`, as registered).
pub const PLUS_PREFIX: &str = "http://ns.useplus.org/ldf/vocab/";

/// True for a key of SPEC §1 in any letter case.
pub fn is_spec_key(key: &str) -> bool {
    SPEC_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

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
    /// FLAC in Ogg (the FLAC-to-Ogg mapping: each metadata block one header packet).
    OggFlac,
    Mp4,
    /// RF64/BW64 WAV: a `RIFF`-like form whose sizes live in a `ds64` chunk.
    Rf64,
    /// DSF (Sony DSD stream file): ID3v2 at the end, pointed to by the `DSD ` chunk.
    Dsf,
    /// DSDIFF (Philips DSD interchange file): an `ID3 ` chunk in the `FRM8` form.
    Dsdiff,
    /// WavPack, Monkey's Audio, Musepack, TTA: an APEv2 tag at the end (`formats::apev2`).
    #[serde(rename = "wavpack")]
    WavPack,
    #[serde(rename = "ape")]
    MonkeysAudio,
    Musepack,
    Tta,
    /// ASF (Windows Media Audio).
    Asf,
    /// Matroska or WebM audio (EBML DocType `matroska` / `webm`).
    Matroska,
}

impl Container {
    /// True when the container has a standard XMP carrier (SPEC §3.1).
    pub fn has_xmp(self) -> bool {
        matches!(
            self,
            Container::Mpeg | Container::Wav | Container::Aiff | Container::Mp4 | Container::Rf64
        )
    }

    /// True for the containers whose tag is APEv2 at the end (`formats::apev2`).
    pub fn has_apev2(self) -> bool {
        matches!(
            self,
            Container::WavPack | Container::MonkeysAudio | Container::Musepack | Container::Tta
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
            Container::OggFlac => "ogg-flac",
            Container::Mp4 => "mp4",
            Container::Rf64 => "rf64",
            Container::Dsf => "dsf",
            Container::Dsdiff => "dsdiff",
            Container::WavPack => "wavpack",
            Container::MonkeysAudio => "ape",
            Container::Musepack => "musepack",
            Container::Tta => "tta",
            Container::Asf => "asf",
            Container::Matroska => "matroska",
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
    /// An APEv2 (or, read-only, APEv1) tag at the end of a WavPack, Monkey's, Musepack, TTA file.
    Apev2,
    /// ASF attributes (UTF-16 strings); `place` names the object that holds them.
    Asf {
        place: &'static str,
    },
    /// Matroska/WebM `SimpleTag`s of a file-level `Tag`.
    MatroskaTags,
    /// An XMP packet; `place` names its container box, chunk or frame.
    Xmp {
        place: &'static str,
    },
    /// A C2PA manifest store: no fields; `crate::c2pa` validates it and reads its assertion.
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
            CarrierKind::Apev2 => "APEv2 item".into(),
            CarrierKind::Asf { place } => format!("ASF attribute ({place})"),
            CarrierKind::MatroskaTags => "Matroska SimpleTag".into(),
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

    /// A C2PA manifest store found at `place` (read by `crate::c2pa`, not here).
    pub fn c2pa(place: &'static str) -> Carrier {
        Carrier {
            kind: CarrierKind::C2pa { place },
            fields: Vec::new(),
            notes: Vec::new(),
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
/// Keys in `set` are canonical (UPPERCASE ASCII); values are trimmed UTF-8. The engine makes
/// the two choices below once per file; every planner follows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub remove: Vec<String>,
    pub set: Vec<(String, String)>,
    /// The container's XMP packet carries the edit too (merged, or created when fields are
    /// set). Only set where the container has a standard XMP carrier (SPEC §3.1).
    pub xmp: bool,
    /// Whether `strip` may remove a carrier whole.
    pub layout: Layout,
    /// Bytes added to (or, negative, taken from) a rewrite's fresh padding, less than one
    /// file-system block, so that the audio moves by whole blocks and the write layer can clone
    /// it (`engine/decide.rs`).
    pub extra_padding: i32,
    /// Planners check a new ID3v2 tag with the `id3` crate themselves (`id3v2::precheck`):
    /// only for `--dry-run`, whose plans are never written, so that it reports what the write
    /// layer's proof would refuse. A plan that is written gets that same check from the proof,
    /// on the bytes to be written, before anything is; planning checked it a second time.
    pub precheck: bool,
}

/// What an edit may do to the file's layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// Every carrier stays, emptied if need be: for a file with several hard links, which a
    /// rewrite would split.
    #[default]
    Keep,
    /// `strip` removes a carrier that held nothing but what `tag` put there (an ID3v2 tag or
    /// chunk `tag` created, an XMP chunk left empty), restoring the layout from before `tag`.
    Restore,
}

impl Edit {
    pub fn removes(&self, key: &str) -> bool {
        self.remove.iter().any(|k| k.eq_ignore_ascii_case(key))
    }
}

/// How a write is carried out: positioned writes into the file, or a new file renamed over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    InPlace,
    Rewrite,
}

/// The validation state of a C2PA manifest (the SDK's `ValidationState`): `valid` means the
/// signature and hashes check out, `trusted` also that the signer chains to a trust anchor the
/// user gave; `invalid` that the file changed after signing, the signature is bad, or the store
/// cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignState {
    Invalid,
    Valid,
    Trusted,
}

/// The `use` of a training-mining entry, least restrictive first so `Ord` ranks strictness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Use {
    Allowed,
    Constrained,
    NotAllowed,
}

impl Use {
    /// The spelling CAWG v1.1 uses.
    pub fn name(self) -> &'static str {
        match self {
            Use::Allowed => "allowed",
            Use::Constrained => "constrained",
            Use::NotAllowed => "notAllowed",
        }
    }
}

/// One entry of a training-mining assertion, its value checked against CAWG v1.1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedEntry {
    /// The key as signed (`cawg.ai_training`, or `c2pa.ai_training` in the legacy assertion).
    pub key: String,
    #[serde(rename = "use")]
    pub use_: Use,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_info: Option<String>,
    /// What the entry counts as: `constrained` without `constraint_info` is `notAllowed`.
    pub effective: Use,
}

/// What a file's C2PA manifest store says (issue 17): read by `crate::c2pa`, joined with the
/// tags by `crate::policy::join_signed`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signed {
    /// Where the store is (`ID3 GEOB`, `C2PA chunk`, `MP4 uuid box`).
    pub place: &'static str,
    pub state: SignState,
    /// The training-mining assertion's label in the active manifest, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion: Option<String>,
    /// The assertion is the removed C2PA 1.x `c2pa.training-mining`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub legacy: bool,
    pub entries: Vec<SignedEntry>,
    /// Entries whose value is outside CAWG v1.1 (an unknown `use`, a malformed entry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bad_entries: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// The validation failure codes (`assertion.dataHash.mismatch`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Why the store could not be read at all (then `state` is `invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SignState {
    pub fn name(self) -> &'static str {
        match self {
            SignState::Invalid => "invalid",
            SignState::Valid => "valid",
            SignState::Trusted => "trusted",
        }
    }
}

impl Signed {
    /// A store at `place` in `state` with nothing read from it yet.
    pub fn bare(place: &'static str, state: SignState) -> Signed {
        Signed {
            place,
            state,
            assertion: None,
            legacy: false,
            entries: Vec::new(),
            bad_entries: Vec::new(),
            issuer: None,
            common_name: None,
            failures: Vec::new(),
            error: None,
        }
    }

    /// True for a manifest a tag edit would break: one that verifies now.
    pub fn verifies(&self) -> bool {
        self.state != SignState::Invalid
    }
}
