//! MP4 box (atom) mechanics: parsing 32-bit, 64-bit (`size == 1`) and run-to-the-end (`size == 0`)
//! headers, listing the children of a box, building new boxes, splicing bytes into a box with its
//! ancestors' sizes fixed, and shifting chunk offsets. The same code reads the open file (headers
//! only, so `mdat` is skipped by seeking, never read) and an in-memory copy of `moov`.

use std::borrow::Cow;
use std::ops::Range;

use crate::bad;
use crate::error::ErrorKind;
use crate::formats::{Result, Source};

/// Something boxes can be read from: the file (bounds-checked positioned reads) or a buffer.
pub trait Bytes {
    fn size(&self) -> u64;
    /// Exactly `len` bytes at `pos`, or an error naming `what` when they run past the end.
    fn bytes(&self, pos: u64, len: u64, what: &str) -> Result<Cow<'_, [u8]>>;
}

impl Bytes for Source<'_> {
    fn size(&self) -> u64 {
        self.len()
    }

    fn bytes(&self, pos: u64, len: u64, what: &str) -> Result<Cow<'_, [u8]>> {
        Ok(Cow::Owned(self.read(pos, len, what)?))
    }
}

impl Bytes for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn bytes(&self, pos: u64, len: u64, what: &str) -> Result<Cow<'_, [u8]>> {
        slice(self, pos..pos.saturating_add(len), what).map(Cow::Borrowed)
    }
}

/// `buf[range]` without panicking on a range derived from corrupt data.
pub fn slice<'a>(buf: &'a [u8], range: Range<u64>, what: &str) -> Result<&'a [u8]> {
    let (Ok(start), Ok(end)) = (usize::try_from(range.start), usize::try_from(range.end)) else {
        return Err(bad!("corrupt MP4: {what} lies beyond addressable memory"));
    };
    buf.get(start..end)
        .ok_or_else(|| bad!("truncated or corrupt MP4: {what} runs past its box"))
}

/// One box: where it starts, how long its header is (8, or 16 with a 64-bit size) and its total
/// size including the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: [u8; 4],
    pub start: u64,
    pub header: u64,
    pub size: u64,
    /// The size field was 0: the box runs to the end of the file.
    pub to_end: bool,
}

impl BoxHeader {
    pub fn end(&self) -> u64 {
        self.start + self.size
    }

    pub fn body(&self) -> u64 {
        self.start + self.header
    }

    pub fn is(&self, kind: &[u8; 4]) -> bool {
        &self.kind == kind
    }

