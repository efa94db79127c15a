//! Ogg Vorbis, Opus, Speex and FLAC: the comment header packet is the carrier (SPEC §3).
//! Reading takes only the first pages. An edit re-paginates the header packets that follow the
//! identification page and leaves every audio page byte-identical (in place) or identical but
//! for its sequence number and CRC (rewrite). Files this cannot edit faithfully (chained or
//! multiplexed streams, bytes after the last page, audio sharing the last header page) are
//! refused, not "repaired". Ogg FLAC (`flac`) grows into its PADDING block in place, and keeps
//! libFLAC's layout of one header packet per page.

mod flac;
mod headers;
mod page;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::ops::Range;

use headers::{Codec, CommentPacket, Headers};
pub use page::copy_pages;
use page::{FLAG_BOS, FLAG_EOS, NO_GRANULE, Stream};

use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Part, Plan, Planned, REWRITE_PADDING, Result,
    Source,
};
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
    let pages = Repaginate::new(&headers, start, end)?;
    let plan = match pages.in_place(&packet)? {
        Some(p) => p,
        None => pages.rewrite(src, &packet, edit.extra_padding as i64)?,
    };
    Ok(Some(Planned { plan, payload }))
}

/// The header pages after the identification page (`start..end`), to be paginated afresh
/// around a new comment packet; the packets after it are kept as they are, but for an Ogg FLAC
/// PADDING block, which is resized.
struct Repaginate<'a> {
    start: u64,
    end: u64,
    old_pages: usize,
    stream: Stream,
    rest: Vec<&'a [u8]>,
    /// Ogg FLAC: each header packet on pages of its own (as libFLAC writes them).
    flushed: bool,
    /// Ogg FLAC: the index in `rest` of the first PADDING block, and its block flags.
    pad_at: Option<(usize, u8)>,
}

