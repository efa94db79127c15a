//! DSF: a 28-byte `DSD ` chunk (its size, the total file size, the offset of the metadata: an
//! ID3v2 tag, 0 for none), then `fmt ` and `data` chunks (64-bit little-endian sizes). The tag's
//! slot runs from that offset to the end of the file, as mutagen and TagLib write it. Every edit
//! is in place: the slot is rewritten, growing into the end of the file, and the two header
//! fields follow; `strip` restoring the layout cuts the tag off again.

use std::ops::Range;

use super::{Tagged, edited, u64_at};
use crate::bad;
use crate::formats::{Edit, Plan, Region, Result, Source};

/// Where the total file size and the metadata offset are (the `DSD ` chunk's data).
const SIZES_AT: u64 = 12;
const HEAD: u64 = 28;

/// Where the audio ends and the tag starts.
struct Layout {
    /// The metadata offset, when the file has one.
    tag_at: Option<u64>,
}

fn layout(src: &Source) -> Result<Layout> {
    let h = src.read(0, HEAD, "DSF header")?;
    if &h[..4] != b"DSD " || u64_at(&h[4..], true) != HEAD {
        return Err(bad!("not a DSF file: no 28-byte DSD chunk"));
    }
    let (total, tag_at) = (u64_at(&h[12..], true), u64_at(&h[20..], true));
    if total > src.len() {
        return Err(bad!(
            Truncated,
            "truncated: the DSF header says the file has {total} bytes, it has {}",
            src.len()
        ));
    }
    if total != src.len() {
        return Err(bad!(
            "corrupt DSF: the header says the file has {total} bytes, it has {}",
            src.len()
        ));
    }
    let fmt = chunk(src, HEAD, b"fmt ")?;
    let data = chunk(src, fmt, b"data")?;
    if tag_at != 0 && (tag_at < data || tag_at >= src.len()) {
        return Err(bad!(
            "corrupt DSF: the metadata offset {tag_at} is not between the audio's end ({data}) and the file's end ({})",
            src.len()
        ));
    }
    Ok(Layout {
        tag_at: (tag_at != 0).then_some(tag_at),
    })
}

/// The chunk `id` at `at`, checked against the file: where it ends.
fn chunk(src: &Source, at: u64, id: &[u8; 4]) -> Result<u64> {
    let h = src.read(at, 12, "DSF chunk header")?;
    let name = String::from_utf8_lossy(id);
    if &h[..4] != id {
        return Err(bad!("corrupt DSF: no {name:?} chunk at byte {at}"));
    }
    let size = u64_at(&h[4..], true);
    match at.checked_add(size) {
        Some(end) if size >= 12 && end <= src.len() => Ok(end),
        _ if size < 12 => Err(bad!(
            "corrupt DSF: the {name:?} chunk is smaller than its header"
        )),
        _ => Err(bad!(
            Truncated,
            "truncated: the DSF {name:?} chunk runs past the end of the file"
        )),
    }
}

/// The tag's slot: the bytes from the metadata offset to the end of the file.
pub(super) fn slot(src: &Source) -> Result<Option<Vec<u8>>> {
    layout(src)?
        .tag_at
        .map(|at| src.read(at, src.len() - at, "DSF ID3v2 tag"))
        .transpose()
}

/// The header's first 12 bytes and everything up to the tag (or the end).
pub(super) fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let end = layout(src)?.tag_at.unwrap_or(src.len());
    Ok(vec![0..SIZES_AT, HEAD..end])
}

pub(super) fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout(src)?;
    let slot = slot(src)?;
    let Some(new) = edited(slot.as_deref(), edit)? else {
        return Ok(None);
    };
    let len = src.len();
    let sizes = |total: u64, at: u64| {
        let mut b = total.to_le_bytes().to_vec();
        b.extend_from_slice(&at.to_le_bytes());
        Region {
            offset: SIZES_AT,
            bytes: b,
        }
    };
    let (at, bytes) = match (new, lay.tag_at) {
        (Tagged::Gone, Some(at)) => {
            return Ok(Some(Plan::Cut {
                regions: vec![sizes(at, 0)],
                len: at,
            }));
        }
        (Tagged::Gone, None) => return Ok(None),
        (Tagged::Bytes(b), at) => (at.unwrap_or(len), b),
    };
    // (A new tag in a slot of zeros may be shorter than it: the zeros after it stay.)
    let total = (at + bytes.len() as u64).max(len);
    // The slot is rewritten up to the old end; what is longer is appended.
    let mut regions = Vec::with_capacity(3);
    if total != len || lay.tag_at.is_none() {
        regions.push(sizes(total, at));
    }
    let mut inside = bytes;
    let append = inside.split_off(((len - at) as usize).min(inside.len()));
    if !inside.is_empty() {
        regions.push(Region {
            offset: at,
            bytes: inside,
        });
    }
    if !append.is_empty() {
        regions.push(Region {
            offset: len,
            bytes: append,
        });
    }
    Ok(Some(Plan::Patch { regions }))
}