    pub fn name(&self) -> String {
        self.kind
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

/// Reads the header of the box at `pos`, which must end by `end` (its parent's end). `size == 0`
/// ("runs to the end of the file") is legal only for a top-level box (`top`): inside a parent it
/// would make a walk stand still, so it is an error.
pub fn header<D: Bytes + ?Sized>(data: &D, pos: u64, end: u64, top: bool) -> Result<BoxHeader> {
    let head = data.bytes(pos, 8, "box header")?;
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    let room = end.saturating_sub(pos);
    let (size, header, to_end) = match size32 {
        0 if top => (room, 8, true),
        0 => {
            let name = String::from_utf8_lossy(&kind).into_owned();
            return Err(bad!(
                "corrupt MP4: box '{name}' at byte {pos} has size 0 inside another box"
            ));
        }
        1 => {
            let ext = data.bytes(pos + 8, 8, "64-bit box size")?;
            let mut be = [0u8; 8];
            be.copy_from_slice(&ext);
            (u64::from_be_bytes(be), 16, false)
        }
        n => (u64::from(n), 8, false),
    };
    let h = BoxHeader {
        kind,
        start: pos,
        header,
        size,
        to_end,
    };
    if size < header || size > room {
        let e = bad!(
            "truncated or corrupt MP4: box '{}' at byte {pos} claims {size} bytes but {room} remain",
            h.name()
        );
        // At the top level `room` is what the file has left: the file ends too soon. Inside a
        // parent, the parent's own size is what disagrees.
        return Err(if top && size >= header {
            e.with_kind(ErrorKind::Truncated)
        } else {
            e
        });
    }
    Ok(h)
}

/// The boxes in `[start, end)`. Fewer than 8 trailing bytes cannot be a box (QuickTime ends some
/// lists with a 4-byte zero terminator); they are left alone and kept verbatim by every edit.
/// Every box is at least 8 bytes long, so the loop always advances and ends.
pub fn children<D: Bytes + ?Sized>(
    data: &D,
    start: u64,
    end: u64,
    top: bool,
) -> Result<Vec<BoxHeader>> {
    let mut out = Vec::new();
    let mut pos = start;
    while end.saturating_sub(pos) >= 8 {
        let h = header(data, pos, end, top)?;
        pos = h.end();
        out.push(h);
    }
    Ok(out)
}

/// The children of each of `parents` whose kind is `kind`: one step down a fixed path.
pub fn descend<D: Bytes + ?Sized>(
    data: &D,
    parents: &[BoxHeader],
    kind: &[u8; 4],
) -> Result<Vec<BoxHeader>> {
    let mut out = Vec::new();
    for p in parents {
        out.extend(
            children(data, p.body(), p.end(), false)?
                .into_iter()
                .filter(|c| c.is(kind)),
        );
    }
    Ok(out)
}

/// A new box with a 32-bit size (metadata boxes are far below 4 GiB; a larger one is refused).
pub fn make(kind: &[u8; 4], parts: &[&[u8]]) -> Result<Vec<u8>> {
    let len = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let size = u32::try_from(len).map_err(|_| {
        bad!(
            Unsupported,
            "MP4 box '{}' would exceed 4 GiB",
            String::from_utf8_lossy(kind)
        )
    })?;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// A `free` box of exactly `total` bytes (header included); `None` below the 8-byte minimum.
pub fn free(total: usize) -> Option<Vec<u8>> {
    make(b"free", &[&vec![0u8; total.checked_sub(8)?]]).ok()
}

/// Rewrites the size field of the box whose header starts at `at` in `buf`, keeping its header
/// form (a 32-bit size stays 32-bit, a 64-bit one stays 64-bit) so no other byte moves.
pub fn set_size(buf: &mut [u8], at: u64, header: u64, size: u64) -> Result<()> {
    let at = usize::try_from(at).map_err(|_| bad!("corrupt MP4: box offset too large"))?;
    let (field, bytes) = if header == 16 {
        (at + 8..at + 16, size.to_be_bytes().to_vec())
    } else {
        let s = u32::try_from(size)
            .map_err(|_| bad!(Unsupported, "MP4 box would exceed 4 GiB with a 32-bit size"))?;
        (at..at + 4, s.to_be_bytes().to_vec())
    };
    buf.get_mut(field)
        .ok_or_else(|| bad!("corrupt MP4: box header outside its parent"))?
        .copy_from_slice(&bytes);
    Ok(())
}

/// `path[0]` (the outermost box) with `at` replaced by `with`, and the size of every box on `path`
/// (each one encloses `at`) adjusted by the difference.
pub fn splice(buf: &[u8], path: &[BoxHeader], at: Range<u64>, with: &[u8]) -> Result<Vec<u8>> {
    let Some(outer) = path.first() else {
        return Err(bad!(Internal, "internal: empty box path"));
    };
    let mut out = Vec::with_capacity(buf.len() + with.len());
    out.extend_from_slice(slice(buf, outer.start..at.start, "box")?);
    out.extend_from_slice(with);
    out.extend_from_slice(slice(buf, at.end..outer.end(), "box")?);
    for h in path {
        let size = (h.size.checked_add(with.len() as u64))
            .and_then(|s| s.checked_sub(at.end.checked_sub(at.start)?))
            .ok_or_else(|| bad!(Internal, "internal: box size out of range"))?;
        let rel = h
            .start
            .checked_sub(outer.start)
            .ok_or_else(|| bad!(Internal, "internal: box outside its parent"))?;
        set_size(&mut out, rel, h.header, size)?;
    }
    Ok(out)
}

/// Moves every chunk offset (`stco`, `co64` of every track) that points past the old `moov` by
/// `delta`: the data there moves by exactly the growth of `moov`, data before it stays put.
pub fn shift_chunk_offsets(moov: &mut [u8], old: Range<u64>, delta: i128) -> Result<()> {
    let moved = |o: u64| -> Result<u64> {
        if o < old.start {
            Ok(o)
        } else if o >= old.end {
            u64::try_from(i128::from(o) + delta)
                .map_err(|_| bad!("chunk offset {o} out of range after the move"))
        } else {
            Err(bad!(
                "corrupt MP4: a chunk offset ({o}) points inside the moov box"
            ))
        }
    };
    for t in offset_tables(moov)? {
        shift_table(moov, &t, &moved)?;
    }
    Ok(())
}

/// Every `stco` and `co64` box of every track in `moov`; an error for absolute offsets we could
/// not move (`saio`).
fn offset_tables(data: &[u8]) -> Result<Vec<BoxHeader>> {
    let root = header(data, 0, data.size(), false)?;
    let traks = descend(data, &[root], b"trak")?;
    let stbls = descend(
        data,
        &descend(data, &descend(data, &traks, b"mdia")?, b"minf")?,
        b"stbl",
    )?;
    if !descend(data, &stbls, b"saio")?.is_empty() {
        // Encrypted files keep absolute offsets of sample auxiliary data there, too.
        return Err(bad!(
            Unsupported,
            "MP4 has 'saio' offsets (encrypted media): refusing to move its data"
        ));
    }
    let mut tables = descend(data, &stbls, b"stco")?;
    tables.extend(descend(data, &stbls, b"co64")?);
    Ok(tables)
}

/// Rewrites each entry of one chunk offset table `t` as `moved` says.
fn shift_table(moov: &mut [u8], t: &BoxHeader, moved: &dyn Fn(u64) -> Result<u64>) -> Result<()> {
    let wide = t.is(b"co64");
    let width = if wide { 8 } else { 4 };
    // FullBox version/flags, a 32-bit entry count, then the entries.
    let body = slice(moov, t.body()..t.end(), "chunk offset table")?;
    let Some(&[a, b, c, d]) = body.get(4..8) else {
        return Err(bad!("corrupt MP4: chunk offset table too short"));
    };
    let count = u64::from(u32::from_be_bytes([a, b, c, d]));
    let first = t.body() + 8;
    if 8 + count * width > body.len() as u64 {
        return Err(bad!(
            "corrupt MP4: chunk offset table claims {count} entries, more than its box holds"
        ));
    }
    for i in 0..count {
        let at = first + i * width;
        let at = usize::try_from(at).map_err(|_| bad!("corrupt MP4: table offset too large"))?;
        let field = moov
            .get_mut(at..at + width as usize)
            .ok_or_else(|| bad!("corrupt MP4: chunk offset table"))?;
        if wide {
            let mut be = [0u8; 8];
            be.copy_from_slice(field);
            field.copy_from_slice(&moved(u64::from_be_bytes(be))?.to_be_bytes());
        } else {
            let o = moved(u64::from(u32::from_be_bytes([
                field[0], field[1], field[2], field[3],
            ])))?;
            let o = u32::try_from(o).map_err(|_| {
                bad!(
                    Unsupported,
                    "chunk offset {o} no longer fits the 32-bit 'stco' table after growing moov"
                )
            })?;
            field.copy_from_slice(&o.to_be_bytes());
        }
    }
    Ok(())
}
