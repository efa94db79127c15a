//! WAV/AIFF and the older tags: the RIFF `LIST/INFO` fields or AIFF text chunks that `tag`
//! carries into a new ID3 chunk (`formats::carry` maps them), and `strip` removing the ID3 and
//! XMP chunks again when they hold nothing but what `tag` put there, so the file is laid out as
//! before and TagLib no longer sees an (empty) ID3v2 tag that hides the INFO fields.

use super::{Layout, id3_len};
use crate::formats::carry::{self, Field};
use crate::formats::id3v2::{self, carry::only_ours};
use crate::formats::{Edit, Part, Plan, Result, Source};

/// The standard fields of the file's older tags: WAV `LIST/INFO`, AIFF `NAME`/`AUTH`/`ANNO`/
/// `(c) `.
pub(super) fn legacy(src: &Source, lay: &Layout) -> Result<Vec<Field>> {
    let mut items = Vec::new();
    for &(id, off, len) in &lay.chunks {
        if lay.big_endian {
            if matches!(&id, b"NAME" | b"AUTH" | b"ANNO" | b"(c) ") {
                items.push((id, src.read(off + 8, len, "AIFF text chunk")?));
            }
        } else if &id == b"LIST" && len >= 4 && src.read(off + 8, 4, "LIST type")? == b"INFO" {
            items.extend(info_items(&src.read(
                off + 12,
                len - 4,
                "LIST/INFO chunk",
            )?));
        }
    }
    Ok(if lay.big_endian {
        carry::aiff_text(&items)
    } else {
        carry::riff_info(&items)
    })
}

/// The sub-chunks of an `INFO` list, as far as they are whole.
fn info_items(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= b.len() {
        let id = [b[pos], b[pos + 1], b[pos + 2], b[pos + 3]];
        let len = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        let Some(data) = b.get(pos + 8..pos + 8 + len) else {
            break;
        };
        out.push((id, data.to_vec()));
        pos += 8 + len + (len & 1);
    }
    out
}

/// `strip`'s plan when the ID3 chunk holds only our frames and the copies carried into it, and
/// the XMP chunk (if any, and when `with_xmp`) only our properties: both chunks go, the root
/// size is fixed. `None` otherwise (then only our fields are removed, as usual).
pub(super) fn unwrap(
    src: &Source,
    lay: &Layout,
    edit: &Edit,
    with_xmp: bool,
) -> Result<Option<Plan>> {
    let Some((off, len)) = lay.id3()? else {
        return Ok(None);
    };
    if !edit.set.is_empty() {
        return Ok(None);
    }
    let data = src.read(off + 8, len, "ID3 chunk")?;
    let Some(tag_len) = id3_len(&data)? else {
        return Ok(None);
    };
    if data[tag_len..].iter().any(|&b| b != 0)
        || !id3v2::parse(&data[..tag_len])?.only_ours_and(edit, &legacy(src, lay)?)?
    {
        return Ok(None);
    }
    let mut gone = vec![off];
    if let Some(x) = lay.xmp()? {
        let packet = src.read(x.packet_offset(), x.packet_len(), "XMP chunk")?;
        if !with_xmp || !only_ours(&packet)? {
            return Ok(None);
        }
        gone.push(x.offset);
    }
    without(src, lay, &gone).map(Some)
}

/// The file without the chunks whose headers are at `gone` (each with its pad byte).
fn without(src: &Source, lay: &Layout, gone: &[u64]) -> Result<Plan> {
    if let Some(cut) = cut_off(src, lay, gone)? {
        return Ok(cut);
    }
    let mut parts = Vec::new();
    let mut pos = 12;
    let mut removed = 0;
    for &(_, off, len) in lay.chunks.iter().filter(|c| gone.contains(&c.1)) {
        let end = (off + 8 + len + (len & 1)).min(lay.root_end);
        parts.push(Part::Copy {
            offset: pos,
            len: off - pos,
        });
        removed += end - off;
        pos = end;
    }
    parts.push(Part::Copy {
        offset: pos,
        len: src.len() - pos,
    });
    parts.insert(0, Part::Bytes(src.read(0, 12, "root header")?));
    let mut parts = lay.sized(parts, lay.root_end - 8 - removed)?;
    parts.retain(|p| !matches!(p, Part::Copy { len: 0, .. }));
    Ok(Plan::Rewrite { parts })
}

/// An RF64 file (which may hold gigabytes of audio) whose `gone` chunks are the last ones, at the
/// end of the file, as `tag` appended them: cut off in place (the ds64 size set first), rather
/// than a rewrite that copies all the audio. Not when the tag carried older fields: the write
/// layer's proof compares a version without a tag with what its older tags give only for a
/// rewrite.
fn cut_off(src: &Source, lay: &Layout, gone: &[u64]) -> Result<Option<Plan>> {
    if !lay.rf64 || !legacy(src, lay)?.is_empty() {
        return Ok(None);
    }
    let mut run: Vec<_> = lay.chunks.iter().filter(|c| gone.contains(&c.1)).collect();
    run.sort_by_key(|c| c.1);
    let Some(first) = run.first().map(|c| c.1) else {
        return Ok(None);
    };
    let mut end = first;
    for &&(_, off, len) in &run {
        if off != end {
            return Ok(None);
        }
        end = (off + 8 + len + (len & 1)).min(lay.root_end);
    }
    if end != lay.root_end || lay.root_end != src.len() {
        return Ok(None);
    }
    let (offset, bytes) = lay.root_size(first - 8)?;
    Ok(Some(Plan::Cut {
        regions: vec![crate::formats::Region { offset, bytes }],
        len: first,
    }))
}
