//! DSDIFF: a `FRM8` form of type `DSD ` whose chunks have 12-byte headers (id, 64-bit big-endian
//! size), padded to an even length. The tag is an `ID3 ` chunk at the form's top level, as
//! TagLib and mutagen read and write it; every other chunk (`FVER`, `PROP`, `DSD `/`DST `,
//! `DIIN`, `COMT`, …) is payload and kept byte for byte. A tag that fits its chunk is rewritten
//! in place; a new or growing chunk at the end of the file grows into the end (in place); one
//! elsewhere means a rewrite. The form size follows every change.

use std::ops::Range;

use super::{Tagged, edited, u64_at};
use crate::bad;
use crate::formats::{Edit, Plan, Region, Result, Source, patch_parts};

/// The form's 16-byte head: `FRM8`, its size, `DSD `.
const HEAD: u64 = 16;
const CHUNK_HEAD: u64 = 12;

struct Layout {
    /// Where the form ends (its size field counts from byte 12).
    root_end: u64,
    /// Every top-level chunk: id, header offset, data length.
    chunks: Vec<([u8; 4], u64, u64)>,
    /// Where the last chunk ends (with its pad byte, unless the form ends first).
    chunks_end: u64,
}

impl Layout {
    fn end_of(&self, off: u64, len: u64) -> u64 {
        (off + CHUNK_HEAD + len + (len & 1)).min(self.root_end)
    }

    /// The `ID3 ` chunk: header offset and data length.
    fn id3(&self) -> Result<Option<(u64, u64)>> {
        let mut found = self.chunks.iter().filter(|(id, ..)| id == b"ID3 ");
        let first = found.next().map(|&(_, off, len)| (off, len));
        if found.next().is_some() {
            return Err(bad!(Unsupported, "more than one ID3 chunk"));
        }
        Ok(first)
    }
}

fn layout(src: &Source) -> Result<Layout> {
    let h = src.read(0, HEAD, "DSDIFF header")?;
    if &h[..4] != b"FRM8" || &h[12..16] != b"DSD " {
        return Err(bad!("not a DSDIFF file: no FRM8 form of type DSD"));
    }
    let size = u64_at(&h[4..], false);
    let root_end = size
        .checked_add(12)
        .filter(|&e| e >= HEAD)
        .ok_or_else(|| bad!("corrupt DSDIFF: the FRM8 size {size} does not fit its header"))?;
    if root_end > src.len() {
        return Err(bad!(
            Truncated,
            "truncated: the FRM8 form claims {root_end} bytes, the file has {}",
            src.len()
        ));
    }
    let mut lay = Layout {
        root_end,
        chunks: Vec::new(),
        chunks_end: HEAD,
    };
    let mut pos = HEAD;
    while pos + CHUNK_HEAD <= root_end {
        let c = src.read(pos, CHUNK_HEAD, "DSDIFF chunk header")?;
        let len = u64_at(&c[4..], false);
        let id = [c[0], c[1], c[2], c[3]];
        if len > root_end - pos - CHUNK_HEAD {
            return Err(bad!(
                Truncated,
                "truncated: DSDIFF chunk {:?} runs past the end of the form",
                String::from_utf8_lossy(&id)
            ));
        }
        lay.chunks.push((id, pos, len));
        pos = lay.end_of(pos, len);
    }
    if pos < root_end {
        return Err(bad!(
            "corrupt DSDIFF: {} stray bytes at the end of the FRM8 form",
            root_end - pos
        ));
    }
    lay.chunks_end = pos;
    Ok(lay)
}

/// The `ID3 ` chunk's data.
pub(super) fn slot(src: &Source) -> Result<Option<Vec<u8>>> {
    layout(src)?
        .id3()?
        .map(|(off, len)| src.read(off + CHUNK_HEAD, len, "ID3 chunk"))
        .transpose()
}

/// The form's id and type, every chunk but `ID3 `, and anything after the form.
pub(super) fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let lay = layout(src)?;
    let mut out = vec![0..4, 12..HEAD];
    for &(id, off, len) in &lay.chunks {
        if &id != b"ID3 " {
            out.push(off..lay.end_of(off, len));
        }
    }
    if lay.root_end < src.len() {
        out.push(lay.root_end..src.len());
    }
    Ok(out)
}

/// An `ID3 ` chunk holding `data`, padded to an even length.
fn chunk(data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(data.len() + 13);
    c.extend_from_slice(b"ID3 ");
    c.extend_from_slice(&(data.len() as u64).to_be_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

pub(super) fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout(src)?;
    let existing = lay.id3()?;
    let slot = existing
        .map(|(off, len)| src.read(off + CHUNK_HEAD, len, "ID3 chunk"))
        .transpose()?;
    let Some(new) = edited(slot.as_deref(), edit)? else {
        return Ok(None);
    };
    // The span the old chunk takes (or the empty span where a new one goes) and its bytes.
    let (from, to) = match existing {
        Some((off, len)) => (off, lay.end_of(off, len)),
        None => (lay.chunks_end, lay.chunks_end),
    };
    let mut bytes = match new {
        Tagged::Gone if existing.is_none() => return Ok(None),
        Tagged::Gone => Vec::new(),
        Tagged::Bytes(b) if existing.is_some_and(|(_, len)| len == b.len() as u64) => {
            return Ok(Some(Plan::at(from + CHUNK_HEAD, b)));
        }
        Tagged::Bytes(b) => chunk(&b),
    };
    // A last chunk without its pad byte: the new chunk starts on an even offset.
    if existing.is_none() && (from - HEAD) % 2 == 1 {
        bytes.insert(0, 0);
    }
    let new_root = lay.root_end - 12 - (to - from) + bytes.len() as u64;
    let size = new_root.to_be_bytes();
    let at_end = to == lay.root_end && lay.root_end == src.len();
    if at_end && bytes.is_empty() {
        return Ok(Some(Plan::Cut {
            regions: vec![Region {
                offset: 4,
                bytes: size.to_vec(),
            }],
            len: from,
        }));
    }
    if at_end {
        let mut regions = vec![Region {
            offset: 4,
            bytes: size.to_vec(),
        }];
        let mut inside = bytes;
        let append = inside.split_off(((src.len() - from) as usize).min(inside.len()));
        if !inside.is_empty() {
            regions.push(Region {
                offset: from,
                bytes: inside,
            });
        }
        regions.push(Region {
            offset: src.len(),
            bytes: append,
        });
        return Ok(Some(Plan::Patch { regions }));
    }
    // A rewrite moves every chunk after the tag; a DST frame index (`DSTI`) holds file offsets
    // of the frames, which would then point at the wrong bytes.
    if lay.chunks.iter().any(|(id, ..)| id == b"DSTI") {
        return Err(bad!(
            Unsupported,
            "a DST-compressed DSDIFF with a frame index (DSTI) whose ID3 chunk has no room before the audio: a rewrite would move the frames the index points at; not changed"
        ));
    }
    let Plan::Rewrite { parts } = Plan::splice(src, from, bytes, to) else {
        return Err(bad!(Internal, "internal: a splice is a rewrite"));
    };
    let parts = patch_parts(parts, 4, &size)?;
    Ok(Some(Plan::Rewrite { parts }))
}
