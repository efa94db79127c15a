//! The APEv2 family: WavPack, Monkey's Audio, Musepack and TTA, whose tag is an APEv2 tag at the
//! end of the file (before an ID3v1 tag, which is kept byte for byte). An ID3v2 tag at the head
//! is read and kept; TTA, whose taggers may write ID3v2 instead, has ours written into it when
//! it has no APE tag (as MPEG does). The payload is everything between the head tag and the
//! tail tags.
//!
//! The tag is rewritten where it stands, in place under the undo journal: the tail (our tag and
//! the ID3v1 tag after it) is overwritten, grown by an append at the end of the file or cut
//! short. APEv2 has no padding, so none is invented.

mod tag;
#[cfg(test)]
mod tests;

use std::ops::Range;

use super::{
    Carrier, CarrierKind, Container, ContainerFormat, Edit, Layout, Plan, Region, Result, Source,
    id3v2,
};
use crate::bad;
pub use tag::{Footer, Tag};

/// The family: the four containers whose tag is APEv2.
pub struct Apev2(pub Container);

/// ID3v1 is the last 128 bytes, starting `TAG`; Lyrics3v2 would end just before it.
const ID3V1: u64 = 128;
const LYRICS3V2_END: &[u8] = b"LYRICS200";
/// Lyrics3 v1 ends the same way with `LYRICSEND`; an extended ID3v1 (`TAG+`, 227 bytes) goes
/// just before the ID3v1 tag too. Their readers look right before the ID3v1 tag, where a new APE
/// tag would go, so they are refused like Lyrics3v2.
const LYRICS3V1_END: &[u8] = b"LYRICSEND";
const TAG_PLUS: u64 = 227;
/// The bytes of the stream's own signature after any head tag.
const SIGNATURE: u64 = 4;

/// Where the tags around the audio are.
#[derive(Debug)]
pub struct Tags {
    /// End of the ID3v2 tag(s) at the head (0 without).
    pub head_end: u64,
    /// Start of the APE tag, or of the ID3v1 tag, or the end of the file: the payload's end.
    pub tail_start: u64,
    /// The APE tag, which starts at `tail_start`.
    pub ape: Option<Tag>,
    /// Start of an ID3v1 tag.
    pub id3v1: Option<u64>,
}

/// Finds the head and tail tags. An APE tag that claims to start inside the head tag or before
/// the file is corrupt; a Lyrics3 or TAG+ block (between APE and ID3v1) is refused, not guessed at.
pub fn locate(src: &Source) -> Result<Tags> {
    let head_end = head_len(src)?;
    // The stream's signature (`wvpk`, `MAC `, `MP+`/`MPCK`, `TTA1`) is never part of a tail tag.
    let floor = head_end + SIGNATURE;
    let mut end = src.len();
    let mut id3v1 = None;
    // A file that ends in an APE footer has no ID3v1 tag, whatever its last 128 bytes start with.
    let ape_last = end >= 32 && src.read(end - 32, 8, "APE tag footer")? == tag::MAGIC;
    if !ape_last && end >= floor + ID3V1 && src.read(end - ID3V1, 3, "ID3v1 tag")? == b"TAG" {
        end -= ID3V1;
        id3v1 = Some(end);
        let l = LYRICS3V2_END.len() as u64;
        let before = if end >= l {
            src.read(end - l, l, "Lyrics3 tag")?
        } else {
            Vec::new()
        };
        if before == LYRICS3V2_END || before == LYRICS3V1_END {
            return Err(bad!(
                Unsupported,
                "a Lyrics3 tag (v1 or v2) before the ID3v1 tag: not supported; not read or written"
            ));
        }
        if end >= floor + TAG_PLUS && src.read(end - TAG_PLUS, 4, "extended ID3v1 tag")? == b"TAG+"
        {
            return Err(bad!(
                Unsupported,
                "an extended ID3v1 tag (TAG+) before the ID3v1 tag: not supported; not read or written"
            ));
        }
    }
    let mut out = Tags {
        head_end,
        tail_start: end,
        ape: None,
        id3v1,
    };
    let frame = tag::FRAME as u64;
    if end < floor + frame {
        return Ok(out);
    }
    let Some(footer) = Footer::parse(&src.read(end - frame, frame, "APE tag footer")?) else {
        return Ok(out);
    };
    if !matches!(footer.version, tag::V1 | tag::V2) || footer.flags & (1 << 29) != 0 {
        return Err(bad!(
            "corrupt APE tag: footer version {} flags {:#x}",
            footer.version,
            footer.flags
        ));
    }
    let len = footer.tag_len();
    if u64::from(footer.size) < frame || len > end - floor {
        return Err(bad!(
            Truncated,
            "the APE tag claims {len} bytes, more than the file holds before it"
        ));
    }
    let start = end - len;
    let items_at = start + if footer.has_header() { frame } else { 0 };
    if footer.has_header() {
        let h = Footer::parse(&src.read(start, frame, "APE tag header")?);
        if h.is_none_or(|h| h.size != footer.size || h.count != footer.count) {
            return Err(bad!(
                "corrupt APE tag: its header does not match its footer"
            ));
        }
    }
    let data = src.read(items_at, end - frame - items_at, "APE tag items")?;
    out.ape = Some(Tag::decode(footer, &data)?);
    out.tail_start = start;
    Ok(out)
}

