//! An edit of the ECD as a plan. The header is rendered again with the new ECD (created before
//! the first Padding Object when there was none) and the padding resized so the header keeps
//! its length: then only the changed bytes are written in place and the Data Object does not
//! move. Without room, the header is rewritten with fresh padding, the rest of the file copied,
//! and the File Properties' file size moved by the same amount.

use std::ops::Range;

use super::super::{Part, Plan, Result, Source, filler};
use super::{ECD, FILE_PROPERTIES, HEADER_FIXED, Header, OBJECT_HEAD, PADDING, attrs};
use crate::bad;
use crate::model::{Edit, Layout};

/// The File Properties' file size: after the object head and the 16-byte file id.
const FILE_SIZE_AT: usize = OBJECT_HEAD as usize + 16;

/// The plan, and the original's payload (everything after the header).
pub fn plan(src: &Source, edit: &Edit) -> Result<Option<(Plan, Vec<Range<u64>>)>> {
    let h = Header::read(src)?;
    let payload = std::iter::once(h.len..src.len()).collect();
    let mut descs = h.descriptors()?;
    if !attrs::apply(&mut descs, edit)? {
        return Ok(None);
    }
    // An ECD emptied by `strip` goes whole (it held only ours), as before `tag` created it.
    let drop = descs.is_empty() && edit.set.is_empty() && edit.layout == Layout::Restore;
    let ecd = match drop {
        true => Vec::new(),
        false => attrs::encode_ecd(&descs)?,
    };
    let old = |g| h.find(g).first().map_or(0, |o| o.len);
    let room = old(ECD) + old(PADDING);
    if let Some(spare) = filler(ecd.len() as u64, room, OBJECT_HEAD) {
        let new = render(&h, &ecd, spare, 0)?;
        return Ok(Some((in_place(&h, &new)?, payload)));
    }
    let pad = OBJECT_HEAD + edit.rewrite_padding() as u64;
    let grown = HEADER_FIXED + others(&h) + ecd.len() as u64 + pad;
    let delta = grown as i128 - h.len as i128;
    let new = render(&h, &ecd, pad, delta)?;
    let parts = vec![
        Part::Bytes(new),
        Part::Copy {
            offset: h.len,
            len: src.len() - h.len,
        },
    ];
    Ok(Some((Plan::Rewrite { parts }, payload)))
}

/// The bytes of every sub-object but the ECD and the first Padding Object.
fn others(h: &Header) -> u64 {
    let first_pad = h.objects.iter().position(|o| o.guid == PADDING);
    let skipped = |i: usize, g| g == ECD || Some(i) == first_pad;
    h.objects
        .iter()
        .enumerate()
        .filter(|(i, o)| !skipped(*i, o.guid))
        .map(|(_, o)| o.len)
        .sum()
}

/// The header with `ecd` (an empty slice: none) and a Padding Object of `pad` bytes in all
/// (0: none) in place of the old ones, and the file size moved by `delta`.
fn render(h: &Header, ecd: &[u8], pad: u64, delta: i128) -> Result<Vec<u8>> {
    let padding = |out: &mut Vec<u8>| {
        if pad > 0 {
            out.extend(PADDING);
            out.extend(pad.to_le_bytes());
            out.resize(out.len() + (pad - OBJECT_HEAD) as usize, 0);
        }
    };
    let mut body = Vec::with_capacity(h.bytes.len() + ecd.len() + pad as usize);
    // The new ECD takes the old one's place (the scan allows one at most); without one, the
    // first Padding Object's, else it goes at the end. Written once, whatever comes first.
    let had_ecd = h.objects.iter().any(|o| o.guid == ECD);
    let (mut ecd_done, mut pad_done) = (false, false);
    for o in &h.objects {
        let bytes = &h.bytes[o.at as usize..o.end() as usize];
        if o.guid == ECD {
            body.extend(ecd);
            ecd_done = true;
        } else if o.guid == PADDING && !pad_done {
            if !ecd_done && !had_ecd {
                body.extend(ecd);
                ecd_done = true;
            }
            padding(&mut body);
            pad_done = true;
        } else if o.guid == FILE_PROPERTIES && delta != 0 {
            body.extend(file_properties(bytes, delta));
        } else {
            body.extend(bytes);
        }
    }
    if !ecd_done {
        body.extend(ecd);
    }
    if !pad_done {
        padding(&mut body);
    }
    let count = super::walk(&body, 0, "new header")?.len() as u32;
    let mut out = Vec::with_capacity(body.len() + HEADER_FIXED as usize);
    out.extend(super::HEADER);
    out.extend((body.len() as u64 + HEADER_FIXED).to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(&h.bytes[28..30]);
    out.extend(body);
    Ok(out)
}

/// File Properties with its file size moved by `delta` (left alone if it has none or the sum
/// does not fit: a size we cannot read is not ours to invent).
fn file_properties(bytes: &[u8], delta: i128) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(b) = out.get_mut(FILE_SIZE_AT..FILE_SIZE_AT + 8) {
        let old = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        // 0: no size given (a broadcast stream's header); it stays 0, as it was.
        if old == 0 {
            return out;
        }
        if let Ok(new) = u64::try_from(i128::from(old) + delta) {
            b.copy_from_slice(&new.to_le_bytes());
        }
    }
    out
}

/// The positioned write that turns the old header into `new` (same length): the changed span.
fn in_place(h: &Header, new: &[u8]) -> Result<Plan> {
    if new.len() != h.bytes.len() {
        return Err(bad!(
            Internal,
            "internal: the ASF header would change length in place ({} -> {})",
            h.bytes.len(),
            new.len()
        ));
    }
    let diff = |(a, b): (&u8, &u8)| a != b;
    let pairs = || h.bytes.iter().zip(new);
    let first = pairs().position(diff).unwrap_or(0);
    let last = pairs().rposition(diff).map_or(first, |i| i + 1);
    Ok(Plan::at(first as u64, new[first..last].to_vec()))
}
