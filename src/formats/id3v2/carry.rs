//! The ID3v2 side of carrying older tags (`formats::carry`): a new tag that holds the carried
//! standard frames before ours, and the test `strip` uses to remove such a tag whole — every
//! frame is ours (a reservation `TXXX`, an XMP packet with nothing else in it) or, all together,
//! exactly the frames the old tags map to today. Anything else (a title edited since, a frame
//! another tool added) keeps the tag, and `strip` then removes only our frames.

use super::frame::{Style, encode_user_text, encode_xmp, frame};
use super::{Sizes, Tag, assemble};
use crate::formats::carry::Field;
use crate::formats::{Edit, Result, xmp};

/// A new tag is ID3v2.3 (SPEC §3): plain frame sizes, no unsynchronisation.
const V23: Style = Style {
    major: 3,
    unsync: false,
    sizes: Sizes::Plain,
};

/// The carried fields as ID3v2.3 frames: Latin-1 when every character fits, else UTF-16 with
/// BOM; `COMM` with language `eng` and an empty description (what TagLib calls `COMMENT`).
pub fn encode(fields: &[Field]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let mut body = Vec::new();
        let latin = f.text.chars().all(|c| u32::from(c) < 256);
        body.push(if latin { 0 } else { 1 });
        if &f.id == b"COMM" {
            body.extend_from_slice(b"eng");
            body.extend_from_slice(if latin { &[0][..] } else { &[0xFF, 0xFE, 0, 0] });
        }
        if latin {
            body.extend(f.text.chars().map(|c| c as u8));
        } else {
            body.extend_from_slice(&[0xFF, 0xFE]);
            body.extend(f.text.encode_utf16().flat_map(u16::to_le_bytes));
        }
        out.extend(frame(V23, &f.id, body));
    }
    out
}

/// A new ID3v2.3 tag: the carried frames, then our `TXXX` frames, then (with `xmp`) the XMP
/// packet; padded as any rewritten tag.
pub fn new_tag_carrying(edit: &Edit, xmp_too: bool, carried: &[Field]) -> Result<Vec<u8>> {
    new_tag_padded(edit, xmp_too, carried, None)
}

/// As `new_tag_carrying`, padded to `pad_to` total bytes (`None`: the rewrite padding).
pub(crate) fn new_tag_padded(
    edit: &Edit,
    xmp_too: bool,
    carried: &[Field],
    pad_to: Option<usize>,
) -> Result<Vec<u8>> {
    let mut body = encode(carried);
    for (k, v) in &edit.set {
        body.extend_from_slice(&encode_user_text(V23, k, v));
    }
    if xmp_too && !edit.set.is_empty() {
        let packet = xmp::compact(&xmp::merge(None, &edit.set)?);
        body.extend_from_slice(&encode_xmp(V23, &packet));
    }
    let pad_to = pad_to.unwrap_or(10 + body.len() + edit.rewrite_padding());
    assemble(3, 0, &body, Some(pad_to))
}

impl Tag {
    /// True when `strip` (an edit that sets nothing) may remove this whole tag: every frame is
    /// one the edit removes or an XMP packet holding nothing but ours, and the other frames,
    /// taken together, are none at all or exactly `encode(carried)`.
    pub fn only_ours_and(&self, edit: &Edit, carried: &[Field]) -> Result<bool> {
        if !edit.set.is_empty() {
            return Ok(false);
        }
        let mut others = Vec::new();
        for span in &self.spans {
            if self.is_user_text(span) && edit.removes(&self.user_text(span)?.key) {
                continue;
            }
            if self.is_xmp(span) && only_ours(&self.frame_data(span)?[4..])? {
                continue;
            }
            others.extend_from_slice(&self.frames[span.clone()]);
        }
        Ok(others.is_empty() || others == encode(carried))
    }
}

/// True when an XMP packet holds no property but the reservation's: with them removed it is
/// the same as an empty packet of ours, up to whitespace (the removal leaves indentation; any
/// foreign property or attribute adds more than whitespace).
pub fn only_ours(packet: &[u8]) -> Result<bool> {
    let bare = |p: &[u8]| -> Result<Vec<u8>> {
        let mut b = xmp::merge(Some(p), &[])?;
        b.retain(|c| !c.is_ascii_whitespace());
        Ok(b)
    };
    Ok(bare(packet)? == bare(&xmp::merge(None, &[])?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_packet_is_only_ours_and_a_foreign_one_is_not() {
        let set = vec![("TDM-RESERVATION".to_string(), "1".to_string())];
        let ours = xmp::merge(None, &set).unwrap();
        assert!(only_ours(&ours).unwrap());
        assert!(only_ours(&xmp::compact(&ours)).unwrap());
        let text = String::from_utf8(ours).unwrap();
        let foreign = text.replace(
            "</rdf:Description>",
            "<dc:title xmlns:dc=\"http://purl.org/dc/elements/1.1/\">x</dc:title></rdf:Description>",
        );
        assert_ne!(foreign, text);
        assert!(!only_ours(foreign.as_bytes()).unwrap());
    }
}
