//! MPEG audio (MP3, AAC/ADTS) with an ID3v2 tag at the start: the tag is our carrier; everything
//! after it (audio frames, ID3v1, APE, Lyrics3) is payload and never touched.

use std::ops::Range;

use super::{Carrier, CarrierKind, Edit, Part, Plan, Result, Source, id3v2};

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

pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    plan_tag(src, edit, false)
}

fn plan_tag(src: &Source, edit: &Edit, xmp: bool) -> Result<Option<Plan>> {
    let Some(tag) = id3v2::read(src, 0)? else {
        if edit.set.is_empty() {
            return Ok(None);
        }
        // Readers that prefer ID3v2 stop looking at ID3v1/APEv2: their fields come along.
        let new = id3v2::carry::new_tag_carrying(edit, xmp, &super::carry::mpeg(src)?)?;
        return Ok(Some(Plan::Rewrite {
            parts: vec![
                Part::Bytes(new),
                Part::Copy {
                    offset: 0,
                    len: src.len(),
                },
            ],
        }));
    };
    let old = src.read(0, tag.region_len, "ID3v2 tag")?;
    let region = tag.region_len as usize;
    let Some(need) = tag.min_len_xmp(edit, xmp)? else {
        return Ok(None);
    };
    let pad_to = (need <= region).then_some(region);
    let Some(new) = tag.edited_xmp(edit, pad_to, xmp)? else {
        return Ok(None);
    };
    // The write layer proves every write again; checking here too lets `--dry-run` report a
    // tag the proof would refuse.
    id3v2::cross_check(&old, &new, edit)?;
    Ok(Some(match pad_to {
        Some(_) => Plan::at(0, new),
        None => Plan::Rewrite {
            parts: vec![
                Part::Bytes(new),
                Part::Copy {
                    offset: tag.region_len,
                    len: src.len() - tag.region_len,
                },
            ],
        },
    }))
}

pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let start = id3v2::region_len(src, 0)?.unwrap_or(0);
    Ok(vec![Range {
        start,
        end: src.len(),
    }])
}

/// As `plan`, with the XMP packet in a `PRIV` frame of the same tag (SPEC §3.1).
pub fn plan_xmp(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    plan_tag(src, edit, true)
}
