//! The proof of a signed file: the C2PA SDK rewrote the whole file (ID3 tag as v2.4, RIFF tree,
//! MP4 boxes with chunk offsets moved), so before it replaces the user's file every item of the
//! old version other than the manifest store must be found unchanged in the new one:
//! - MP3, FLAC: the `id3` crate reads both ID3v2 tags, whose frames (but the C2PA `GEOB`) must be
//!   equal by ID and content, and the bytes after the tag (audio, FLAC blocks, ID3v1) must be
//!   identical;
//! - WAV: every top-level chunk but `C2PA` identical, in order;
//! - MP4: every top-level box but the C2PA `uuid` identical, except `moov`, whose leaves must be
//!   identical but for `stco`/`co64` chunk offsets, each moved by exactly the distance `mdat`
//!   moved.
//!
//! The walkers are deliberately tiny and share no code with the planners or the SDK. The same
//! walks refuse a truncated file before signing (`whole`).

use std::ops::Range;

use crate::bad;
use crate::formats::{Result, Source, sha256_ranges};
use crate::model::Container;

/// The C2PA manifest `uuid` box of ISO BMFF (C2PA spec §A.4).
const C2PA_UUID: [u8; 16] = [
    0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81,
];
/// The largest `moov` compared in memory.
const MAX_MOOV: u64 = 64 << 20;
/// `moov` descendants that hold boxes (everything else is compared as bytes).
const CONTAINERS: [&[u8; 4]; 9] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"udta",
];

fn refused(what: String) -> crate::error::FileError {
    bad!(
        Refused,
        "internal check of the signed file: {what}; not written"
    )
}

/// Errors (Truncated) when the file's own structure runs past its end: the SDK signs such a file
/// without complaint.
pub fn whole(src: &Source, container: Container) -> Result<()> {
    match container {
        Container::Mpeg | Container::Flac => {
            let end = id3_len(src)?;
            src.check(0, end, "the ID3v2 tag")?;
            if container == Container::Flac {
                flac_blocks_end(src, end)?;
            }
            Ok(())
        }
        Container::Wav => riff_chunks(src).map(|_| ()),
        Container::Mp4 => boxes(src, 0, src.len()).map(|_| ()),
        _ => Ok(()),
    }
}

/// Every item of `old` but the manifest store is in `new`.
pub fn prove(container: Container, old: &Source, new: &Source) -> Result<()> {
    match container {
        Container::Mpeg | Container::Flac => id3_and_tail(old, new),
        Container::Wav => riff(old, new),
        Container::Mp4 => mp4(old, new),
        other => Err(refused(format!("{} cannot be signed", other.name()))),
    }
}

fn digest(src: &Source, r: Range<u64>) -> Result<[u8; 32]> {
    sha256_ranges(src, &[r])
}

/// Where the ID3v2 tag at the head ends (0 without one).
pub fn id3_len(src: &Source) -> Result<u64> {
    let h = src.read_upto(0, 10)?;
    if h.len() < 10 || &h[..3] != b"ID3" {
        return Ok(0);
    }
    if h[6..10].iter().any(|b| b & 0x80 != 0) {
        return Err(bad!("the ID3v2 tag's size is not syncsafe"));
    }
    let size = h[6..10].iter().fold(0u64, |a, &b| (a << 7) | u64::from(b));
    let footer = if h[3] == 4 && h[5] & 0x10 != 0 { 10 } else { 0 };
    Ok(10 + size + footer)
}

/// The frames of the ID3v2 tag in `src[..end]` as (ID, content), the C2PA GEOB left out.
fn id3_frames(src: &Source, end: u64) -> Result<Vec<(String, id3::Content)>> {
    if end == 0 {
        return Ok(Vec::new());
    }
    let bytes = src.read(0, end, "the ID3v2 tag")?;
    let tag = id3::Tag::read_from2(std::io::Cursor::new(bytes))
        .map_err(|e| refused(format!("the id3 crate cannot read a tag ({e})")))?;
    let is_c2pa = |c: &id3::Content| {
        matches!(c, id3::Content::EncapsulatedObject(o)
            if o.mime_type == "application/c2pa" || o.mime_type == "application/x-c2pa-manifest-store")
    };
    Ok(tag
        .frames()
        .filter(|f| !is_c2pa(f.content()))
        .map(|f| (f.id().to_string(), f.content().clone()))
        .collect())
}

