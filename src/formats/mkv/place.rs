//! Where the new `Tags` element goes, as positioned writes that move nothing else (SeekHead and
//! Cues positions stay right): first the old `Tags` and the `Void`s after it; else, when they
//! end the file, the `Tags` grows there (Segment size fixed); else it moves to a `Void` run that
//! fits or to the end of the Segment, the old one becoming a `Void` of the same size and the
//! SeekHead's `Tags` entry repointed (rebuilt in the SeekHead and its `Void`s, never larger).

use std::ops::Range;

use super::ebml::{self, Header};
use super::layout::{self, Layout};
use super::tags;
use crate::bad;
use crate::formats::{Edit, Plan, Region, Result, Source};

/// Plans `edit` on the file-level SimpleTags.
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout::walk(src)?;
    layout::audio_only(src, &lay)?;
    if lay.segment.size.is_none() || lay.open {
        return Err(bad!(
            Unsupported,
            "Matroska live stream (a Segment or Cluster of unknown size): refusing to write; remux it first (e.g. mkvmerge)"
        ));
    }
    if lay.all(ebml::CRC32).next().is_some() {
        // A checksum over the whole Segment: any edit would break it.
        return Err(bad!(
            Unsupported,
            "Matroska Segment with a CRC-32 element: refusing to write"
        ));
    }
    let found: Vec<usize> = (0..lay.kids.len())
        .filter(|i| lay.kids[*i].id == ebml::TAGS)
        .collect();
    if found.len() > 1 {
        return Err(bad!(
            Unsupported,
            "Matroska file with {} Tags elements: refusing to guess which one to edit",
            found.len()
        ));
    }
    let old = found.first().map(|&i| (i, lay.kids[i]));
    let buf = match &old {
        Some((_, h)) => layout::read_data(src, h, "Tags")?,
        None => Vec::new(),
    };
    let base = old.map_or(0, |(_, h)| h.body());
    let Some(body) = tags::edit(&buf, base, edit)? else {
        return Ok(None);
    };
    let mut w = Writes::default();
    match old {
        Some((i, h)) => edit_tags(src, &lay, &mut w, i, h, &body)?,
        None => relocate(src, &lay, &mut w, None, &body)?,
    }
    w.into_plan()
}

/// Positioned writes being gathered (sorted and checked at the end).
#[derive(Default)]
struct Writes(Vec<Region>);

impl Writes {
    fn put(&mut self, offset: u64, bytes: Vec<u8>) {
        self.0.push(Region { offset, bytes });
    }

    fn into_plan(mut self) -> Result<Option<Plan>> {
        self.0.sort_by_key(|r| r.offset);
        for pair in self.0.windows(2) {
            if pair[0].offset + pair[0].bytes.len() as u64 > pair[1].offset {
                return Err(bad!(Internal, "internal: overlapping Matroska writes"));
            }
        }
        Ok(Some(Plan::Patch { regions: self.0 }))
    }
}

/// The file has a `Tags` element, `kids[i]`: edit it where it is if it fits, else move it.
fn edit_tags(
    src: &Source,
    lay: &Layout,
    w: &mut Writes,
    i: usize,
    h: Header,
    body: &[u8],
) -> Result<()> {
    let span = lay.span(i);
    let room = span.end - span.start;
    if body.is_empty() {
        // Nothing left to keep: the whole span becomes a Void and no entry points at it.
        w.put(span.start, void(room)?);
        return repoint(src, lay, w, h.start, None);
    }
    if let Some(bytes) = ebml::fill(ebml::TAGS, body, room)? {
        w.put(span.start, bytes);
        return Ok(());
    }
    if span.end == lay.end && lay.can_append(src.len()) {
        // The Tags ends the file: it grows in place, nothing moves.
        let mut el = ebml::element(ebml::TAGS, body)?;
        let tail = el.split_off((src.len() - span.start) as usize);
        w.put(span.start, el);
        resize_segment(lay, w, lay.end + tail.len() as u64)?;
        w.put(src.len(), tail);
        return Ok(());
    }
    relocate(src, lay, w, Some((span, h.start)), body)
}

