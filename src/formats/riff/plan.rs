//! Planning an edit of a WAV/AIFF file: the ID3 chunk (our plain tags) and, with XMP, the
//! `_PMX` / `APPL` chunk. When every changed chunk keeps its size, or new chunks can simply be
//! appended at the end of the file, the plan is a patch (no audio moves); otherwise the file is
//! rebuilt with fresh padding in the new chunks.

use super::{Layout, XmpChunk, id3_len, layout};
use crate::formats::{Edit, Part, Plan, Region, Result, Source, filler, id3v2, xmp};

/// New contents for one chunk: replacing the one at `existing` (header offset and data length),
/// or appended when `None`.
struct Change {
    existing: Option<(u64, u64)>,
    id: [u8; 4],
    data: Vec<u8>,
    /// The chunk goes away: `strip` left its XMP packet with nothing in it.
    remove: bool,
}

impl Change {
    fn fits(&self) -> bool {
        !self.remove
            && self
                .existing
                .is_none_or(|(_, len)| len == self.data.len() as u64)
    }

    /// True when the chunk being replaced is the last one of the root chunk.
    fn is_last(&self, lay: &Layout) -> bool {
        self.existing
            .is_some_and(|(off, len)| (off + 8 + len + (len & 1)).min(lay.root_end) == lay.root_end)
    }

    fn chunk(&self, lay: &Layout) -> Result<Vec<u8>> {
        let mut c = Vec::with_capacity(self.data.len() + 9);
        c.extend_from_slice(&self.id);
        c.extend_from_slice(&lay.size_bytes(self.data.len() as u64)?);
        c.extend_from_slice(&self.data);
        if self.data.len() % 2 == 1 {
            c.push(0);
        }
        Ok(c)
    }
}

/// Plans `edit` on the ID3 chunk and, with `edit.xmp`, the XMP chunk (SPEC §3.1). With
/// `Layout::Restore`, `strip` removes the chunks `tag` created whole (`carry::unwrap`), and an
/// XMP chunk it leaves with nothing in it (a rewrite); with `Layout::Keep` they stay, emptied.
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout(src)?;
    lay.check_finalized(src.len())?;
    let restore = edit.layout == crate::model::Layout::Restore;
    if restore && let Some(p) = super::carry::unwrap(src, &lay, edit, edit.xmp)? {
        return Ok(Some(p));
    }
    let mut changes = Vec::new();
    if let Some(c) = id3_change(src, &lay, edit)? {
        changes.push(c);
    }
    if edit.xmp
        && let Some(c) = xmp_change(src, &lay, edit, restore)?
    {
        changes.push(c);
    }
    if changes.is_empty() {
        return Ok(None);
    }
    // In place when every changed chunk keeps its size, except that the file's last chunk may
    // grow and new chunks may be appended, both into the end of the file (nothing moves).
    let grows = |c: &Change| !c.fits() && !c.remove && c.is_last(&lay);
    let at_end = changes.iter().any(|c| c.existing.is_none() || grows(c));
    let growing = changes.iter().filter(|c| grows(c)).count();
    if changes.iter().all(|c| c.fits() || grows(c))
        && growing <= 1
        && (!at_end || lay.root_end == src.len())
    {
        return patch(src, &lay, &changes).map(Some);
    }
    rebuild(src, &lay, &changes).map(Some)
}

/// The ID3 chunk's new data: padded to the old chunk size when it fits there.
fn id3_change(src: &Source, lay: &Layout, edit: &Edit) -> Result<Option<Change>> {
    let existing = lay.id3()?;
    let data = match existing {
        Some((off, len)) => {
            let data = src.read(off + 8, len, "ID3 chunk")?;
            match id3_len(&data)? {
                Some(tag_len) => {
                    let tag = id3v2::parse(&data[..tag_len])?;
                    let Some(need) = tag.min_len(edit)? else {
                        return Ok(None);
                    };
                    let pad_to = filler(need as u64, len, 0).map(|_| len as usize);
                    let Some(new) = tag.edited(edit, pad_to)? else {
                        return Ok(None);
                    };
                    id3v2::precheck(&data[..tag_len], &new, edit)?;
                    new
                }
                None if edit.set.is_empty() => return Ok(None),
                None => {
                    id3v2::carry::new_tag_carrying(edit, false, &super::carry::legacy(src, lay)?)?
                }
            }
        }
        None if edit.set.is_empty() => return Ok(None),
        None => id3v2::carry::new_tag_carrying(edit, false, &super::carry::legacy(src, lay)?)?,
    };
    let id = match existing {
        Some((off, _)) => src
            .read(off, 4, "chunk id")?
            .try_into()
            .unwrap_or(*lay.new_chunk_id()),
        None => *lay.new_chunk_id(),
    };
    Ok(Some(Change {
        existing,
        id,
        data,
        remove: false,
    }))
}

