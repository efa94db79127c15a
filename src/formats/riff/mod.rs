//! WAV (`RIFF`/`WAVE`, little-endian), RF64/BW64 (the same chunks, with the sizes that do not fit
//! 32 bits in a `ds64` chunk) and AIFF/AIFC (`FORM`, big-endian): the carrier is an ID3v2 tag
//! inside an `id3 `/`ID3 ` chunk. Every other chunk is payload. A chunk that is rewritten in its
//! own space keeps the file size; otherwise the file is rebuilt with the root size fixed.

use std::ops::Range;

mod carry;
mod plan;
mod rf64;

use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Part, Plan, Result, Source, id3v2, patch_parts,
    xmp,
};
use crate::bad;
pub use plan::plan;
use rf64::{Ds64, RF64_SIZE_AT, rf64_root};

/// The root chunk and where its children are.
struct Layout {
    big_endian: bool,
    /// File offset where the root chunk (and thus the chunk list) ends.
    root_end: u64,
    /// Every child chunk: id, offset of its header, data length.
    chunks: Vec<([u8; 4], u64, u64)>,
    /// Where the last whole chunk ends: a few stray bytes may follow inside the root chunk,
    /// and new chunks go before them so readers still find them.
    chunks_end: u64,
    /// Offsets of the `APPL` chunks whose signature is `XMP `.
    appl_signatures: Vec<u64>,
    /// An RF64/BW64 file: the root size is the 64-bit `riffSize` of the `ds64` chunk.
    rf64: bool,
}

/// The root chunk as `root` reads it.
struct Root {
    big_endian: bool,
    end: u64,
    /// RF64/BW64: the `ds64` chunk's data size and its table of other large chunks.
    ds64: Option<Ds64>,
}

/// Where an XMP chunk is: WAV `_PMX` (packet = chunk data), AIFF `APPL` with signature `XMP `
/// (packet after the 4-byte signature).
#[derive(Debug, Clone, Copy)]
pub(super) struct XmpChunk {
    pub offset: u64,
    pub len: u64,
    pub skip: u64,
}

impl XmpChunk {
    fn packet_offset(&self) -> u64 {
        self.offset + 8 + self.skip
    }
    fn packet_len(&self) -> u64 {
        self.len - self.skip
    }
}

impl Layout {
    /// The XMP chunk; two are an error (SPEC: one packet per file).
    pub(super) fn xmp(&self) -> Result<Option<XmpChunk>> {
        let mut found = None;
        for &(id, offset, len) in &self.chunks {
            let hit = if self.big_endian {
                &id == b"APPL" && len >= 4
            } else {
                &id == b"_PMX"
            };
            if !hit || (self.big_endian && !self.appl_is_xmp(offset)) {
                continue;
            }
            if found.is_some() {
                return Err(bad!(Unsupported, "two XMP chunks; not supported"));
            }
            found = Some(XmpChunk {
                offset,
                len,
                skip: if self.big_endian { 4 } else { 0 },
            });
        }
        Ok(found)
    }

    fn appl_is_xmp(&self, offset: u64) -> bool {
        self.appl_signatures.contains(&offset)
    }

    pub(super) fn xmp_place(&self) -> &'static str {
        if self.big_endian {
            "APPL chunk"
        } else {
            "_PMX chunk"
        }
    }

    pub(super) fn xmp_chunk_head(&self) -> (&'static [u8; 4], &'static [u8]) {
        if self.big_endian {
            (b"APPL", b"XMP ")
        } else {
            (b"_PMX", b"")
        }
    }

    fn id3(&self) -> Result<Option<(u64, u64)>> {
        let mut found = self
            .chunks
            .iter()
            .filter(|(id, ..)| id.eq_ignore_ascii_case(b"id3 "));
        let first = found.next().map(|&(_, off, len)| (off, len));
        if found.next().is_some() {
            return Err(bad!(Unsupported, "more than one ID3 chunk"));
        }
        Ok(first)
    }

    fn size_bytes(&self, n: u64) -> Result<[u8; 4]> {
        let n = u32::try_from(n)
            .map_err(|_| bad!(Unsupported, "file too large for a 32-bit RIFF/FORM size"))?;
        Ok(if self.big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        })
    }

    /// Where the root size `n` is written and its bytes: the 32-bit field after the form id, or
    /// for RF64 the 64-bit `riffSize` of the `ds64` chunk (the 32-bit field stays 0xFFFFFFFF).
    fn root_size(&self, n: u64) -> Result<(u64, Vec<u8>)> {
        if self.rf64 {
            Ok((RF64_SIZE_AT, n.to_le_bytes().to_vec()))
        } else {
            Ok((4, self.size_bytes(n)?.to_vec()))
        }
    }

    /// A rewrite's `parts`, the first of them the form's 12-byte head, with the root size set
    /// to `n`.
    fn sized(&self, mut parts: Vec<Part>, n: u64) -> Result<Vec<Part>> {
        let (at, bytes) = self.root_size(n)?;
        if let (4, Some(Part::Bytes(head))) = (at, parts.first_mut()) {
            head[4..8].copy_from_slice(&bytes);
            return Ok(parts);
        }
        patch_parts(parts, at, &bytes)
    }

    fn new_chunk_id(&self) -> &'static [u8; 4] {
        // `id3 ` is what ExifTool and most WAV readers look for; AIFF uses `ID3 `.
        if self.big_endian { b"ID3 " } else { b"id3 " }
    }
}