/// Writes the new `Tags` into a `Void` run that fits or at the end of the Segment; the old span
/// (if any) becomes a `Void`, and the SeekHead points at the new place.
fn relocate(
    src: &Source,
    lay: &Layout,
    w: &mut Writes,
    old: Option<(Range<u64>, u64)>,
    body: &[u8],
) -> Result<()> {
    let mut at = None;
    for run in void_runs(lay, old.as_ref().map(|(s, _)| s)) {
        if let Some(bytes) = ebml::fill(ebml::TAGS, body, run.end - run.start)? {
            w.put(run.start, bytes);
            at = Some(run.start);
            break;
        }
    }
    let at = match at {
        Some(at) => at,
        None if lay.can_append(src.len()) => {
            let el = ebml::element(ebml::TAGS, body)?;
            resize_segment(lay, w, lay.end + el.len() as u64)?;
            w.put(src.len(), el);
            src.len()
        }
        None => {
            return Err(bad!(
                Unsupported,
                "no room for the Matroska Tags: no Void space fits it and the Segment cannot grow at the end of the file"
            ));
        }
    };
    let old_at = match old {
        Some((span, old_at)) => {
            w.put(span.start, void(span.end - span.start)?);
            Some(old_at)
        }
        None => None,
    };
    match old_at {
        Some(o) => repoint(src, lay, w, o, Some(at)),
        None if at >= lay.first_cluster() => add_entry(src, lay, w, at),
        None => Ok(()),
    }
}

/// Runs of level-1 `Void` elements outside `old` (the span being replaced), except those right
/// after a SeekHead (its room to grow).
fn void_runs(lay: &Layout, old: Option<&Range<u64>>) -> Vec<Range<u64>> {
    let kids = &lay.kids;
    let mut runs = Vec::new();
    let mut i = 0;
    while i < kids.len() {
        if kids[i].id != ebml::VOID {
            i += 1;
            continue;
        }
        let after_seek_head = i > 0 && kids[i - 1].id == ebml::SEEK_HEAD;
        let start = kids[i].start;
        while kids.get(i + 1).is_some_and(|k| k.id == ebml::VOID) {
            i += 1;
        }
        let run = start..kids[i].end();
        let clash = old.is_some_and(|o| o.start < run.end && run.start < o.end);
        if !after_seek_head && !clash {
            runs.push(run);
        }
        i += 1;
    }
    runs
}

fn void(len: u64) -> Result<Vec<u8>> {
    ebml::void(len).ok_or_else(|| bad!(Internal, "internal: no Void of {len} bytes"))
}

/// The Segment's size field rewritten for a Segment ending at `end` (same field length).
fn resize_segment(lay: &Layout, w: &mut Writes, end: u64) -> Result<()> {
    let seg = &lay.segment;
    let field = ebml::size_field(end - seg.body(), seg.size_len).ok_or_else(|| {
        bad!(
            Unsupported,
            "the Matroska Segment's {}-byte size field cannot hold its new size; remux it first",
            seg.size_len
        )
    })?;
    w.put(seg.start + u64::from(seg.id_len), field);
    Ok(())
}

/// One child of a SeekHead: its header and, for a `Seek`, its SeekID bytes and SeekPosition.
type Entry = (Header, Vec<u8>, Option<u64>);

/// A SeekHead's children as `Entry`s.
fn seeks(buf: &[u8], base: u64) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for s in ebml::children(buf, base)? {
        let mut id = Vec::new();
        let mut pos = None;
        if s.id == ebml::SEEK {
            let body = ebml::data(buf, base, &s);
            for k in ebml::children(body, s.body())? {
                match k.id {
                    ebml::SEEK_ID => id = ebml::data(body, s.body(), &k).to_vec(),
                    ebml::SEEK_POSITION => pos = ebml::uint(ebml::data(body, s.body(), &k)),
                    _ => {}
                }
            }
        }
        out.push((s, id, pos));
    }
    Ok(out)
}

