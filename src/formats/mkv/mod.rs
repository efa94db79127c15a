//! Matroska / WebM audio (.mka, .webm): the reservation lives in `SimpleTag`s (TagName = key,
//! TagString = value) of a `Tag` about the whole file (no target UIDs, TargetTypeValue 50 or
//! none) in the Segment's `Tags` element. Reading walks the Segment's level-1 element headers, so
//! Clusters (the audio) are skipped, never read. SeekHead and Cues positions count from the
//! Segment's data start, so an edit never moves anything else: the new `Tags` goes where the old
//! one and the `Void`s after it were, or grows at the end of the file, or moves to a `Void` run
//! or to the end with the old one turned into a `Void` and the SeekHead entry repointed (see
//! `place`). A file with a video track, more than one Segment or a live stream's unknown sizes
//! is refused for writing.

mod ebml;
mod layout;
mod place;
mod tags;

use std::ops::Range;

use super::{Carrier, CarrierKind, ContainerFormat, Edit, Plan, Result, Source};

pub use layout::is_ebml;

/// The family: Matroska and WebM.
pub struct Matroska;

impl ContainerFormat for Matroska {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(src)
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        place::plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        payload(src)
    }
}

/// The file-level SimpleTags of every `Tags` element, as one carrier (with no fields when there
/// is none: `tag` creates it).
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let lay = layout::walk(src)?;
    layout::audio_only(src, &lay)?;
    let mut carrier = Carrier::new(CarrierKind::MatroskaTags, Vec::new());
    for t in lay.all(ebml::TAGS) {
        let buf = layout::read_data(src, t, "Tags")?;
        let (fields, notes) = tags::fields(&buf, t.body())?;
        carrier.fields.extend(fields);
        carrier.notes.extend(notes);
    }
    if lay.open {
        carrier.notes.push(
            "live stream: a Cluster of unknown size ends the walk; Tags after it were not read"
                .into(),
        );
    }
    Ok(vec![carrier])
}

/// Every Cluster: the audio an edit must never change.
pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let lay = layout::walk(src)?;
    Ok(lay
        .all(ebml::CLUSTER)
        .map(|c| c.start..if c.size.is_some() { c.end() } else { lay.end })
        .collect())
}

#[cfg(test)]
mod tests;