/// The XMP chunk's new data: the merged packet, padded to the old chunk size when it fits.
fn xmp_change(src: &Source, lay: &Layout, edit: &Edit, drop_empty: bool) -> Result<Option<Change>> {
    let (id, signature) = lay.xmp_chunk_head();
    let existing: Option<XmpChunk> = lay.xmp()?;
    let old = existing
        .map(|x| src.read(x.packet_offset(), x.packet_len(), "XMP chunk"))
        .transpose()?;
    let Some(merged) = xmp::merged(old.as_deref(), &edit.set)?.filter(|m| m.changed) else {
        return Ok(None);
    };
    // A packet that held nothing but ours goes with its chunk (strip is an exact undo).
    if let Some(x) = existing
        && drop_empty
        && merged.is_emptied(&edit.set)?
    {
        return Ok(Some(Change {
            existing: Some((x.offset, x.len)),
            id: *id,
            data: Vec::new(),
            remove: true,
        }));
    }
    let packet = match old {
        Some(old) => merged.fit_in(old.len()).unwrap_or_else(|grown| grown),
        None => merged.packet,
    };
    let mut data = signature.to_vec();
    data.extend_from_slice(&packet);
    Ok(Some(Change {
        existing: existing.map(|x| (x.offset, x.len)),
        id: *id,
        data,
        remove: false,
    }))
}

/// Changed chunks written where they are, new ones appended with the root size fixed.
fn patch(src: &Source, lay: &Layout, changes: &[Change]) -> Result<Plan> {
    let mut regions: Vec<Region> = Vec::new();
    let mut tail_start = src.len();
    let mut tail = Vec::new();
    for c in changes {
        match c.existing {
            Some((off, _)) if c.fits() => regions.push(Region {
                offset: off + 8,
                bytes: c.data.clone(),
            }),
            // The last chunk grows into the end of the file: rewritten from its header on.
            Some((off, _)) => {
                tail_start = off;
                tail.extend(c.chunk(lay)?);
            }
            None => {}
        }
    }
    let appended: Vec<&Change> = changes.iter().filter(|c| c.existing.is_none()).collect();
    if !appended.is_empty() && tail.is_empty() {
        // New chunks go where the last whole chunk ends, before any stray bytes (kept after
        // them); a last chunk with an odd length and no pad byte needs one first.
        tail_start = lay.chunks_end;
        if (lay.chunks_end - 12) % 2 == 1 {
            tail.push(0);
        }
    }
    for c in &appended {
        tail.extend(c.chunk(lay)?);
    }
    if !appended.is_empty() && tail_start == lay.chunks_end {
        tail.extend(src.read(
            lay.chunks_end,
            lay.root_end - lay.chunks_end,
            "bytes after the last chunk",
        )?);
    }
    if !tail.is_empty() {
        let new_len = tail_start + tail.len() as u64;
        let (offset, bytes) = lay.root_size(new_len - 8)?;
        regions.push(Region { offset, bytes });
        let inside = (src.len() - tail_start) as usize;
        let append = tail.split_off(inside.min(tail.len()));
        if !tail.is_empty() {
            regions.push(Region {
                offset: tail_start,
                bytes: tail,
            });
        }
        if !append.is_empty() {
            regions.push(Region {
                offset: src.len(),
                bytes: append,
            });
        }
    }
    regions.sort_by_key(|r| r.offset);
    Ok(Plan::Patch { regions })
}

/// The whole file with the changed chunks replaced where they were and new ones appended at
/// the end of the root chunk; the root size is fixed.
fn rebuild(src: &Source, lay: &Layout, changes: &[Change]) -> Result<Plan> {
    let mut parts = vec![Part::Bytes(Vec::new())];
    let mut pos = 12;
    let mut new_root = 4u64;
    let mut replaced: Vec<&Change> = changes.iter().filter(|c| c.existing.is_some()).collect();
    replaced.sort_by_key(|c| c.existing.map(|(off, _)| off));
    for c in replaced {
        let Some((off, len)) = c.existing else {
            continue;
        };
        let end = (off + 8 + len + (len & 1)).min(lay.root_end);
        parts.push(Part::Copy {
            offset: pos,
            len: off - pos,
        });
        // A removed chunk is simply not copied.
        let chunk = if c.remove { Vec::new() } else { c.chunk(lay)? };
        new_root += (off - pos) + chunk.len() as u64;
        parts.push(Part::Bytes(chunk));
        pos = end;
    }
    // New chunks go where the last whole chunk ends, before any stray bytes of the root.
    let chunks_end = lay.chunks_end.max(pos);
    parts.push(Part::Copy {
        offset: pos,
        len: chunks_end - pos,
    });
    new_root += chunks_end - pos;
    let mut tail = Vec::new();
    if (new_root - 4) % 2 == 1 {
        tail.push(0);
    }
    for c in changes.iter().filter(|c| c.existing.is_none()) {
        tail.extend(c.chunk(lay)?);
    }
    new_root += tail.len() as u64 + (lay.root_end - chunks_end);
    parts.push(Part::Bytes(tail));
    parts.push(Part::Copy {
        offset: chunks_end,
        len: lay.root_end - chunks_end,
    });
    parts.push(Part::Copy {
        offset: lay.root_end,
        len: src.len() - lay.root_end,
    });
    parts[0] = Part::Bytes(src.read(0, 12, "root header")?);
    let mut parts = lay.sized(parts, new_root)?;
    parts.retain(|p| match p {
        Part::Copy { len, .. } => *len > 0,
        Part::Bytes(b) => !b.is_empty(),
        Part::OggPages { .. } => true,
    });
    Ok(Plan::Rewrite { parts })
}
