//! The container contract: what every container family does, as one trait, and the one registry
//! that maps a `Container` to its family. Adding a container means one module implementing
//! `ContainerFormat` and one line in `family`; the engine and the write layer reach containers
//! only through here (`formats::scan`, `plan`, `payload`).

use std::ops::Range;

use super::{
    Carrier, Container, Edit, Plan, Result, Source, apev2, asf, carry, dsd, flac, mkv, mp4, mpeg,
    ogg, riff,
};

/// One container family: how to read its carriers, plan an edit, and name its audio payload.
/// Planners only read; the plan is data the write layer carries out.
pub trait ContainerFormat: Sync {
    /// Every carrier the file holds, read-only ones too; the primary carrier (the plain tag
    /// that edits change) is the last editable one that is not XMP.
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>>;

    /// `edit` as a plan, following its XMP and layout choices; `Ok(None)` when it changes
    /// nothing.
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>>;

    /// The byte ranges of the file that hold the audio payload (everything an edit must not
    /// change). Used to prove a write left the audio identical: in place, the written range must
    /// not touch them; after a rewrite, their hash must equal the original's.
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>>;

    /// `plan`, and with a plan the original's `payload`, for the write layer's proof. A family
    /// whose planner walks the whole file anyway (Ogg) finds both in one walk.
    fn plan_with_payload(&self, src: &Source, edit: &Edit) -> Result<Option<Planned>> {
        let Some(plan) = self.plan(src, edit)? else {
            return Ok(None);
        };
        let payload = self.payload(src)?;
        Ok(Some(Planned { plan, payload }))
    }

    /// The standard fields of the older tags that a new ID3v2 tag carries (`formats::carry`):
    /// none for a container whose carrier `tag` never creates that way.
    fn legacy_fields(&self, _src: &Source) -> Result<Vec<carry::Field>> {
        Ok(Vec::new())
    }
}

/// A plan and the audio payload of the file it was made from (`ContainerFormat::payload`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub plan: Plan,
    pub payload: Vec<Range<u64>>,
}

/// The registry: the family that handles `container`.
pub fn family(container: Container) -> &'static dyn ContainerFormat {
    match container {
        Container::Mpeg => &mpeg::Mpeg,
        Container::Wav | Container::Aiff => &riff::Riff,
        Container::Flac => &flac::Flac,
        Container::OggVorbis | Container::OggOpus | Container::OggSpeex => &ogg::Ogg,
        Container::OggFlac => &ogg::Ogg,
        Container::Mp4 => &mp4::Mp4,
        Container::Rf64 => &riff::Riff,
        Container::Dsf => &dsd::Dsf,
        Container::Dsdiff => &dsd::Dsdiff,
        Container::WavPack => &apev2::Apev2(Container::WavPack),
        Container::MonkeysAudio => &apev2::Apev2(Container::MonkeysAudio),
        Container::Musepack => &apev2::Apev2(Container::Musepack),
        Container::Tta => &apev2::Apev2(Container::Tta),
        Container::Asf => &asf::Asf,
        Container::Matroska => &mkv::Matroska,
    }
}
