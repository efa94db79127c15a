//! ID3v2 tags (MP3 head, WAV/AIFF chunk, FLAC prefix): locate the tag, walk its frames, read
//! `TXXX`/`TXX` user text frames, and splice ours in while every other frame keeps its exact
//! bytes. We splice raw frames instead of re-encoding the tag (id3 and lofty both re-encode, and
//! lose frames flagged "tag alter preservation", per-frame unsync or compression on the way);
//! the id3 crate then re-reads both tags as an independent check.

pub mod carry;
mod check;
mod frame;
mod walk;

use super::{Edit, RawField, Result, Source, xmp};
use crate::bad;
pub use check::{cross_check, precheck};
use frame::{Style, decode_user_text, encode_user_text, encode_xmp, frame_body};
use walk::Sizes;

const FLAG_UNSYNC: u8 = 0x80;
const FLAG_EXTENDED: u8 = 0x40;
const FLAG_FOOTER: u8 = 0x10;
/// v2.4 frame flags: compression, encryption, unsynchronisation, data length indicator.
pub(crate) const F24_COMPRESSED: u16 = 0x0008;
pub(crate) const F24_ENCRYPTED: u16 = 0x0004;
pub(crate) const F24_UNSYNC: u16 = 0x0002;
pub(crate) const F24_DLI: u16 = 0x0001;
pub(crate) const F24_GROUP: u16 = 0x0040;
/// v2.3 frame flags: compression, encryption, grouping.
pub(crate) const F23_COMPRESSED: u16 = 0x0080;
pub(crate) const F23_ENCRYPTED: u16 = 0x0040;
pub(crate) const F23_GROUP: u16 = 0x0020;

/// A parsed tag: its version, flags, where it sits, and its frames as raw bytes.
#[derive(Debug, Clone)]
pub struct Tag {
    pub major: u8,
    flags: u8,
    /// Bytes the tag occupies in the file: header, body (incl. padding), footer.
    pub region_len: u64,
    /// The frames area with tag-level unsynchronisation (v2.2/2.3) undone.
    frames: Vec<u8>,
    /// Each frame: byte range in `frames`.
    spans: Vec<std::ops::Range<usize>>,
    /// How the frame sizes are written; frames we add follow the same convention, so a reader
    /// that reads the tag one way sees all of them.
    sizes: Sizes,
}

/// Reads the 10-byte header at `offset` and returns the tag's total length, or `None` when no
/// `ID3` header is there.
pub fn region_len(src: &Source, offset: u64) -> Result<Option<u64>> {
    if src.len() < offset + 10 {
        return Ok(None);
    }
    let h = src.read(offset, 10, "ID3v2 header")?;
    header_len(&h)
}

/// The total length a 10-byte ID3v2 header declares (header, body, footer); `None` if `h` is
/// not an ID3v2 header.
pub fn header_len(h: &[u8]) -> Result<Option<u64>> {
    if !h.starts_with(b"ID3") {
        return Ok(None);
    }
    if h.len() < 10 {
        return Err(bad!(Truncated, "truncated ID3v2 header"));
    }
    if !(2..=4).contains(&h[3]) || h[4] == 0xFF {
        return Err(bad!(
            Unsupported,
            "unsupported ID3v2 version 2.{}.{}",
            h[3],
            h[4]
        ));
    }
    if h[6..10].iter().any(|b| b & 0x80 != 0) {
        return Err(bad!("corrupt ID3v2 header: size is not syncsafe"));
    }
    let footer = if h[3] == 4 && h[5] & FLAG_FOOTER != 0 {
        10
    } else {
        0
    };
    Ok(Some(10 + u64::from(syncsafe(&h[6..10])) + footer))
}

fn syncsafe(b: &[u8]) -> u32 {
    b.iter()
        .fold(0u32, |acc, &x| (acc << 7) | u32::from(x & 0x7F))
}

pub(crate) fn to_syncsafe(n: u32) -> [u8; 4] {
    [
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]
}

/// Reads and parses the tag at `offset`. `None` when there is none.
pub fn read(src: &Source, offset: u64) -> Result<Option<Tag>> {
    let Some(len) = region_len(src, offset)? else {
        return Ok(None);
    };
    let bytes = src.read(offset, len, "ID3v2 tag")?;
    parse(&bytes).map(Some)
}

/// Parses a whole tag (header included). Every byte must be explained (see `walk`).
pub fn parse(bytes: &[u8]) -> Result<Tag> {
    let region_len = header_len(bytes)?.ok_or_else(|| bad!("no ID3v2 header"))?;
    if region_len as usize != bytes.len() {
        return Err(bad!("ID3v2 tag length mismatch"));
    }
    let walk::Layout {
        frames,
        spans,
        sizes,
    } = walk::layout(bytes)?;
    Ok(Tag {
        major: bytes[3],
        flags: bytes[5],
        region_len,
        frames,
        spans,
        sizes,
    })
}

