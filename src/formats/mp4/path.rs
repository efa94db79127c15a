//! The path from `moov` to `ilst` (`moov/udta/meta/ilst`), as far as it exists: each level's
//! header, its place among its parent's children and its own children, read once per plan.

use super::boxes::{BoxHeader, Bytes, children};
use crate::bad;
use crate::formats::Result;

/// One box on the path to `ilst`: its header, its index among its parent's children, its own
/// children, and where they end (the insertion point, before any short tail).
pub(super) struct Level {
    pub(super) head: BoxHeader,
    pub(super) at: usize,
    pub(super) kids: Vec<BoxHeader>,
    pub(super) kids_end: u64,
}

/// `moov/udta/meta/ilst`, as far as it exists.
pub(super) struct Path {
    pub(super) moov: Level,
    pub(super) udta: Option<Level>,
    pub(super) meta: Option<Level>,
    pub(super) ilst: Option<Level>,
}

pub(super) fn locate<D: Bytes + ?Sized>(data: &D, moov: BoxHeader) -> Result<Path> {
    let moov = Level::read(data, moov, 0, moov.body())?;
    let udta = child(data, Some(&moov), b"udta")?;
    let meta = child(data, udta.as_ref(), b"meta")?;
    let ilst = child(data, meta.as_ref(), b"ilst")?;
    Ok(Path {
        moov,
        udta,
        meta,
        ilst,
    })
}

impl Level {
    fn read<D: Bytes + ?Sized>(data: &D, head: BoxHeader, at: usize, first: u64) -> Result<Level> {
        let kids = children(data, first, head.end(), false)?;
        let kids_end = kids.last().map_or(first, |k| k.end());
        Ok(Level {
            head,
            at,
            kids,
            kids_end,
        })
    }
}

/// The one child of `kind`; two of them would leave us guessing which one players read.
fn child<D: Bytes + ?Sized>(
    data: &D,
    parent: Option<&Level>,
    kind: &[u8; 4],
) -> Result<Option<Level>> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    let mut found = parent.kids.iter().enumerate().filter(|(_, k)| k.is(kind));
    let Some((at, &h)) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(bad!(
            Unsupported,
            "MP4 has two '{}' boxes in '{}'; refusing to guess",
            h.name(),
            parent.head.name()
        ));
    }
    let first = if kind == b"meta" {
        meta_first_child(data, h)?
    } else {
        h.body()
    };
    Level::read(data, h, at, first).map(Some)
}

/// ISO `meta` is a FullBox (4 bytes of version/flags, all zero, before its children); QuickTime
/// writes it as a plain container. A child's size is never 0 and a FullBox's 4 bytes are, so
/// non-zero leading bytes, or `hdlr` right after them, mean the children start at once.
fn meta_first_child<D: Bytes + ?Sized>(data: &D, meta: BoxHeader) -> Result<u64> {
    let len = (meta.end() - meta.body()).min(8);
    let b = data.bytes(meta.body(), len, "meta box")?;
    let quicktime =
        b.get(4..8) == Some(&b"hdlr"[..]) || b.get(0..4).is_some_and(|v| v != [0u8; 4].as_slice());
    Ok(if quicktime || len < 4 {
        meta.body()
    } else {
        meta.body() + 4
    })
}
