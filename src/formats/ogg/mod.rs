//! Ogg Vorbis, Opus, Speex and FLAC: the comment header packet is the carrier (SPEC §3).
//! Reading takes only the first pages. An edit re-paginates the header packets that follow the
//! identification page and leaves every audio page byte-identical (in place) or identical but
//! for its sequence number and CRC (rewrite). Files this cannot edit faithfully (chained or
//! multiplexed streams, bytes after the last page, audio sharing the last header page) are
//! refused, not "repaired". Ogg FLAC (`flac`) grows into its PADDING block in place, gets one
//! on the comment's page where it has none (`repaginate`), and keeps its page breaks (libFLAC
//! writes one header packet per page).

mod flac;
mod headers;
mod page;
mod repaginate;
#[cfg(test)]
mod tests;

use std::ops::Range;

use headers::Headers;
pub use page::copy_pages;
use page::{FLAG_BOS, FLAG_EOS};
use repaginate::Repaginate;

use super::{Carrier, CarrierKind, ContainerFormat, Edit, Plan, Planned, Result, Source};
use crate::bad;

/// The family: Ogg Vorbis, Opus, Speex and FLAC.
pub struct Ogg;

impl ContainerFormat for Ogg {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(src)
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        payload(src)
    }
    fn plan_with_payload(&self, src: &Source, edit: &Edit) -> Result<Option<Planned>> {
        plan_walked(src, edit)
    }
}

/// Reads the comment packet from the first pages (a few KB) without walking the audio.
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let headers = Headers::read(src, false)?;
    let comments = headers.comments()?;
    Ok(vec![Carrier::new(
        CarrierKind::VorbisComment,
        comments.comments.fields(),
    )])
}

/// Plans `edit` on the comment packet: in place when the new header pages fit the old ones
/// exactly, else a rewrite that copies the identification page and renumbers the audio pages.
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    Ok(plan_walked(src, edit)?.map(|p| p.plan))
}

/// `plan`, with the payload found on the walk over the audio pages that refuses what an edit
/// cannot keep (chained or multiplexed streams, trailing bytes): one walk serves both.
fn plan_walked(src: &Source, edit: &Edit) -> Result<Option<Planned>> {
    let headers = Headers::read(src, true)?;
    let mut packet = headers.comments()?;
    if !packet.comments.apply(edit) {
        return Ok(None);
    }
    let (start, end) = headers.region()?;
    let mut payload = Vec::new();
    walk_audio(src, &headers, end, |r| payload.push(r))?;
    let mut pages = Repaginate::new(&headers, start, end)?;
    let mut plan = pages.in_place(&packet)?;
    if plan.is_none() && pages.lacks_padding(&headers) {
        pages = pages.with_new_padding(&headers)?;
        plan = pages.in_place(&packet)?;
    }
    let plan = match plan {
        Some(p) => p,
        None => pages.rewrite(src, &packet, edit.extra_padding as i64)?,
    };
    Ok(Some(Planned { plan, payload }))
}

/// The body ranges of every audio page (all pages after the header pages).
pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let headers = Headers::read(src, true)?;
    let (_, end) = headers.region()?;
    let mut ranges = Vec::new();
    walk_audio(src, &headers, end, |r| ranges.push(r))?;
    Ok(ranges)
}

/// Walks the page headers from `start` to the end of the file (27 + segments bytes each, never a
/// body), refusing chained or multiplexed streams and trailing bytes, and reports each body range.
fn walk_audio(
    src: &Source,
    headers: &Headers,
    start: u64,
    mut body: impl FnMut(Range<u64>),
) -> Result<()> {
    let serial = headers.pages.first().map_or(0, |p| p.serial);
    let mut ended = headers.pages.last().is_some_and(|p| p.has(FLAG_EOS));
    let mut offset = start;
    while offset < src.len() {
        let page = match page::read_header(src, offset) {
            Ok(page) => page,
            // A damaged or truncated page keeps its own message; anything else is foreign data.
            Err(e) if src.read_upto(offset, 4)? == b"OggS" => return Err(e),
            Err(_) => {
                return Err(bad!(
                    Unsupported,
                    "{} bytes after the last Ogg page (at byte {offset}), e.g. an ID3v1 tag; \
                     not supported",
                    src.len() - offset
                ));
            }
        };
        if page.has(FLAG_BOS) {
            return Err(bad!(
                Unsupported,
                "chained Ogg: a second stream starts at byte {offset}; not supported"
            ));
        }
        if page.serial != serial {
            return Err(bad!(
                Unsupported,
                "multiplexed Ogg: a page of another stream at byte {offset}; not supported"
            ));
        }
        if ended {
            return Err(bad!(
                Unsupported,
                "Ogg page at byte {offset} follows the end of the stream; not supported"
            ));
        }
        ended = page.has(FLAG_EOS);
        let body_start = offset + page.header_len();
        if page.end() > body_start {
            body(body_start..page.end());
        }
        offset = page.end();
    }
    Ok(())
}
