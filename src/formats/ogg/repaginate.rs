//! Laying out the header pages after the identification page afresh around a new comment
//! packet. The packets after the comment are kept as they are, but for an Ogg FLAC PADDING block,
//! which is resized. An Ogg FLAC stream without one gets one, packed on the comment's last page
//! (and the identification packet's header count raised to match), so that later edits happen
//! in place and a rewrite can keep the page count: its audio pages then move unrenumbered, by
//! whole blocks, and can be cloned. Each packet keeps ending a page where it ended one before.

use std::borrow::Cow;

use super::flac;
use super::headers::{Codec, CommentPacket, Headers};
use super::page::{self, FLAG_EOS, NO_GRANULE, Stream};
use crate::bad;
use crate::formats::{Part, Plan, REWRITE_PADDING, Result, Source};

pub(super) struct Repaginate<'a> {
    start: u64,
    end: u64,
    old_pages: usize,
    stream: Stream,
    /// The header packets after the comment (a new PADDING block is an empty placeholder here:
    /// `pad_at` always gives its length).
    rest: Vec<&'a [u8]>,
    /// Per header packet from the comment on: whether it ends its page. Ogg FLAC keeps its old
    /// breaks (libFLAC writes one packet per page); the other codecs' header packets are packed
    /// together, as libogg flushes them.
    breaks: Vec<bool>,
    /// Ogg FLAC: the index in `rest` of the first PADDING block, and its block flags.
    pad_at: Option<(usize, u8)>,
    /// Ogg FLAC given a new PADDING block: the identification page with its header count raised
    /// by one (`None` when the count is 0, "unknown").
    id_page: Option<Vec<u8>>,
    /// Ogg FLAC given a new PADDING block: the comment hands its last-block flag on to it.
    new_padding: bool,
}

impl<'a> Repaginate<'a> {
    pub fn new(headers: &'a Headers, start: u64, end: u64) -> Result<Repaginate<'a>> {
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
        let n = headers.ends.len().saturating_sub(1);
        let breaks = if is_flac {
            headers.ends.iter().skip(1).map(|e| e.1).collect()
        } else {
            (0..n).map(|i| i + 1 == n).collect()
        };
        Ok(Repaginate {
            start,
            end,
            old_pages: old.len(),
            stream,
            rest,
            breaks,
            pad_at,
            id_page: None,
            new_padding: false,
        })
    }

    /// An Ogg FLAC stream without a PADDING block, which could take one.
    pub fn lacks_padding(&self, headers: &Headers) -> bool {
        headers.codec == Codec::Flac && self.pad_at.is_none()
    }

    /// The same stream with a new, empty PADDING block right after the comment block and on
    /// its last page: the comment's last-block flag passes to it, and a known header count
    /// grows by one (the identification page is then written again, its CRC recomputed).
    pub fn with_new_padding(mut self, headers: &Headers) -> Result<Repaginate<'a>> {
        let comment_flags = headers.packets.get(1).map_or(0, |p| p[0]);
        self.rest.insert(0, &[]);
        self.breaks.insert(0, false);
        self.pad_at = Some((0, comment_flags & flac::LAST));
        self.new_padding = true;
        let (Some(id), Some(page)) = (headers.packets.first(), headers.pages.first()) else {
            return Err(bad!("the Ogg header pages are malformed"));
        };
        let count = flac::header_count(id);
        if count != 0 {
            let count = count.checked_add(1).ok_or_else(|| {
                bad!(
                    Unsupported,
                    "the Ogg FLAC header count cannot grow; not written"
                )
            })?;
            let mut id = id.clone();
            id[7..9].copy_from_slice(&count.to_be_bytes());
            let mut bytes = page.encode(page.compute_crc(&id));
            bytes.extend_from_slice(&id);
            self.id_page = Some(bytes);
        }
        Ok(self)
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

    /// The packets split where a page must end after one (the last group ends the headers).
    fn groups<'b, T>(&self, items: &'b [T]) -> Vec<&'b [T]> {
        let mut out = Vec::new();
        let mut from = 0;
        for (i, _) in items.iter().enumerate() {
            if self.breaks.get(i).copied().unwrap_or(true) || i + 1 == items.len() {
                out.push(&items[from..=i]);
                from = i + 1;
            }
        }
        out
    }

    /// Bytes and page count of the pages for a comment packet of `comment_len` bytes.
    fn layout(&self, comment_len: usize, pad: Option<usize>) -> (u64, usize) {
        let lens = self.lens(comment_len, pad);
        self.groups(&lens)
            .into_iter()
            .fold((0, 0), |(bytes, pages), group| {
                let (b, p) = page::layout(group);
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
        let groups = self.groups(&all);
        // Each group starts a page; only the very last page may end the stream.
        let mut out = self.id_page.clone().unwrap_or_default();
        let mut stream = self.stream;
        for (i, group) in groups.iter().enumerate() {
            stream.eos_last = self.stream.eos_last && i + 1 == groups.len();
            out.extend_from_slice(&page::paginate(group, &stream)?);
            let lens: Vec<usize> = group.iter().map(|p| p.len()).collect();
            stream.first_seq = stream
                .first_seq
                .checked_add(page::layout(&lens).1 as u32)
                .ok_or_else(|| bad!(Unsupported, "Ogg page sequence number overflows"))?;
        }
        Ok(out)
    }

    /// Where the written bytes start: the identification page when it changes too.
    fn from(&self) -> u64 {
        if self.id_page.is_some() {
            0
        } else {
            self.start
        }
    }

    /// The same bytes and page count, so nothing after the header pages moves; the padding
    /// (`padded_layout`) is resized to get there, and a stream without any fits only as it is.
    pub fn in_place(&self, packet: &CommentPacket) -> Result<Option<Plan>> {
        let old = (self.end - self.start, self.old_pages);
        let base = packet.encode(Some(0))?.len();
        let Some(pad) = fit_padding(old.0, old.1, |p| self.padded_layout(packet, base, p)) else {
            return Ok(None);
        };
        let bytes = self.padded_build(packet, pad)?;
        if bytes.len() as u64 != self.end - self.from() {
            return Err(bad!(
                Internal,
                "internal error: Ogg header pages do not fit in place"
            ));
        }
        Ok(Some(Plan::at(self.from(), bytes)))
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

    /// The pages (after the identification page, or from it when it changes) with `pad` bytes
    /// of padding where `padded_layout` puts them.
    fn padded_build(&self, packet: &CommentPacket, pad: usize) -> Result<Vec<u8>> {
        if packet.paddable() {
            return self.build(&packet.encode(Some(pad))?, None);
        }
        let mut comment = packet.encode(None)?;
        if self.new_padding {
            comment[0] &= !flac::LAST;
        }
        self.build(&comment, self.pad_at.map(|_| pad))
    }

    /// The rewrite, leaving room for the next edit where the format allows it. The header pages
    /// keep their count where some padding allows it (up to `REWRITE_PADDING`), so the audio
    /// pages are copied unchanged, not renumbered; `extra` bytes more (or fewer) padding then
    /// move them by exactly that much more (or less): the engine asks for that to move them by
    /// whole blocks, so they can be cloned.
    pub fn rewrite(&self, src: &Source, packet: &CommentPacket, extra: i64) -> Result<Plan> {
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
        let mut plan = Plan::splice(src, self.from(), bytes, end);
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