/// The length of the ID3v2 tag(s) at the head.
fn head_len(src: &Source) -> Result<u64> {
    let mut pos = 0;
    for _ in 0..super::sniff::MAX_STACKED_TAGS {
        match id3v2::region_len(src, pos)? {
            Some(n) => pos += n,
            None => break,
        }
    }
    if pos >= src.len() {
        return Err(bad!(Truncated, "no audio after the ID3v2 tag"));
    }
    Ok(pos)
}

impl Apev2 {
    /// TTA alone takes ours into a head ID3v2 tag, and only when it has no APE tag.
    fn id3_primary(&self, l: &Tags) -> bool {
        self.0 == Container::Tta && l.ape.is_none() && l.head_end > 0
    }
}

impl ContainerFormat for Apev2 {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        let l = locate(src)?;
        let mut out = Vec::new();
        if l.head_end > 0 {
            // The head tags as MPEG reads them (its XMP and C2PA too), never the primary
            // carrier unless TTA writes into them.
            let editable = self.id3_primary(&l);
            for c in super::mpeg::carriers(src)? {
                let xmp = matches!(c.kind, CarrierKind::Xmp { .. });
                out.push(if editable && c.editable && !xmp {
                    c
                } else {
                    c.read_only()
                });
            }
        }
        if let Some(t) = &l.ape {
            let c = Carrier::new(CarrierKind::Apev2, t.fields());
            out.push(match t.footer.version {
                tag::V1 => c.read_only(),
                _ => c,
            });
        }
        Ok(out)
    }

    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        let l = locate(src)?;
        if self.id3_primary(&l) {
            // The tag stays even when `strip` empties it: it was there before `tag`.
            let keep = Edit {
                layout: Layout::Keep,
                xmp: false,
                ..edit.clone()
            };
            return super::mpeg::plan(src, &keep);
        }
        plan_tail(src, &l, edit)
    }

    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        let l = locate(src)?;
        Ok(vec![Range {
            start: l.head_end,
            end: l.tail_start,
        }])
    }
}

/// The edited APE tag, with the ID3v1 tag after it, written over the old tail: the same length
/// is a patch, a longer one appends the rest at the end of the file, a shorter one cuts it.
fn plan_tail(src: &Source, l: &Tags, edit: &Edit) -> Result<Option<Plan>> {
    let mut t = match &l.ape {
        Some(t) if t.footer.version == tag::V1 => {
            return Err(bad!(
                Unsupported,
                "an APEv1 tag (version 1000): noai writes APEv2 tags and does not upgrade an APEv1 one; not written"
            ));
        }
        Some(t) if t.footer.read_only() => {
            return Err(bad!(
                Refused,
                "the APE tag is flagged read-only; not written"
            ));
        }
        Some(t) => t.clone(),
        None if edit.set.is_empty() => return Ok(None),
        None => {
            stray_signature(src, l)?;
            tag::empty()
        }
    };
    if !t.apply(edit)? {
        return Ok(None);
    }
    // An emptied tag goes whole when the layout may change: it held nothing but ours.
    let mut new = match t.items.is_empty() && edit.layout == Layout::Restore {
        true => Vec::new(),
        false => t.encode(),
    };
    if let Some(at) = l.id3v1 {
        new.extend(src.read(at, ID3V1, "ID3v1 tag")?);
    }
    Ok(Some(over_tail(src, l.tail_start, new)))
}

/// How far before the end a tag signature that readers would not find refuses a new tag.
const STRAY_SEARCH: u64 = 256 << 10;

/// Refuses to add a tag to a file whose tail holds an APE signature where readers do not look
/// (a tag cut short, junk after a tag): ours would hide it from every reader.
fn stray_signature(src: &Source, l: &Tags) -> Result<()> {
    let from = l.head_end.max(src.len().saturating_sub(STRAY_SEARCH));
    let tail = src.read(from, src.len() - from, "the end of the file")?;
    if memchr::memmem::find(&tail, tag::MAGIC).is_some() {
        return Err(bad!(
            Unsupported,
            "an APE tag signature where readers do not look for one (a tag cut short, or bytes after it); not written"
        ));
    }
    Ok(())
}

/// `new` written from `start` to the end of the file, which it replaces.
fn over_tail(src: &Source, start: u64, mut new: Vec<u8>) -> Plan {
    let old_len = (src.len() - start) as usize;
    let region = |offset, bytes: Vec<u8>| Region { offset, bytes };
    if new.len() < old_len {
        let len = start + new.len() as u64;
        let regions = match new.is_empty() {
            true => Vec::new(),
            false => vec![region(start, new)],
        };
        return Plan::Cut { regions, len };
    }
    // The write layer takes writes inside the file and one append at its very end.
    let appended = new.split_off(old_len);
    let mut regions = Vec::with_capacity(2);
    if !new.is_empty() {
        regions.push(region(start, new));
    }
    if !appended.is_empty() {
        regions.push(region(src.len(), appended));
    }
    Plan::Patch { regions }
}
