//! MPEG audio (MP3, AAC/ADTS) with an ID3v2 tag at the start: the tag is our carrier; everything
//! after it (audio frames, ID3v1, APE, Lyrics3) is payload and never touched.

use std::ops::Range;

use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Layout, Plan, Result, Source, filler, id3v2,
};

/// Every ID3v2 tag at the head of the file: normally one, but some taggers stack a second one
/// after the first, and a reservation hidden there must count too. Only the first is edited.
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for _ in 0..super::sniff::MAX_STACKED_TAGS {
        let Some(tag) = id3v2::read(src, pos)? else {
            break;
        };
        // Only the first tag is edited; what the later ones carry is read, never written.
        let first = pos == 0;
        let mark = |c: Carrier| if first { c } else { c.read_only() };
        pos += tag.region_len;
        if tag.has_c2pa() {
            out.push(Carrier::c2pa("ID3 GEOB"));
        }
        if let Some(packet) = tag.xmp()? {
            out.push(mark(super::xmp::carrier(&packet, "ID3 PRIV")?));
        }
        out.push(mark(Carrier::new(
            CarrierKind::Id3v2 { major: tag.major },
            tag.fields()?,
        )));
    }
    // The edited tag is the first; the last plain carrier is the primary one by convention.
    out.reverse();
    Ok(out)
}

/// The family: MP3 and AAC/ADTS.
pub struct Mpeg;

impl ContainerFormat for Mpeg {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(src)
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        payload(src)
    }
    fn legacy_fields(&self, src: &Source) -> Result<Vec<super::carry::Field>> {
        super::carry::mpeg(src)
    }
}

/// Plans `edit` on the first ID3v2 tag (with `edit.xmp`, its `PRIV` XMP packet too, SPEC §3.1);
/// `strip` may remove a tag that `tag` created whole (`Layout::Restore`).
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let Some(tag) = id3v2::read(src, 0)? else {
        if edit.set.is_empty() {
            return Ok(None);
        }
        // Readers that prefer ID3v2 stop looking at ID3v1/APEv2: their fields come along.
        let new = id3v2::carry::new_tag_carrying(edit, edit.xmp, &super::carry::mpeg(src)?)?;
        return Ok(Some(Plan::splice(src, 0, new, 0)));
    };
    if edit.layout == Layout::Restore
        && let Some(p) = super::carry::mpeg_unwrap(src, &tag, edit)?
    {
        return Ok(Some(p));
    }
    let region = tag.region_len;
    src.check(0, region, "ID3v2 tag")?;
    let Some(need) = tag.min_len_xmp(edit, edit.xmp)? else {
        return Ok(None);
    };
    let fits = filler(need as u64, region, 0).is_some();
    let pad_to = fits.then_some(region as usize);
    let Some(new) = tag.edited_xmp(edit, pad_to, edit.xmp)? else {
        return Ok(None);
    };
    // The write layer proves every write; a dry run checks here, to report what it would refuse.
    if edit.precheck {
        id3v2::cross_check(&src.read(0, region, "ID3v2 tag")?, &new, edit)?;
    }
    Ok(Some(match fits {
        true => Plan::at(0, new),
        false => Plan::splice(src, 0, new, region),
    }))
}

pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let start = id3v2::region_len(src, 0)?.unwrap_or(0);
    Ok(vec![Range {
        start,
        end: src.len(),
    }])
}
