//! Ogg Vorbis, Opus and Speex: the comment header packet is the carrier (SPEC §3). Reading takes
//! only the first pages. An edit re-paginates the header packets that follow the identification
//! page and leaves every audio page byte-identical (in place) or identical but for its sequence
//! number and CRC (rewrite). Files this cannot edit faithfully (chained or multiplexed streams,
//! bytes after the last page, audio sharing the last header page) are refused, not "repaired".

mod page;
#[cfg(test)]
mod tests;

use std::ops::Range;

pub use page::copy_pages;
use page::{FLAG_BOS, FLAG_CONTINUED, FLAG_EOS, NO_GRANULE, PageHeader, Stream};

use super::vorbis::Comments;
use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Part, Plan, REWRITE_PADDING, Result, Source,
};
use crate::bad;

/// Largest header packet accepted (a comment packet with a big embedded picture stays below it);
/// beyond it the file is refused rather than buffered.
const MAX_PACKET: usize = 16 << 20;
/// Speex declares how many extra header packets follow the comments; encoders write 0.
const MAX_SPEEX_EXTRA: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vorbis,
    Opus,
    Speex,
}

impl Codec {
    /// Identifies the stream from its first packet; returns the codec and its header packet count.
    fn identify(packet: &[u8]) -> Result<(Codec, usize)> {
        if packet.starts_with(b"\x01vorbis") {
            Ok((Codec::Vorbis, 3))
        } else if packet.starts_with(b"OpusHead") {
            Ok((Codec::Opus, 2))
        } else if packet.starts_with(b"Speex   ") {
            let extra = packet
                .get(68..72)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| bad!("the Speex header is too short ({} bytes)", packet.len()))?;
            if extra > MAX_SPEEX_EXTRA {
                return Err(bad!("the Speex header claims {extra} extra header packets"));
            }
            Ok((Codec::Speex, 2 + extra as usize))
        } else {
            Err(bad!("the Ogg stream is not Vorbis, Opus or Speex"))
        }
    }

    /// What precedes the comment block in the comment packet.
    fn comment_magic(self) -> &'static [u8] {
        match self {
            Codec::Vorbis => b"\x03vorbis",
            Codec::Opus => b"OpusTags",
            Codec::Speex => b"",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Vorbis => "Vorbis",
            Codec::Opus => "Opus",
            Codec::Speex => "Speex",
        }
    }
}

/// The header pages of the stream and the packets they carry.
#[derive(Debug)]
struct Headers {
    codec: Codec,
    /// Every page read, the BOS page first.
    pages: Vec<PageHeader>,
    /// The header packets read (all of them, or only the first two for `carriers`).
    packets: Vec<Vec<u8>>,
    /// Per packet: index in `pages` of the page it ends on, and whether it is that page's last
    /// segment.
    ends: Vec<(usize, bool)>,
}

