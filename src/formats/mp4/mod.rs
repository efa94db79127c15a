//! MP4 / M4A / M4B: the reservation lives in freeform `----` atoms of `moov/udta/meta/ilst` (mean
//! `com.apple.iTunes`, name = key, UTF-8 `data`). Reading walks box headers only, so `mdat` is
//! skipped wherever `moov` sits. An edit is written in place when the new `ilst` fits the old one
//! plus the `free` space around it; otherwise `moov` is rebuilt with fresh padding, its ancestors'
//! sizes fixed and, when data follows `moov`, every chunk offset shifted by the growth.

mod boxes;
mod freeform;
mod path;
#[cfg(test)]
mod tests;
mod uuid;

use std::ops::Range;

use boxes::{BoxHeader, Bytes, children, make, shift_chunk_offsets, slice, splice};
use freeform::{Freeform, ITUNES_MEAN, freeform};
use path::{Level, Path, locate};

use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Plan, RawField, Region, Result, Source, filler,
};
use crate::bad;

/// The family: MP4, M4A, M4B.
pub struct Mp4;

impl ContainerFormat for Mp4 {
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

/// Reads every freeform atom of `moov/udta/meta/ilst` with mean `com.apple.iTunes` as a field
/// (key = its `name`). Atoms of another vendor's mean are not ours (SPEC §3): a note names those
/// that share a reservation key, so `show` and `verify` say why they do not count.
/// No `ilst` gives no carrier; an `ilst` without freeform atoms gives a carrier with no fields.
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let top = children(src, 0, src.len(), true)?;
    let path = locate(src, the_moov(&top)?)?;
    // The XMP packet first: the ilst carrier, written last, is the primary one.
    let mut out: Vec<Carrier> = Vec::new();
    if uuid::has_c2pa(src)? {
        out.push(Carrier::c2pa("MP4 uuid box"));
    }
    out.extend(uuid::carrier(src)?);
    let Some(ilst) = path.ilst else {
        return Ok(out);
    };
    let mut fields = Vec::new();
    let mut notes = Vec::new();
    for k in ilst.kids.iter().filter(|k| k.is(b"----")) {
        // Only freeform atoms are read in full; cover art and other items are skipped by header.
        let atom = src.bytes(k.start, k.size, "freeform atom")?;
        let ff = Freeform::parse(&atom)?;
        let Some(key) = ff.name.clone() else { continue };
        if !ff.is_itunes() {
            if crate::model::is_spec_key(&key) {
                notes.push(format!(
                    "foreign freeform atom ----:{}:{key} is not ours (mean is not {ITUNES_MEAN}); ignored and kept",
                    ff.mean.as_deref().unwrap_or("?")
                ));
            }
            continue;
        }
        fields.extend(ff.values.into_iter().map(|value| RawField {
            key: key.clone(),
            value,
        }));
    }
    let mut carrier = Carrier::new(CarrierKind::Mp4Ilst, fields);
    carrier.notes = notes;
    out.push(carrier);
    Ok(out)
}

/// Plans `edit` on the freeform atoms and, with `edit.xmp`, the XMP `uuid` box (SPEC §3.1).
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let ilst = plan_ilst(src, edit)?;
    match edit.xmp {
        true => uuid::combine(src, ilst, edit),
        false => Ok(ilst),
    }
}