impl Tag {
    fn head_len(&self) -> usize {
        if self.major == 2 { 6 } else { 10 }
    }

    fn is_user_text(&self, span: &std::ops::Range<usize>) -> bool {
        let id = &self.frames[span.start..span.start + if self.major == 2 { 3 } else { 4 }];
        id == b"TXXX" || id == b"TXX"
    }

    /// The user text frame at `span` as a field; an error for one we cannot read safely.
    fn user_text(&self, span: &std::ops::Range<usize>) -> Result<RawField> {
        decode_user_text(&self.frame_data(span)?)
    }

    fn is_xmp(&self, span: &std::ops::Range<usize>) -> bool {
        let id = &self.frames[span.start..span.start + if self.major == 2 { 3 } else { 4 }];
        (id == b"PRIV" || id == b"PRV")
            && self.frame_data(span).is_ok_and(|b| b.starts_with(b"XMP\0"))
    }

    /// A frame's body with per-frame transformations undone.
    fn frame_data(&self, span: &std::ops::Range<usize>) -> Result<Vec<u8>> {
        let body = self.frames[span.start + self.head_len()..span.end].to_vec();
        if self.major < 3 {
            return Ok(body);
        }
        let flags = u16::from_be_bytes([self.frames[span.start + 8], self.frames[span.start + 9]]);
        frame_body(self.major, flags, body)
    }

    /// True when a `GEOB` frame holds a C2PA manifest store (C2PA 2.1, appendix A).
    pub fn has_c2pa(&self) -> bool {
        let geob = |s: &&std::ops::Range<usize>| {
            let id = &self.frames[s.start..s.start + if self.major == 2 { 3 } else { 4 }];
            id == b"GEOB" || id == b"GEO"
        };
        self.spans.iter().filter(geob).any(|s| {
            self.frame_data(s).is_ok_and(|b| {
                // The MIME type is NUL-terminated: `application/c2pa` (C2PA 2.x) or the older
                // `application/x-c2pa-manifest-store` (the SDK reads both).
                b.get(1..).is_some_and(|m| {
                    m.starts_with(b"application/c2pa\0")
                        || m.starts_with(b"application/x-c2pa-manifest-store")
                })
            })
        })
    }

    /// The XMP packet of the `PRIV` frame with owner `XMP`, if any; two are an error (SPEC:
    /// one packet per file).
    pub fn xmp(&self) -> Result<Option<Vec<u8>>> {
        let mut packets = self.spans.iter().filter(|s| self.is_xmp(s));
        let Some(first) = packets.next() else {
            return Ok(None);
        };
        if packets.next().is_some() {
            return Err(bad!(
                Unsupported,
                "two XMP packets (ID3 PRIV frames); not supported"
            ));
        }
        Ok(Some(self.frame_data(first)?[4..].to_vec()))
    }

    /// Every `TXXX` frame as a field.
    pub fn fields(&self) -> Result<Vec<RawField>> {
        self.spans
            .iter()
            .filter(|s| self.is_user_text(s))
            .map(|s| self.user_text(s))
            .collect()
    }

    /// The tag with `edit` applied, as bytes: unchanged frames byte-identical, then ours. `None`
    /// when nothing changes. `padding` bytes of zeros follow the frames.
    pub fn edited(&self, edit: &Edit, pad_to: Option<usize>) -> Result<Option<Vec<u8>>> {
        self.edited_xmp(edit, pad_to, false)
    }

    /// As `edited`, and with `xmp` the `PRIV` XMP packet too: merged in place of the old
    /// frame, or a new frame appended when setting fields (SPEC §3.1).
    pub fn edited_xmp(
        &self,
        edit: &Edit,
        pad_to: Option<usize>,
        xmp: bool,
    ) -> Result<Option<Vec<u8>>> {
        let mut body = Vec::with_capacity(self.frames.len() + 256);
        let mut changed = false;
        let v24_unsync = self.major == 4 && self.flags & FLAG_UNSYNC != 0;
        let style = Style {
            major: self.major,
            unsync: v24_unsync,
            sizes: self.sizes,
        };
        // ID3v2.2 has no PRIV frame (the XMP spec covers v2.3 and v2.4 only).
        let xmp = xmp && self.major > 2;
        let mut xmp_done = !xmp;
        for span in &self.spans {
            if self.is_user_text(span) && edit.removes(&self.user_text(span)?.key) {
                changed = true;
                continue;
            }
            if xmp && self.is_xmp(span) {
                if xmp_done {
                    return Err(bad!(
                        Unsupported,
                        "two XMP packets (ID3 PRIV frames); not supported"
                    ));
                }
                xmp_done = true;
                if let Some(frame) = self.edited_xmp_frame(span, edit, style)? {
                    body.extend_from_slice(&frame);
                    changed = true;
                    continue;
                }
            }
            body.extend_from_slice(&self.frames[span.clone()]);
        }
        changed |= self.append_ours(&mut body, edit, style, !xmp_done)?;
        // Removing our frames and appending the same ones again is no change at all.
        if !changed || body == self.frames {
            return Ok(None);
        }
        // Keep only the flags that still describe the tag: no footer, and for v2.2/2.3 no
        // tag-level unsynchronisation (the frames were decoded above). The extended header is
        // dropped on purpose: its CRC (v2.3/2.4) and padding size (v2.3) describe the old
        // frames and would be stale, and its other fields (v2.4 update flag, restrictions) are
        // advisory; every frame is kept.
        let flags = if v24_unsync { FLAG_UNSYNC } else { 0 };
        let pad_to = pad_to.unwrap_or(10 + body.len() + edit.rewrite_padding());
        Ok(Some(assemble(self.major, flags, &body, Some(pad_to))?))
    }
}

