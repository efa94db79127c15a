//! The two DSD containers, both tagged with a plain ID3v2 tag: DSF (Sony; the tag at the end of
//! the file, pointed to by the `DSD ` chunk) and DSDIFF (Philips; an `ID3 ` chunk in the 64-bit
//! `FRM8` form, where TagLib and mutagen read it). Neither has a standard XMP carrier. What the
//! two share is here: reading the tag out of its slot (the tag, then zero padding) and its bytes
//! after an edit; `dsf` and `dff` know where the slot is and how the file's sizes follow it.

mod dff;
mod dsf;

use std::ops::Range;

use super::{Carrier, CarrierKind, ContainerFormat, Edit, Plan, Result, Source, filler, id3v2};
use crate::model::Layout;

/// The DSF family.
pub struct Dsf;

/// The DSDIFF family.
pub struct Dsdiff;

impl ContainerFormat for Dsf {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(dsf::slot(src)?.as_deref())
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        dsf::plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        dsf::payload(src)
    }
}

impl ContainerFormat for Dsdiff {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(dff::slot(src)?.as_deref())
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        dff::plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        dff::payload(src)
    }
}

/// The ID3v2 tag in `slot` (its bytes: the tag, then zeros), if any, as the one carrier.
fn carriers(slot: Option<&[u8]>) -> Result<Vec<Carrier>> {
    let Some(slot) = slot else {
        return Ok(Vec::new());
    };
    let Some(len) = super::riff::id3_len(slot)? else {
        return Ok(Vec::new());
    };
    let tag = id3v2::parse(&slot[..len])?;
    Ok(vec![Carrier::new(
        CarrierKind::Id3v2 { major: tag.major },
        tag.fields()?,
    )])
}

/// What an edit does to the tag in its slot.
#[derive(Debug, PartialEq, Eq)]
enum Tagged {
    /// New slot contents: exactly the old slot's length when the tag fits there, longer when
    /// it grows (with fresh padding).
    Bytes(Vec<u8>),
    /// `strip` with `Layout::Restore` on a tag that held nothing but ours: the slot goes.
    Gone,
}

/// The slot's new contents after `edit`, or `None` when nothing changes. A file without a tag
/// (no slot, or one of zeros) gets a new ID3v2.3 tag when fields are set.
fn edited(slot: Option<&[u8]>, edit: &Edit) -> Result<Option<Tagged>> {
    let tag_len = match slot {
        Some(s) => super::riff::id3_len(s)?,
        None => None,
    };
    let (Some(slot), Some(tag_len)) = (slot, tag_len) else {
        if edit.set.is_empty() {
            return Ok(None);
        }
        // A slot of zeros big enough is filled exactly, so nothing after it moves.
        let need =
            id3v2::carry::new_tag_padded(edit, false, &[], None)?.len() - edit.rewrite_padding();
        let room = slot.map_or(0, <[u8]>::len);
        let pad_to = filler(need as u64, room as u64, 0).map(|_| room);
        let new = id3v2::carry::new_tag_padded(edit, false, &[], pad_to)?;
        return Ok(Some(Tagged::Bytes(new)));
    };
    let tag = id3v2::parse(&slot[..tag_len])?;
    let Some(need) = tag.min_len(edit)? else {
        return Ok(None);
    };
    if edit.layout == Layout::Restore && edit.set.is_empty() && tag.only_ours_and(edit, &[])? {
        return Ok(Some(Tagged::Gone));
    }
    let room = slot.len();
    let pad_to = filler(need as u64, room as u64, 0).map(|_| room);
    let Some(new) = tag.edited(edit, pad_to)? else {
        return Ok(None);
    };
    id3v2::precheck(&slot[..tag_len], &new, edit)?;
    Ok(Some(Tagged::Bytes(new)))
}

/// A 64-bit size field, little-endian (DSF) or big-endian (DSDIFF).
fn u64_at(b: &[u8], little: bool) -> u64 {
    let a: [u8; 8] = b[..8].try_into().unwrap_or_default();
    if little {
        u64::from_le_bytes(a)
    } else {
        u64::from_be_bytes(a)
    }
}

#[cfg(test)]
mod tests;
