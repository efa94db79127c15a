//! An edit as data: the plan a container's planner returns and the write layer carries out,
//! and the rules every planner shares (how much filler closes a gap, a rewrite that replaces one
//! span of the file, a small patch folded into a rewrite).

use super::{Result, Source};
use crate::bad;
use crate::model::{Edit, Strategy};

/// Fresh padding left by a rewrite so the next edit fits in place.
pub const REWRITE_PADDING: usize = 8192;

impl Edit {
    /// The fresh padding a rewrite leaves: `REWRITE_PADDING`, plus (or less) what aligns the
    /// audio. The engine keeps `extra_padding` within ±4 KiB (`MAX_EXTRA_PADDING`), so at least
    /// half of `REWRITE_PADDING` is always left.
    pub fn rewrite_padding(&self) -> usize {
        REWRITE_PADDING.saturating_add_signed(self.extra_padding as isize)
    }
}

/// One piece of a rewritten file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// New bytes.
    Bytes(Vec<u8>),
    /// `len` bytes copied verbatim from the original at `offset`.
    Copy { offset: u64, len: u64 },
    /// Ogg pages copied from the original range with each page's sequence number shifted by
    /// `seq_delta` and its CRC recomputed (bodies and granule positions unchanged).
    OggPages {
        offset: u64,
        len: u64,
        seq_delta: i64,
    },
}

/// How to carry out an edit. Built from a scan of the original; the writer checks the file is
/// unchanged since then before acting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Positioned writes, in increasing offset order and not overlapping; the last may start
    /// exactly at the end of the file (an append: the file grows, nothing moves).
    Patch { regions: Vec<Region> },
    /// Build a new file from `parts` (temp sibling + rename).
    Rewrite { parts: Vec<Part> },
    /// Positioned writes as in `Patch` (none past `len`), then the file is cut to `len` bytes,
    /// shorter than now: `strip` taking away a box `tag` appended at the end.
    Cut { regions: Vec<Region>, len: u64 },
}

/// One positioned write of a `Plan::Patch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

impl Plan {
    /// One positioned write of `bytes` at `offset`.
    pub fn at(offset: u64, bytes: Vec<u8>) -> Plan {
        Plan::Patch {
            regions: vec![Region { offset, bytes }],
        }
    }

    /// In place (positioned writes) or a rewrite.
    pub fn strategy(&self) -> Strategy {
        match self {
            Plan::Patch { .. } | Plan::Cut { .. } => Strategy::InPlace,
            Plan::Rewrite { .. } => Strategy::Rewrite,
        }
    }

    /// The plan as positioned writes, or `None` for a rewrite (a `Cut`'s length is `cut()`).
    pub fn regions(self) -> Option<Vec<Region>> {
        match self {
            Plan::Patch { regions } | Plan::Cut { regions, .. } => Some(regions),
            Plan::Rewrite { .. } => None,
        }
    }

    /// The length a `Plan::Cut` leaves the file, after its writes.
    pub fn cut(&self) -> Option<u64> {
        match self {
            Plan::Cut { len, .. } => Some(*len),
            _ => None,
        }
    }

    /// The rewrite that keeps the original's bytes before `from` and from `to` on, with `bytes`
    /// between them: the head, the new bytes, the tail (empty pieces left out).
    pub fn splice(src: &Source, from: u64, bytes: Vec<u8>, to: u64) -> Plan {
        let mut parts = Vec::with_capacity(3);
        if from > 0 {
            parts.push(Part::Copy {
                offset: 0,
                len: from,
            });
        }
        if !bytes.is_empty() {
            parts.push(Part::Bytes(bytes));
        }
        if to < src.len() {
            parts.push(Part::Copy {
                offset: to,
                len: src.len() - to,
            });
        }
        Plan::Rewrite { parts }
    }

    /// The one positioned write of a patch that has exactly one.
    pub fn single(&self) -> Option<&Region> {
        match self {
            Plan::Patch { regions } if regions.len() == 1 => regions.first(),
            _ => None,
        }
    }
}

/// How many filler bytes bring `need` bytes to exactly `room`: 0 when they are equal, the gap
/// when it is at least `min` (the header of a FLAC PADDING block or an MP4 `free` box, the one
/// newline of an XMP packet's padding); `None` when it does not fit, and the file must grow
/// (leaving `REWRITE_PADDING` for the next edit).
pub fn filler(need: u64, room: u64, min: u64) -> Option<u64> {
    let spare = room.checked_sub(need)?;
    (spare == 0 || spare >= min).then_some(spare)
}

/// `parts` with the original bytes at `offset` replaced by `bytes` (same length): the `Copy`
/// part covering them is split around the new bytes. For folding a small patch (a retyped box,
/// a size field) into a rewrite.
pub fn patch_parts(parts: Vec<Part>, offset: u64, bytes: &[u8]) -> Result<Vec<Part>> {
    let end = offset + bytes.len() as u64;
    let mut out = Vec::with_capacity(parts.len() + 2);
    let mut done = false;
    for p in parts {
        match p {
            Part::Copy { offset: o, len } if !done && o <= offset && end <= o + len => {
                out.push(Part::Copy {
                    offset: o,
                    len: offset - o,
                });
                out.push(Part::Bytes(bytes.to_vec()));
                out.push(Part::Copy {
                    offset: end,
                    len: o + len - end,
                });
                done = true;
            }
            other => out.push(other),
        }
    }
    if !done {
        return Err(bad!(
            Internal,
            "internal: no copied range covers bytes {offset}..{end}"
        ));
    }
    out.retain(|p| !matches!(p, Part::Copy { len: 0, .. }));
    Ok(out)
}