/// The freeform atoms' part of the plan; every other `ilst` item stays byte-identical and in
/// order.
fn plan_ilst(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let top = children(src, 0, src.len(), true)?;
    if let Some(b) = top.iter().find(|b| b.is(b"moof") || b.is(b"mfra")) {
        return Err(bad!(
            Unsupported,
            "fragmented MP4 ('{}' box) is not supported for writing",
            b.name()
        ));
    }
    let moov = the_moov(&top)?;
    if moov.to_end {
        return Err(bad!(
            Unsupported,
            "the moov box has size 0 (runs to the end of the file): refusing to rewrite it"
        ));
    }
    // moov holds only metadata and sample tables (no media), and its size was checked against the
    // file, so reading it whole is bounded.
    let buf = src.read(moov.start, moov.size, "moov box")?;
    let path = locate(buf.as_slice(), BoxHeader { start: 0, ..moov })?;
    if path.moov.kids.iter().any(|k| k.is(b"mvex")) {
        return Err(bad!(
            Unsupported,
            "fragmented MP4 ('mvex' box) is not supported for writing"
        ));
    }
    let Some(new_ilst) = edit_ilst(&buf, path.ilst.as_ref(), edit)? else {
        return Ok(None);
    };
    check_handler(&buf, path.meta.as_ref())?;
    if let Some((at, bytes)) = in_place(&buf, &path, &new_ilst)? {
        return Ok(Some(Plan::at(moov.start + at, bytes)));
    }
    let mut new_moov = rebuild(&buf, &path, &new_ilst, edit.rewrite_padding())?;
    let after = src.len() - moov.end();
    if after == 0 && new_moov.len() as u64 >= moov.size {
        // moov is the last box: it grows into the end of the file and no sample moves.
        let append = new_moov.split_off(moov.size as usize);
        let mut regions = vec![Region {
            offset: moov.start,
            bytes: new_moov,
        }];
        if !append.is_empty() {
            regions.push(Region {
                offset: src.len(),
                bytes: append,
            });
        }
        return Ok(Some(Plan::Patch { regions }));
    }
    if after > 0 {
        let delta = new_moov.len() as i128 - i128::from(moov.size);
        shift_chunk_offsets(&mut new_moov, moov.start..moov.end(), delta)?;
    }
    Ok(Some(Plan::splice(src, moov.start, new_moov, moov.end())))
}

/// The payload of every top-level `mdat` box: the audio an edit must never change.
pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let top = children(src, 0, src.len(), true)?;
    Ok(top
        .iter()
        .filter(|b| b.is(b"mdat"))
        .map(|b| b.body()..b.end())
        .collect())
}

fn the_moov(top: &[BoxHeader]) -> Result<BoxHeader> {
    let mut moovs = top.iter().filter(|b| b.is(b"moov"));
    match (moovs.next(), moovs.next(), top.last()) {
        (Some(m), None, _) => Ok(*m),
        (Some(_), Some(_), _) => Err(bad!(
            Unsupported,
            "MP4 has more than one moov box; refusing to guess which one counts"
        )),
        (None, _, Some(last)) if last.to_end => Err(bad!(
            Truncated,
            "no moov box found: '{}' has size 0 and runs to the end of the file (unfinished recording?)",
            last.name()
        )),
        (None, ..) => Err(bad!(
            Truncated,
            "no moov box found (truncated file or not an MP4)"
        )),
    }
}

/// Refuses a `meta` whose handler is not `mdir` (iTunes): under another handler (QuickTime `mdta`
/// keys) `ilst` items mean something else and our atoms would be misread.
fn check_handler(buf: &[u8], meta: Option<&Level>) -> Result<()> {
    for h in meta
        .map_or(&[][..], |m| &m.kids)
        .iter()
        .filter(|k| k.is(b"hdlr"))
    {
        let body = slice(buf, h.body()..h.end(), "hdlr box")?;
        if let Some(t) = body.get(8..12).filter(|t| *t != b"mdir") {
            return Err(bad!(
                Unsupported,
                "udta/meta has handler '{}', not 'mdir': refusing to write iTunes atoms there",
                String::from_utf8_lossy(t)
            ));
        }
    }
    Ok(())
}

/// The new `ilst` box, or `None` when the edit leaves its content unchanged. Kept items are copied
/// byte for byte; new atoms go after them, before any short tail.
fn edit_ilst(buf: &[u8], ilst: Option<&Level>, edit: &Edit) -> Result<Option<Vec<u8>>> {
    let (old, tail, kids) = match ilst {
        Some(l) => (
            slice(buf, l.head.body()..l.head.end(), "ilst box")?,
            slice(buf, l.kids_end..l.head.end(), "ilst box")?,
            l.kids.as_slice(),
        ),
        None => (&[][..], &[][..], &[][..]),
    };
    let mut payload = Vec::with_capacity(old.len());
    for k in kids {
        let item = slice(buf, k.start..k.end(), "ilst item")?;
        let removed = k.is(b"----") && {
            let ff = Freeform::parse(item)?;
            ff.is_itunes() && ff.name.is_some_and(|n| edit.removes(&n))
        };
        if !removed {
            payload.extend_from_slice(item);
        }
    }
    for (key, value) in &edit.set {
        payload.extend(freeform(key, value)?);
    }
    payload.extend_from_slice(tail);
    if payload == old {
        return Ok(None);
    }
    make(b"ilst", &[&payload]).map(Some)
}

