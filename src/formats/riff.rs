//! WAV (`RIFF`/`WAVE`, little-endian) and AIFF/AIFC (`FORM`, big-endian): the carrier is an ID3v2
//! tag inside an `id3 `/`ID3 ` chunk. Every other chunk is payload. A chunk that is rewritten in
//! its own space keeps the file size; otherwise the file is rebuilt with the root size fixed.

use std::ops::Range;

use super::{Carrier, CarrierKind, Edit, Part, Plan, Result, Source, id3v2};
use crate::bad;

/// The root chunk and where its children are.
struct Layout {
    big_endian: bool,
    /// File offset where the root chunk (and thus the chunk list) ends.
    root_end: u64,
    /// Every child chunk: id, offset of its header, data length.
    chunks: Vec<([u8; 4], u64, u64)>,
}

impl Layout {
    fn id3(&self) -> Result<Option<(u64, u64)>> {
        let mut found = self
            .chunks
            .iter()
            .filter(|(id, ..)| id.eq_ignore_ascii_case(b"id3 "));
        let first = found.next().map(|&(_, off, len)| (off, len));
        if found.next().is_some() {
            return Err(bad!("more than one ID3 chunk"));
        }
        Ok(first)
    }

    fn size_bytes(&self, n: u64) -> Result<[u8; 4]> {
        let n = u32::try_from(n).map_err(|_| bad!("file too large for a 32-bit RIFF/FORM size"))?;
        Ok(if self.big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        })
    }

    fn new_chunk_id(&self) -> &'static [u8; 4] {
        // `id3 ` is what ExifTool and most WAV readers look for; AIFF uses `ID3 `.
        if self.big_endian { b"ID3 " } else { b"id3 " }
    }
}

fn layout(src: &Source) -> Result<Layout> {
    let head = src.read(0, 12, "RIFF/FORM header")?;
    let big_endian = match (&head[..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => false,
        (b"FORM", b"AIFF" | b"AIFC") => true,
        _ => return Err(bad!("not a WAV or AIFF file")),
    };
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        u64::from(if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let root_end = 8 + u32_at(&head[4..8]);
    if root_end > src.len() {
        return Err(bad!(
            "truncated: the root chunk claims {root_end} bytes, the file has {}",
            src.len()
        ));
    }
    let mut chunks = Vec::new();
    let mut pos = 12;
    while pos + 8 <= root_end {
        let h = src.read(pos, 8, "chunk header")?;
        let len = u32_at(&h[4..8]);
        let id = [h[0], h[1], h[2], h[3]];
        if pos + 8 + len > root_end {
            return Err(bad!(
                "truncated: chunk {:?} runs past the end of the file",
                String::from_utf8_lossy(&id)
            ));
        }
        chunks.push((id, pos, len));
        // Chunks are padded to an even length; a missing pad byte at the very end is tolerated.
        pos = (pos + 8 + len + (len & 1)).min(root_end);
    }
    Ok(Layout {
        big_endian,
        root_end,
        chunks,
    })
}

pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let Some((off, len)) = layout(src)?.id3()? else {
        return Ok(Vec::new());
    };
    let data = src.read(off + 8, len, "ID3 chunk")?;
    let Some(tag_len) = id3_len(&data)? else {
        return Ok(Vec::new());
    };
    let tag = id3v2::parse(&data[..tag_len])?;
    Ok(vec![Carrier {
        kind: CarrierKind::Id3v2 { major: tag.major },
        fields: tag.fields()?,
    }])
}

/// The length of the ID3v2 tag at the start of chunk data, checked against the chunk.
fn id3_len(data: &[u8]) -> Result<Option<usize>> {
    if data.len() < 10 || &data[..3] != b"ID3" {
        return if data.iter().all(|&b| b == 0) {
            Ok(None)
        } else {
            Err(bad!("ID3 chunk holds no ID3v2 tag"))
        };
    }
    let src_len = data.len();
    let mut h = [0u8; 10];
    h.copy_from_slice(&data[..10]);
    let tag = id3v2::header_len(&h)?.ok_or_else(|| bad!("ID3 chunk holds no ID3v2 tag"))? as usize;
    if tag > src_len {
        return Err(bad!(
            "ID3 tag of {tag} bytes runs past its {src_len}-byte chunk"
        ));
    }
    Ok(Some(tag))
}

pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout(src)?;
    let existing = lay.id3()?;
    let (new_tag, fits_at) = match existing {
        Some((off, len)) => {
            let data = src.read(off + 8, len, "ID3 chunk")?;
            match id3_len(&data)? {
                Some(tag_len) => {
                    let tag = id3v2::parse(&data[..tag_len])?;
                    let Some(need) = tag.min_len(edit)? else {
                        return Ok(None);
                    };
                    let fits = need as u64 <= len;
                    let pad_to = fits.then_some(len as usize);
                    let Some(new) = tag.edited(edit, pad_to)? else {
                        return Ok(None);
                    };
                    id3v2::cross_check(&data[..tag_len], &new, edit)?;
                    (new, fits.then_some(off + 8))
                }
                None if edit.set.is_empty() => return Ok(None),
                None => (id3v2::new_tag(edit, None)?, None),
            }
        }
        None if edit.set.is_empty() => return Ok(None),
        None => (id3v2::new_tag(edit, None)?, None),
    };
    if let Some(offset) = fits_at {
        return Ok(Some(Plan::InPlace {
            offset,
            bytes: new_tag,
        }));
    }
    rebuild(src, &lay, existing, new_tag).map(Some)
}