fn id3_and_tail(old: &Source, new: &Source) -> Result<()> {
    let (old_end, new_end) = (id3_len(old)?, id3_len(new)?);
    let (was, now) = (id3_frames(old, old_end)?, id3_frames(new, new_end)?);
    if was != now {
        let lost: Vec<&str> = was
            .iter()
            .filter(|f| !now.contains(f))
            .map(|f| f.0.as_str())
            .collect();
        return Err(refused(format!(
            "the ID3v2 frames changed (lost or altered: {})",
            lost.join(", ")
        )));
    }
    if old.len() - old_end != new.len() - new_end
        || digest(old, old_end..old.len())? != digest(new, new_end..new.len())?
    {
        return Err(refused("the bytes after the ID3v2 tag changed".into()));
    }
    Ok(())
}

/// The end of the FLAC metadata blocks after an optional ID3 prefix ending at `at`.
pub fn flac_blocks_end(src: &Source, at: u64) -> Result<u64> {
    if src.read(at, 4, "the FLAC signature")? != b"fLaC" {
        return Err(bad!("no fLaC signature after the ID3v2 tag"));
    }
    let mut pos = at + 4;
    loop {
        let h = src.read(pos, 4, "a FLAC block header")?;
        let len = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        src.check(pos + 4, len, "a FLAC metadata block")?;
        pos += 4 + len;
        if h[0] & 0x80 != 0 {
            return Ok(pos);
        }
    }
}

/// A top-level RIFF chunk: its id and byte range.
type Chunk = ([u8; 4], Range<u64>);

/// The top-level RIFF chunks, and where the RIFF ends.
fn riff_chunks(src: &Source) -> Result<(Vec<Chunk>, u64)> {
    let h = src.read(0, 12, "the RIFF header")?;
    if &h[..4] != b"RIFF" {
        return Err(bad!("not a RIFF file"));
    }
    let end = 8 + u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
    src.check(0, end, "the RIFF chunk")?;
    let mut out = Vec::new();
    let mut pos = 12;
    while pos + 8 <= end {
        let c = src.read(pos, 8, "a chunk header")?;
        let len = u64::from(u32::from_le_bytes([c[4], c[5], c[6], c[7]]));
        src.check(pos + 8, len, "a chunk")?;
        let id = [c[0], c[1], c[2], c[3]];
        out.push((id, pos..pos + 8 + len));
        pos += 8 + len + (len & 1);
    }
    Ok((out, end))
}