fn layout(src: &Source) -> Result<Layout> {
    let Root {
        big_endian,
        end: root_end,
        ds64,
    } = root(src)?;
    let kind = if big_endian { "AIFF" } else { "WAV" };
    let mut chunks = Vec::new();
    let mut appl_signatures = Vec::new();
    let mut pos = 12;
    while pos + 8 <= root_end {
        let h = src.read(pos, 8, "chunk header")?;
        let mut len = u32_at(big_endian, &h[4..8]);
        let id = [h[0], h[1], h[2], h[3]];
        if let Some(d) = &ds64
            && len == u64::from(u32::MAX)
        {
            len = d.size_of(&id)?;
        } else if is_sound(&id, big_endian) && len == u64::from(u32::MAX) {
            return Err(unfinalized(kind, "the audio chunk size"));
        }
        if pos + 8 + len > root_end {
            return Err(bad!(
                Truncated,
                "truncated: chunk {:?} runs past the end of the file",
                String::from_utf8_lossy(&id)
            ));
        }
        chunks.push((id, pos, len));
        if big_endian
            && &id == b"APPL"
            && len >= 4
            && src.read(pos + 8, 4, "APPL signature")? == b"XMP "
        {
            appl_signatures.push(pos);
        }
        // Chunks are padded to an even length; a missing pad byte at the very end is tolerated.
        pos = (pos + 8 + len + (len & 1)).min(root_end);
    }
    Ok(Layout {
        chunks_end: pos,
        big_endian,
        root_end,
        chunks,
        appl_signatures,
        rf64: ds64.is_some(),
    })
}