impl<'a> Repaginate<'a> {
    fn new(headers: &'a Headers, start: u64, end: u64) -> Result<Repaginate<'a>> {
        // `region` checked there is a page after the identification page.
        let old = headers.pages.get(1..).unwrap_or_default();
        let last = old
            .last()
            .ok_or_else(|| bad!("the Ogg header pages are malformed"))?;
        let stream = Stream {
            serial: last.serial,
            first_seq: old.first().map_or(0, |p| p.sequence),
            granule: if last.granule == NO_GRANULE {
                0
            } else {
                last.granule
            },
            eos_last: last.has(FLAG_EOS),
        };
        let rest: Vec<&[u8]> = headers.packets.iter().skip(2).map(Vec::as_slice).collect();
        let is_flac = headers.codec == Codec::Flac;
        let pad_at = rest
            .iter()
            .position(|p| flac::kind(p) == Some(flac::PADDING))
            .filter(|_| is_flac)
            .map(|i| (i, rest[i][0]));
        Ok(Repaginate {
            start,
            end,
            old_pages: old.len(),
            stream,
            rest,
            flushed: is_flac && headers.ends.iter().skip(1).all(|e| e.1),
            pad_at,
        })
    }

    /// The header packets' lengths, with `pad` bytes in the FLAC PADDING block if given.
    fn lens(&self, comment_len: usize, pad: Option<usize>) -> Vec<usize> {
        let mut lens = vec![comment_len];
        lens.extend(self.rest.iter().map(|p| p.len()));
        if let (Some(n), Some((i, _))) = (pad, self.pad_at) {
            lens[i + 1] = 4 + n;
        }
        lens
    }

    /// Bytes and page count of the pages for a comment packet of `comment_len` bytes.
    fn layout(&self, comment_len: usize, pad: Option<usize>) -> (u64, usize) {
        let lens = self.lens(comment_len, pad);
        if !self.flushed {
            return page::layout(&lens);
        }
        lens.iter().fold((0, 0), |(bytes, pages), &l| {
            let (b, p) = page::layout(&[l]);
            (bytes + b, pages + p)
        })
    }

    fn build(&self, comment: &[u8], pad: Option<usize>) -> Result<Vec<u8>> {
        let mut all: Vec<Cow<[u8]>> = vec![Cow::Borrowed(comment)];
        all.extend(self.rest.iter().map(|p| Cow::Borrowed(*p)));
        if let (Some(n), Some((i, flags))) = (pad, self.pad_at) {
            all[i + 1] = Cow::Owned(flac::padding(flags, n)?);
        }
        let all: Vec<&[u8]> = all.iter().map(|p| p.as_ref()).collect();
        if !self.flushed {
            return page::paginate(&all, &self.stream);
        }
        // One packet at a time, each starting a page; only the very last page may end the stream.
        let mut out = Vec::new();
        let mut stream = self.stream;
        for (i, p) in all.iter().enumerate() {
            stream.eos_last = self.stream.eos_last && i + 1 == all.len();
            out.extend_from_slice(&page::paginate(&[p], &stream)?);
            let pages = page::layout(&[p.len()]).1 as u32;
            stream.first_seq = stream
                .first_seq
                .checked_add(pages)
                .ok_or_else(|| bad!(Unsupported, "Ogg page sequence number overflows"))?;
        }
        Ok(out)
    }

    /// The same bytes and page count, so nothing after the header pages moves; the padding
    /// (`padded_layout`) is resized to get there, and a stream without any fits only as it is.
    fn in_place(&self, packet: &CommentPacket) -> Result<Option<Plan>> {
        let old = (self.end - self.start, self.old_pages);
        let base = packet.encode(Some(0))?.len();
        let Some(pad) = fit_padding(old.0, old.1, |p| self.padded_layout(packet, base, p)) else {
            return Ok(None);
        };
        let bytes = self.padded_build(packet, pad)?;
        if bytes.len() as u64 != old.0 {
            return Err(bad!(
                Internal,
                "internal error: Ogg header pages do not fit in place"
            ));
        }
        Ok(Some(Plan::at(self.start, bytes)))
    }

    /// Bytes and page count of the pages with `pad` bytes of padding wherever this stream can
    /// take it: in the comment packet (Opus, and Vorbis and Speex whose tails are padding), in
    /// the Ogg FLAC PADDING block, or nowhere. `base` is the packet's length without padding.
    fn padded_layout(&self, packet: &CommentPacket, base: usize, pad: usize) -> (u64, usize) {
        if packet.paddable() {
            self.layout(base + pad, None)
        } else {
            self.layout(base, self.pad_at.map(|_| pad))
        }
    }

    /// The header pages with `pad` bytes of padding where `padded_layout` puts them.
    fn padded_build(&self, packet: &CommentPacket, pad: usize) -> Result<Vec<u8>> {
        if packet.paddable() {
            self.build(&packet.encode(Some(pad))?, None)
        } else {
            self.build(&packet.encode(None)?, self.pad_at.map(|_| pad))
        }
    }

    /// The rewrite, leaving room for the next edit where the format allows it. The header pages
    /// keep their count where some padding allows it (up to `REWRITE_PADDING`), so the audio
    /// pages are copied unchanged, not renumbered; `extra` bytes more (or fewer) padding then
    /// move them by exactly that much more (or less): the engine asks for that to move them by
    /// whole blocks, so they can be cloned.
    fn rewrite(&self, src: &Source, packet: &CommentPacket, extra: i64) -> Result<Plan> {
        let base = packet.encode(Some(0))?.len();
        let size = |p| self.padded_layout(packet, base, p);
        let keeps_count = |p| size(p).1 == self.old_pages;
        let mut pad = if keeps_count(0) {
            most_padding(REWRITE_PADDING, keeps_count)
        } else {
            REWRITE_PADDING
        };
        let (bytes, pages) = size(pad);
        if extra != 0 && pages == self.old_pages {
            let target = bytes.checked_add_signed(extra);
            // Lacing values make a few lengths unreachable; the engine then copies instead.
            if let Some(p) = target.and_then(|t| fit_padding(t, pages, size)) {
                pad = p;
            }
        }
        let bytes = self.padded_build(packet, pad)?;
        let seq_delta = size(pad).1 as i64 - self.old_pages as i64;
        let (end, len) = (self.end, src.len() - self.end);
        let mut plan = Plan::splice(src, self.start, bytes, end);
        // The audio pages after the headers are renumbered when the header page count changed.
        if let Plan::Rewrite { parts } = &mut plan
            && seq_delta != 0
            && len > 0
            && let Some(tail) = parts.last_mut()
        {
            *tail = Part::OggPages {
                offset: end,
                len,
                seq_delta,
            };
        }
        Ok(plan)
    }
}

/// The most padding up to `max` for which `fits` holds, where it holds for 0 and, once it
/// fails, fails for every larger padding (a page count only grows with the padding).
fn most_padding(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    lo
}

/// The smallest padding whose pages are exactly `len` bytes in `pages` pages, if any. The size
/// grows strictly with the padding, so a binary search finds the only candidate.
fn fit_padding(len: u64, pages: usize, size: impl Fn(usize) -> (u64, usize)) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, usize::try_from(len).ok()?);
    if size(lo).0 > len {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if size(mid).0 < len {
            lo = mid + 1
        } else {
            hi = mid
        }
    }
    (size(lo) == (len, pages)).then_some(lo)
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