fn riff(old: &Source, new: &Source) -> Result<()> {
    let ((was, old_end), (now, new_end)) = (riff_chunks(old)?, riff_chunks(new)?);
    let keep =
        |v: Vec<Chunk>| -> Vec<Chunk> { v.into_iter().filter(|(id, _)| id != b"C2PA").collect() };
    let (was, now) = (keep(was), keep(now));
    if was.len() != now.len() {
        return Err(refused(format!(
            "{} chunks before, {} after",
            was.len(),
            now.len()
        )));
    }
    for ((a, ra), (b, rb)) in was.iter().zip(&now) {
        if a != b
            || ra.end - ra.start != rb.end - rb.start
            || digest(old, ra.clone())? != digest(new, rb.clone())?
        {
            return Err(refused(format!(
                "the {:?} chunk changed",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if digest(old, old_end..old.len())? != digest(new, new_end..new.len())? {
        return Err(refused("the bytes after the RIFF chunk changed".into()));
    }
    Ok(())
}

/// One box: type, whole range, where its content starts.
struct Bx {
    kind: [u8; 4],
    range: Range<u64>,
    body: u64,
}

fn boxes(src: &Source, from: u64, to: u64) -> Result<Vec<Bx>> {
    let mut out = Vec::new();
    let mut pos = from;
    while pos + 8 <= to {
        let h = src.read(pos, 8, "a box header")?;
        let kind = [h[4], h[5], h[6], h[7]];
        let (len, head) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
            0 => (to - pos, 8),
            1 => {
                let l = src.read(pos + 8, 8, "a box size")?;
                (u64::from_be_bytes(l.try_into().expect("8 bytes")), 16)
            }
            n => (u64::from(n), 8),
        };
        if len < head {
            return Err(bad!("a box shorter than its header"));
        }
        src.check(pos, len, "a box")?;
        if pos + len > to {
            return Err(bad!("a box runs past its parent"));
        }
        out.push(Bx {
            kind,
            range: pos..pos + len,
            body: pos + head,
        });
        pos += len;
    }
    Ok(out)
}

fn is_c2pa_box(src: &Source, b: &Bx) -> Result<bool> {
    Ok(&b.kind == b"uuid" && src.read_upto(b.body, 16)? == C2PA_UUID)
}

fn mp4(old: &Source, new: &Source) -> Result<()> {
    let strip = |src: &Source| -> Result<Vec<Bx>> {
        let mut v = Vec::new();
        for b in boxes(src, 0, src.len())? {
            if !is_c2pa_box(src, &b)? {
                v.push(b);
            }
        }
        Ok(v)
    };
    let (was, now) = (strip(old)?, strip(new)?);
    if was.len() != now.len() {
        return Err(refused(format!(
            "{} boxes before, {} after",
            was.len(),
            now.len()
        )));
    }
    let mdat = |v: &[Bx]| {
        v.iter()
            .find(|b| &b.kind == b"mdat")
            .map(|b| b.body as i128)
    };
    let delta = mdat(&now).unwrap_or(0) - mdat(&was).unwrap_or(0);
    for (a, b) in was.iter().zip(&now) {
        let same_len = a.range.end - a.range.start == b.range.end - b.range.start;
        if a.kind != b.kind || !same_len {
            return Err(refused(format!(
                "the {:?} box changed",
                String::from_utf8_lossy(&a.kind)
            )));
        }
        if &a.kind == b"mdat" && a.body as i128 + delta != b.body as i128 {
            return Err(refused(
                "the mdat boxes moved by different distances".into(),
            ));
        }
        let equal = match &a.kind {
            b"moov" => moov(old, a, new, b, delta)?,
            _ => digest(old, a.range.clone())? == digest(new, b.range.clone())?,
        };
        if !equal {
            return Err(refused(format!(
                "the {:?} box changed",
                String::from_utf8_lossy(&a.kind)
            )));
        }
    }
    Ok(())
}

/// The leaves of `moov` (type, bytes), depth first.
fn leaves(src: &Source, b: &Bx, out: &mut Vec<([u8; 4], Vec<u8>)>) -> Result<()> {
    if CONTAINERS.contains(&&b.kind) {
        for c in boxes(src, b.body, b.range.end)? {
            leaves(src, &c, out)?;
        }
        return Ok(());
    }
    let len = b.range.end - b.range.start;
    out.push((b.kind, src.read(b.range.start, len, "a moov box")?));
    Ok(())
}

/// `stco` (32-bit) or `co64` (64-bit) entries of a leaf's bytes.
fn offsets(leaf: &[u8], wide: bool) -> Option<Vec<i128>> {
    let count = u32::from_be_bytes(leaf.get(12..16)?.try_into().ok()?) as usize;
    let size = if wide { 8 } else { 4 };
    let body = leaf.get(16..16 + count.checked_mul(size)?)?;
    Some(
        body.chunks(size)
            .map(|c| match wide {
                true => u64::from_be_bytes(c.try_into().expect("8")) as i128,
                false => u32::from_be_bytes(c.try_into().expect("4")) as i128,
            })
            .collect(),
    )
}

fn moov(old: &Source, a: &Bx, new: &Source, b: &Bx, delta: i128) -> Result<bool> {
    if a.range.end - a.range.start > MAX_MOOV {
        return Err(refused("the moov box is too large to compare".into()));
    }
    let (mut was, mut now) = (Vec::new(), Vec::new());
    leaves(old, a, &mut was)?;
    leaves(new, b, &mut now)?;
    if was.len() != now.len() {
        return Ok(false);
    }
    Ok(was.iter().zip(&now).all(|((ka, va), (kb, vb))| {
        if ka != kb || va.len() != vb.len() {
            return false;
        }
        match ka {
            b"stco" | b"co64" => {
                let wide = ka == b"co64";
                va[..16] == vb[..16]
                    && match (offsets(va, wide), offsets(vb, wide)) {
                        (Some(x), Some(y)) => x.iter().zip(&y).all(|(o, n)| o + delta == *n),
                        _ => false,
                    }
            }
            _ => va == vb,
        }
    }))
}