/// A 32-bit size field in the file's byte order.
fn u32_at(big_endian: bool, b: &[u8]) -> u64 {
    let a = [b[0], b[1], b[2], b[3]];
    u64::from(if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// The root chunk: its byte order (AIFF is big-endian) and where it ends, checked against the
/// file.
fn root(src: &Source) -> Result<Root> {
    let head = src.read(0, 12, "RIFF/FORM header")?;
    let big_endian = match (&head[..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => false,
        (b"RF64" | b"BW64", b"WAVE") => return rf64_root(src),
        (b"FORM", b"AIFF" | b"AIFC") => true,
        _ => return Err(bad!("not a WAV or AIFF file")),
    };
    let kind = if big_endian { "AIFF" } else { "WAV" };
    let root_size = u32_at(big_endian, &head[4..8]);
    if root_size == 0 || root_size == u64::from(u32::MAX) {
        return Err(unfinalized(kind, "the root chunk size"));
    }
    let root_end = 8 + root_size;
    if root_end < 12 {
        return Err(bad!(
            "corrupt: the root chunk claims {} bytes, less than its own header",
            root_end - 8
        ));
    }
    if root_end > src.len() {
        return Err(bad!(
            Truncated,
            "truncated: the root chunk claims {root_end} bytes, the file has {}",
            src.len()
        ));
    }
    Ok(Root {
        big_endian,
        end: root_end,
        ds64: None,
    })
}

/// The chunk that holds the samples: `data` (WAV) or `SSND` (AIFF).
fn is_sound(id: &[u8; 4], big_endian: bool) -> bool {
    id == if big_endian { b"SSND" } else { b"data" }
}

/// A file written by a recorder or a pipe that never went back to fill in its sizes. Players
/// (ffmpeg among them) then read audio up to the end of the file, so any chunk we added there would
/// be played as audio: such a file is refused, with the command that finalises it.
fn unfinalized(kind: &str, what: &str) -> crate::formats::FormatError {
    let ext = kind.to_ascii_lowercase();
    bad!(
        Unsupported,
        "unfinalized or streamed {kind}: {what} is unknown (0 or 0xFFFFFFFF), and players read audio \
         to the end of the file, so a tag cannot be added safely; `ffmpeg -i in.{ext} -c copy \
         out.{ext}` writes a finished header"
    )
}

impl Layout {
    /// Errors for an audio chunk of size 0 with bytes after it: players take all of them for
    /// audio (ffmpeg reads a 0-size `data` chunk to the end of the file).
    pub(super) fn check_finalized(&self, file_len: u64) -> Result<()> {
        let kind = if self.big_endian { "AIFF" } else { "WAV" };
        let open_ended = self.chunks.iter().any(|&(id, off, len)| {
            is_sound(&id, self.big_endian) && len == 0 && off + 8 < file_len
        });
        if open_ended {
            return Err(unfinalized(kind, "the audio chunk size"));
        }
        Ok(())
    }
}

/// The standard fields of the file's older tags (INFO, AIFF text chunks), as `tag` carries them.
pub fn legacy_fields(src: &Source) -> Result<Vec<super::carry::Field>> {
    carry::legacy(src, &layout(src)?)
}

/// The family: WAV and AIFF/AIFC.
pub struct Riff;

impl ContainerFormat for Riff {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(src)
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        plan(src, edit)
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        payload(src)
    }
    fn legacy_fields(&self, src: &Source) -> Result<Vec<super::carry::Field>> {
        legacy_fields(src)
    }
}

/// The XMP packet (SPEC §3.1) is listed first, the ID3 tag last (the primary carrier).
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let lay = layout(src)?;
    let mut out = Vec::new();
    if lay.chunks.iter().any(|(id, ..)| id == b"C2PA") {
        out.push(Carrier::c2pa("C2PA chunk"));
    }
    if let Some(x) = lay.xmp()? {
        let packet = src.read(x.packet_offset(), x.packet_len(), "XMP chunk")?;
        out.push(xmp::carrier(&packet, lay.xmp_place())?);
    }
    let Some((off, len)) = lay.id3()? else {
        return Ok(out);
    };
    let data = src.read(off + 8, len, "ID3 chunk")?;
    let Some(tag_len) = id3_len(&data)? else {
        return Ok(out);
    };
    let tag = id3v2::parse(&data[..tag_len])?;
    out.push(Carrier::new(
        CarrierKind::Id3v2 { major: tag.major },
        tag.fields()?,
    ));
    Ok(out)
}

/// The length of the ID3v2 tag at the start of chunk data, checked against the chunk.
pub(crate) fn id3_len(data: &[u8]) -> Result<Option<usize>> {
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
    // A rebuilt tag fills the whole chunk, so anything after the tag would be overwritten.
    if let Some(i) = data[tag..].iter().position(|&b| b != 0) {
        return Err(bad!(
            "unexplained bytes after the ID3v2 tag in its chunk, at byte {} of the chunk",
            tag + i
        ));
    }
    Ok(Some(tag))
}

/// Every chunk but the ID3 and XMP chunks (the ones an edit may change), plus any bytes after
/// the root chunk.
pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    let lay = layout(src)?;
    let xmp_at = lay.xmp()?.map(|x| x.offset);
    let mut out: Vec<Range<u64>> = Vec::new();
    for &(id, off, len) in &lay.chunks {
        if !id.eq_ignore_ascii_case(b"id3 ") && Some(off) != xmp_at {
            out.push(off..(off + 8 + len).min(lay.root_end));
        }
    }
    if lay.root_end < src.len() {
        out.push(lay.root_end..src.len());
    }
    // An RF64 root size lives in the ds64 chunk: that field is metadata, the rest is not.
    if lay.rf64
        && let Some(i) = out.iter().position(|r| r.start == 12)
    {
        let ds64 = out.remove(i);
        out.insert(i, RF64_SIZE_AT + 8..ds64.end);
        out.insert(i, 12..RF64_SIZE_AT);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