impl Tag {
    /// The XMP frame at `span` after `edit`: `None` when it stays as it is, else its new bytes
    /// (empty when the frame goes: a packet that held nothing but ours goes with it, so `strip`
    /// is an exact undo). The tag has padding of its own, so the packet needs none.
    fn edited_xmp_frame(
        &self,
        span: &std::ops::Range<usize>,
        edit: &Edit,
        style: Style,
    ) -> Result<Option<Vec<u8>>> {
        let old = self.frame_data(span)?;
        let Some(merged) = xmp::merged(Some(&old[4..]), &edit.set)? else {
            return Ok(None);
        };
        if merged.is_emptied(&edit.set)? {
            return Ok(Some(Vec::new()));
        }
        Ok(merged
            .changed
            .then(|| encode_xmp(style, &xmp::compact(&merged.packet))))
    }

    /// Appends our `TXXX` frames and, with `new_xmp`, a first XMP frame; true when it added any.
    fn append_ours(
        &self,
        body: &mut Vec<u8>,
        edit: &Edit,
        style: Style,
        new_xmp: bool,
    ) -> Result<bool> {
        let mut texts = Vec::new();
        for (k, v) in &edit.set {
            texts.extend_from_slice(&encode_user_text(style, k, v));
        }
        // With plain sizes the (large) XMP frame goes before our short TXXX frames: TagLib
        // tries the plain reading of a v2.4 size only when a valid frame id follows it.
        if self.sizes != Sizes::Plain {
            body.append(&mut texts);
        }
        if new_xmp && !edit.set.is_empty() {
            let packet = xmp::compact(&xmp::merge(None, &edit.set)?);
            body.extend_from_slice(&encode_xmp(style, &packet));
        }
        body.append(&mut texts);
        Ok(!edit.set.is_empty())
    }
}

/// Builds a complete tag from a frames area; pads with zeros up to `pad_to` total bytes, or
/// with `REWRITE_PADDING` when `None`.
fn assemble(major: u8, flags: u8, body: &[u8], pad_to: Option<usize>) -> Result<Vec<u8>> {
    let total = match pad_to {
        Some(n) if n < 10 + body.len() => return Err(bad!(Internal, "tag does not fit")),
        Some(n) => n,
        None => 10 + body.len() + super::REWRITE_PADDING,
    };
    let size = u32::try_from(total - 10)
        .ok()
        .filter(|&s| s < 1 << 28)
        .ok_or_else(|| bad!(Unsupported, "ID3v2 tag too large"))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[b'I', b'D', b'3', major, 0, flags]);
    out.extend_from_slice(&to_syncsafe(size));
    out.extend_from_slice(body);
    out.resize(total, 0);
    Ok(out)
}

/// A new tag holding only our frames, padded to `pad_to` bytes: for the unit tests (the tool
/// creates tags with `carry::new_tag_carrying`, which also carries the older tags' fields).
#[cfg(test)]
pub(crate) fn new_tag(edit: &Edit, pad_to: Option<usize>) -> Result<Vec<u8>> {
    carry::new_tag_padded(edit, false, &[], pad_to)
}

impl Tag {
    /// The fewest bytes the tag needs after `edit` (no padding); `None` when nothing changes.
    pub fn min_len(&self, edit: &Edit) -> Result<Option<usize>> {
        self.min_len_xmp(edit, false)
    }

    /// As `min_len`, with the XMP packet edited too.
    pub fn min_len_xmp(&self, edit: &Edit, xmp: bool) -> Result<Option<usize>> {
        Ok(self
            .edited_xmp(edit, None, xmp)?
            .map(|b| b.len() - edit.rewrite_padding()))
    }
}

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod tests;