/// The run of `free`/`skip` boxes around `kids[i]`, and the box itself: space an edit may reuse.
fn span(kids: &[BoxHeader], i: usize) -> Result<Range<u64>> {
    let pad = |k: &BoxHeader| k.is(b"free") || k.is(b"skip");
    let (before, after) = (kids.get(..i), kids.get(i + 1..));
    let (Some(before), Some(after)) = (before, after) else {
        return Err(bad!(Internal, "internal: bad box index"));
    };
    let lo = before.iter().rposition(|k| !pad(k)).map_or(0, |p| p + 1);
    let hi = after
        .iter()
        .position(|k| !pad(k))
        .map_or(kids.len(), |p| i + 1 + p);
    match (kids.get(lo), hi.checked_sub(1).and_then(|h| kids.get(h))) {
        (Some(first), Some(last)) => Ok(first.start..last.end()),
        _ => Err(bad!(Internal, "internal: bad box index")),
    }
}

/// `content` followed by one `free` box filling exactly `len` bytes; `None` when it does not fit
/// (a `free` box needs 8 bytes, so 1 to 7 spare bytes do not fit either).
fn fill(mut content: Vec<u8>, len: u64) -> Option<Vec<u8>> {
    let spare = usize::try_from(filler(content.len() as u64, len, 8)?).ok()?;
    if spare > 0 {
        content.extend(boxes::free(spare)?);
    }
    Some(content)
}

/// An in-place edit `(offset in moov, bytes)` that changes no ancestor's size, if one fits: first
/// the `ilst` and its neighbouring `free` boxes inside `meta`; then `meta` itself and the `free`
/// boxes next to it inside `udta` (meta's size changes, but the span it shares with them does not).
fn in_place(buf: &[u8], path: &Path, new_ilst: &[u8]) -> Result<Option<(u64, Vec<u8>)>> {
    let (Some(udta), Some(meta), Some(ilst)) = (&path.udta, &path.meta, &path.ilst) else {
        return Ok(None);
    };
    let inner = span(&meta.kids, ilst.at)?;
    if let Some(bytes) = fill(new_ilst.to_vec(), inner.end - inner.start) {
        return Ok(Some((inner.start, bytes)));
    }
    let outer = span(&udta.kids, meta.at)?;
    if outer.end - outer.start > meta.head.size {
        let new_meta = splice(buf, &[meta.head], inner, new_ilst)?;
        if let Some(bytes) = fill(new_meta, outer.end - outer.start) {
            return Ok(Some((outer.start, bytes)));
        }
    }
    Ok(None)
}

/// The new `moov`: the `ilst` (with its neighbouring `free` boxes) replaced by the new one plus
/// `pad` (the rewrite padding) bytes of `free`, creating `udta`, `meta` and `ilst` where missing.
fn rebuild(buf: &[u8], path: &Path, new_ilst: &[u8], pad: usize) -> Result<Vec<u8>> {
    let pad = boxes::free(pad).ok_or_else(|| bad!(Internal, "internal: padding below 8 bytes"))?;
    let content = [new_ilst, &pad].concat();
    let moov = &path.moov;
    match (&path.udta, &path.meta, &path.ilst) {
        (Some(u), Some(m), Some(i)) => splice(
            buf,
            &[moov.head, u.head, m.head],
            span(&m.kids, i.at)?,
            &content,
        ),
        (Some(u), Some(m), None) => splice(
            buf,
            &[moov.head, u.head, m.head],
            m.kids_end..m.kids_end,
            &content,
        ),
        (Some(u), None, _) => splice(
            buf,
            &[moov.head, u.head],
            u.kids_end..u.kids_end,
            &new_meta(&content)?,
        ),
        (None, ..) => {
            let udta = make(b"udta", &[&new_meta(&content)?])?;
            splice(buf, &[moov.head], moov.kids_end..moov.kids_end, &udta)
        }
    }
}

/// A `meta` FullBox with the `hdlr` iTunes writes: handler `mdir`, reserved `appl`, empty name.
fn new_meta(content: &[u8]) -> Result<Vec<u8>> {
    let hdlr = make(b"hdlr", &[&[0; 8], b"mdirappl", &[0; 9]])?;
    make(b"meta", &[&[0; 4], &hdlr, content])
}