/// A new `Seek` entry for a `Tags` element at file offset `at`.
fn tags_seek(lay: &Layout, at: u64) -> Result<Vec<u8>> {
    let id = ebml::element(ebml::SEEK_ID, &ebml::id_bytes(ebml::TAGS))?;
    let pos = ebml::uint_element(ebml::SEEK_POSITION, at - lay.data())?;
    ebml::element(ebml::SEEK, &[id, pos].concat())
}

/// Every SeekHead entry for the `Tags` at `old` now points at `new` (or is dropped).
fn repoint(src: &Source, lay: &Layout, w: &mut Writes, old: u64, new: Option<u64>) -> Result<()> {
    let rel = old - lay.data();
    let mut found = false;
    for j in (0..lay.kids.len()).filter(|j| lay.kids[*j].id == ebml::SEEK_HEAD) {
        let h = lay.kids[j];
        let buf = layout::read_data(src, &h, "SeekHead")?;
        let entries = seeks(&buf, h.body())?;
        let ours =
            |id: &[u8], pos: Option<u64>| id == ebml::id_bytes(ebml::TAGS) && pos == Some(rel);
        if !entries.iter().any(|(_, id, pos)| ours(id, *pos)) {
            continue;
        }
        found = true;
        let mut body = Vec::new();
        for (s, id, pos) in &entries {
            match s.id {
                ebml::VOID | ebml::CRC32 => {}
                _ if ours(id, *pos) => {
                    if let Some(at) = new {
                        body.extend(tags_seek(lay, at)?);
                    }
                }
                _ => body.extend_from_slice(ebml::whole(&buf, h.body(), s)),
            }
        }
        rewrite_seek_head(lay, w, j, &entries, body)?;
    }
    match new {
        Some(at) if !found && at >= lay.first_cluster() => add_entry(src, lay, w, at),
        _ => Ok(()),
    }
}

/// A `Tags` entry added to the first SeekHead: a `Tags` after the Clusters is found only
/// through it.
fn add_entry(src: &Source, lay: &Layout, w: &mut Writes, at: u64) -> Result<()> {
    let Some(j) = (0..lay.kids.len()).find(|j| lay.kids[*j].id == ebml::SEEK_HEAD) else {
        return Err(bad!(
            Unsupported,
            "Matroska file without a SeekHead and no room before the Clusters: a Tags element at the end would not be found"
        ));
    };
    let h = lay.kids[j];
    let buf = layout::read_data(src, &h, "SeekHead")?;
    let entries = seeks(&buf, h.body())?;
    let mut body = Vec::new();
    for (s, ..) in entries
        .iter()
        .filter(|(s, ..)| !matches!(s.id, ebml::VOID | ebml::CRC32))
    {
        body.extend_from_slice(ebml::whole(&buf, h.body(), s));
    }
    body.extend(tags_seek(lay, at)?);
    rewrite_seek_head(lay, w, j, &entries, body)
}

/// `kids[j]` (a SeekHead) rebuilt from `body` inside its span, with a CRC-32 if it had one.
fn rewrite_seek_head(
    lay: &Layout,
    w: &mut Writes,
    j: usize,
    entries: &[Entry],
    mut body: Vec<u8>,
) -> Result<()> {
    if entries.iter().any(|(s, ..)| s.id == ebml::CRC32) {
        let crc = ebml::crc32_element(&body)?;
        body.splice(0..0, crc);
    }
    let span = lay.span(j);
    match ebml::fill(ebml::SEEK_HEAD, &body, span.end - span.start)? {
        Some(bytes) => {
            w.put(span.start, bytes);
            Ok(())
        }
        None => Err(bad!(
            Unsupported,
            "no room in the Matroska SeekHead to point at the moved Tags element; remux it first (e.g. mkvmerge)"
        )),
    }
}