impl Headers {
    /// Reads pages from the start until `all` header packets (or the first two) are complete,
    /// checking each page's CRC, serial and continuation flag. Never touches audio pages except
    /// a last header page that also carries audio.
    fn read(src: &Source, all: bool) -> Result<Headers> {
        let mut h = Headers {
            codec: Codec::Vorbis,
            pages: Vec::new(),
            packets: Vec::new(),
            ends: Vec::new(),
        };
        let mut want = 2;
        let mut partial: Vec<u8> = Vec::new();
        let mut offset = 0u64;
        loop {
            let (page, body) = page::read_page(src, offset)?;
            let index = h.pages.len();
            match h.pages.first() {
                None if !page.has(FLAG_BOS) => {
                    return Err(bad!(
                        "the first Ogg page is not marked as the start of a stream"
                    ));
                }
                None => {}
                Some(first) if page.has(FLAG_BOS) || page.serial != first.serial => {
                    return Err(bad!(
                        "multiplexed Ogg: a second logical stream starts at byte {offset} before the \
                         headers end; not supported"
                    ));
                }
                Some(_) => {}
            }
            let pending = !partial.is_empty();
            if page.has(FLAG_CONTINUED) != pending {
                return Err(bad!(
                    "Ogg page at byte {offset} has a wrong continuation flag: the file is corrupt"
                ));
            }
            // Pages that end no packet hold at least 255 bytes of one, so this bounds empty pages.
            if index
                > want
                    + h.packets.iter().map(Vec::len).sum::<usize>() / 255
                    + partial.len() / 255
                    + 4
            {
                return Err(bad!(
                    "too many Ogg header pages for the header packets they hold"
                ));
            }
            let mut pos = 0usize;
            for (seg, &lace) in page.lacing.iter().enumerate() {
                let bytes = body.get(pos..pos + usize::from(lace)).unwrap_or_default();
                pos += usize::from(lace);
                partial.extend_from_slice(bytes);
                if partial.len() > MAX_PACKET {
                    return Err(bad!(
                        "an Ogg header packet is larger than {} MiB",
                        MAX_PACKET >> 20
                    ));
                }
                if lace == 255 {
                    continue;
                }
                h.packets.push(std::mem::take(&mut partial));
                h.ends.push((index, seg + 1 == page.lacing.len()));
                if h.packets.len() == 1 {
                    let (codec, count) = Codec::identify(&h.packets[0])?;
                    h.codec = codec;
                    want = if all { count } else { 2 };
                }
                if h.packets.len() == want {
                    break;
                }
            }
            offset = page.end();
            if h.packets.len() == want {
                h.pages.push(page);
                return Ok(h);
            }
            // Re-paginating would drop the flag, and nothing valid follows it anyway.
            if page.has(FLAG_EOS) {
                return Err(bad!(
                    "the Ogg stream ends (byte {}) inside its headers",
                    page.offset
                ));
            }
            h.pages.push(page);
        }
    }

    /// The decoded comment packet (packet 1).
    fn comments(&self) -> Result<CommentPacket> {
        let packet = self
            .packets
            .get(1)
            .ok_or_else(|| bad!("the Ogg comment header is missing"))?;
        CommentPacket::decode(self.codec, packet)
    }

    /// Checks the layout an edit relies on: the identification packet alone on the BOS page, and
    /// the last header packet ending its page (audio starts on a fresh page). Returns the offsets
    /// where the re-paginated region starts and ends.
    fn region(&self) -> Result<(u64, u64)> {
        if self.ends.first() != Some(&(0, true)) {
            return Err(bad!(
                "the first Ogg page holds more than the identification header; not supported"
            ));
        }
        if self.codec == Codec::Vorbis
            && !self
                .packets
                .get(2)
                .is_some_and(|p| p.starts_with(b"\x05vorbis"))
        {
            return Err(bad!(
                "the third Vorbis packet is not a setup header: the file is corrupt"
            ));
        }
        match (self.ends.last(), self.pages.first(), self.pages.last()) {
            (Some(&(_, true)), Some(first), Some(last)) if self.pages.len() > 1 => {
                Ok((first.end(), last.end()))
            }
            (Some(&(_, false)), _, Some(last)) => Err(bad!(
                "the last Ogg header page (at byte {}) also carries audio data; not supported",
                last.offset
            )),
            _ => Err(bad!("the Ogg header pages are malformed")),
        }
    }
}

/// A comment packet: the comment block plus what follows it (Vorbis: the framing bit; Opus:
/// padding or binary data; Speex: usually nothing, sometimes zero padding from other taggers).
struct CommentPacket {
    codec: Codec,
    comments: Comments,
    tail: Vec<u8>,
}

impl CommentPacket {
    fn decode(codec: Codec, packet: &[u8]) -> Result<CommentPacket> {
        let block = packet.strip_prefix(codec.comment_magic()).ok_or_else(|| {
            bad!(
                "the second Ogg packet is not a {} comment header",
                codec.name()
            )
        })?;
        let (comments, used) = Comments::decode(block)?;
        let tail = block.get(used..).unwrap_or_default().to_vec();
        if codec == Codec::Vorbis && tail.first().is_none_or(|b| b & 1 == 0) {
            return Err(bad!(
                "the Vorbis comment header has no framing bit: the file is corrupt"
            ));
        }
        Ok(CommentPacket {
            codec,
            comments,
            tail,
        })
    }