/// The whole file with the ID3 chunk replaced (or appended at the end of the root chunk).
fn rebuild(src: &Source, lay: &Layout, existing: Option<(u64, u64)>, tag: Vec<u8>) -> Result<Plan> {
    let mut chunk = Vec::with_capacity(tag.len() + 9);
    let id = match existing {
        Some((off, _)) => src.read(off, 4, "chunk id")?,
        None => lay.new_chunk_id().to_vec(),
    };
    chunk.extend_from_slice(&id);
    chunk.extend_from_slice(&lay.size_bytes(tag.len() as u64)?);
    chunk.extend_from_slice(&tag);
    if tag.len() % 2 == 1 {
        chunk.push(0);
    }
    let (cut_start, cut_end) = match existing {
        Some((off, len)) => (off, (off + 8 + len + (len & 1)).min(lay.root_end)),
        None => (lay.root_end, lay.root_end),
    };
    // A last chunk with an odd length and no pad byte needs one before our chunk follows it.
    let lead_pad = (cut_start - 12) % 2 == 1;
    let new_root =
        lay.root_end - 8 - (cut_end - cut_start) + chunk.len() as u64 + u64::from(lead_pad);
    let mut head = src.read(0, 12, "root header")?;
    head[4..8].copy_from_slice(&lay.size_bytes(new_root)?);
    if lead_pad {
        chunk.insert(0, 0);
    }
    Ok(Plan::Rewrite {
        parts: vec![
            Part::Bytes(head),
            Part::Copy {
                offset: 12,
                len: cut_start - 12,
            },
            Part::Bytes(chunk),
            Part::Copy {
                offset: cut_end,
                len: src.len() - cut_end,
            },
        ],
    })
}

pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let lay = layout(src)?;
    let mut out: Vec<Range<u64>> = Vec::new();
    for &(id, off, len) in &lay.chunks {
        if !id.eq_ignore_ascii_case(b"id3 ") {
            out.push(off..(off + 8 + len).min(lay.root_end));
        }
    }
    if lay.root_end < src.len() {
        out.push(lay.root_end..src.len());
    }
    Ok(out)
}

#[cfg(test)]
#[path = "riff_tests.rs"]
mod tests;