    /// Whether the bytes after the comments are Opus padding we may resize: RFC 7845 §5.2 lets
    /// editors discard them when the first byte's least significant bit is 0. Vorbis must end at
    /// the framing bit, and Speex has no such rule, so their tails are kept exactly.
    fn paddable(&self) -> bool {
        self.codec == Codec::Opus && self.tail.first().is_none_or(|b| b & 1 == 0)
    }

    /// The packet with `pad` zero bytes of padding (when paddable) or the original tail.
    fn encode(&self, pad: Option<usize>) -> Vec<u8> {
        let mut out = self.codec.comment_magic().to_vec();
        out.extend_from_slice(&self.comments.encode());
        match pad {
            Some(n) if self.paddable() => out.resize(out.len() + n, 0),
            _ => out.extend_from_slice(&self.tail),
        }
        out
    }
}

/// The family: Ogg Vorbis, Opus and Speex.
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
    let headers = Headers::read(src, true)?;
    let mut packet = headers.comments()?;
    if !packet.comments.apply(edit) {
        return Ok(None);
    }
    let (start, end) = headers.region()?;
    walk_audio(src, &headers, end, |_| {})?;

    // The old header pages after the identification page; `region` checked there is one.
    let old = headers.pages.get(1..).unwrap_or_default();
    let (old_len, old_pages) = (end - start, old.len());
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
    let lens = |comment_len: usize| {
        let mut v = vec![comment_len];
        v.extend(rest.iter().map(|p| p.len()));
        v
    };
    let build = |comment: &[u8]| {
        let mut all = vec![comment];
        all.extend(rest.iter().copied());
        page::paginate(&all, &stream)
    };

    // In place: the same bytes and page count, so nothing after the header pages moves.
    let base = packet.encode(None).len();
    let fit = if packet.paddable() {
        let base = packet.encode(Some(0)).len();
        fit_padding(old_len, old_pages, |pad| page::layout(&lens(base + pad))).map(Some)
    } else {
        (page::layout(&lens(base)) == (old_len, old_pages)).then_some(None)
    };
    if let Some(pad) = fit {
        let bytes = build(&packet.encode(pad))?;
        if bytes.len() as u64 != old_len {
            return Err(bad!("internal error: Ogg header pages do not fit in place"));
        }
        return Ok(Some(Plan::at(start, bytes)));
    }

    // Rewrite: leave room for the next edit where the format allows it (Opus only).
    let comment = packet.encode(Some(REWRITE_PADDING));
    let bytes = build(&comment)?;
    let new_pages = page::layout(&lens(comment.len())).1;
    let seq_delta = new_pages as i64 - old_pages as i64;
    let mut plan = Plan::splice(src, start, bytes, end);
    // The audio pages after the headers are renumbered when the header page count changed.
    if let Plan::Rewrite { parts } = &mut plan
        && seq_delta != 0
        && end < src.len()
        && let Some(tail) = parts.last_mut()
    {
        *tail = Part::OggPages {
            offset: end,
            len: src.len() - end,
            seq_delta,
        };
    }
    Ok(Some(plan))
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
                    "{} bytes after the last Ogg page (at byte {offset}), e.g. an ID3v1 tag; \
                     not supported",
                    src.len() - offset
                ));
            }
        };
        if page.has(FLAG_BOS) {
            return Err(bad!(
                "chained Ogg: a second stream starts at byte {offset}; not supported"
            ));
        }
        if page.serial != serial {
            return Err(bad!(
                "multiplexed Ogg: a page of another stream at byte {offset}; not supported"
            ));
        }
        if ended {
            return Err(bad!(
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
