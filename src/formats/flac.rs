//! Native FLAC: our own metadata block patcher. The carrier is the VORBIS_COMMENT block. With
//! padding, every edit is in place: a comment block next to the padding grows or shrinks into
//! it; one with a few small blocks between it and the padding grows where it is and those blocks
//! shift (their bytes unchanged); one with large blocks between (cover art) moves to the padding
//! and leaves a PADDING block of its old length behind, so the pictures are not written again.
//! `strip` undoes each of these exactly: a comment block that shrinks to the length of a PADDING
//! block before it moves back into it, and one `tag` created goes again when left empty. Every
//! other block (STREAMINFO, PICTURE, SEEKTABLE, APPLICATION, CUESHEET) keeps its bytes and
//! order. An ID3v2 tag before `fLaC` is kept as it is and read as a second carrier.

use std::ops::Range;

use super::vorbis::Comments;
use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Part, Plan, Region, Result, Source, filler, id3v2,
};
use crate::bad;

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
/// The vendor string of a comment block `tag` creates.
const VENDOR: &[u8] = b"noai";
/// A block length is 24 bits.
const MAX_BLOCK: usize = (1 << 24) - 1;
/// Blocks between a growing comment block and the padding up to this size (a SEEKTABLE, a small
/// APPLICATION block) shift; larger ones (pictures) stay and the comment block moves instead.
const SHIFT_MAX: u64 = 4096;

#[derive(Debug, Clone, Copy)]
struct Block {
    kind: u8,
    /// Offset of the 4-byte header.
    offset: u64,
    len: u64,
}

impl Block {
    fn end(&self) -> u64 {
        self.offset + 4 + self.len
    }
}

struct Layout {
    /// Bytes before `fLaC` (an ID3v2 tag), 0 when none.
    prefix: u64,
    blocks: Vec<Block>,
    audio_start: u64,
}

fn layout(src: &Source) -> Result<Layout> {
    let prefix = id3v2::region_len(src, 0)?.unwrap_or(0);
    if src.read(prefix, 4, "FLAC signature")? != b"fLaC" {
        return Err(bad!("not a FLAC stream (no fLaC signature)"));
    }
    let mut blocks = Vec::new();
    let mut pos = prefix + 4;
    loop {
        let h = src.read(pos, 4, "FLAC metadata block header")?;
        let block = Block {
            kind: h[0] & 0x7F,
            offset: pos,
            len: u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]])),
        };
        if blocks.is_empty() && block.kind != STREAMINFO {
            return Err(bad!(
                "corrupt FLAC: the first metadata block is not STREAMINFO"
            ));
        }
        if !blocks.is_empty() && block.kind == STREAMINFO {
            return Err(bad!("corrupt FLAC: a second STREAMINFO block"));
        }
        if block.kind == 127 {
            return Err(bad!("corrupt FLAC: invalid metadata block type 127"));
        }
        src.check(pos, 4 + block.len, "FLAC metadata block")?;
        blocks.push(block);
        pos = block.end();
        if h[0] & 0x80 != 0 {
            break;
        }
    }
    if pos < src.len() {
        let sync = src.read(pos, 2, "first FLAC frame")?;
        if sync[0] != 0xFF || sync[1] & 0xFE != 0xF8 {
            return Err(bad!(
                "corrupt FLAC: no frame sync after the metadata blocks"
            ));
        }
    }
    Ok(Layout {
        prefix,
        blocks,
        audio_start: pos,
    })
}

impl Layout {
    fn comment_block(&self) -> Result<Option<Block>> {
        let mut vc = self.blocks.iter().filter(|b| b.kind == VORBIS_COMMENT);
        let first = vc.next().copied();
        if vc.next().is_some() {
            return Err(bad!("corrupt FLAC: more than one VORBIS_COMMENT block"));
        }
        Ok(first)
    }
}

fn read_comments(src: &Source, b: &Block) -> Result<Comments> {
    let data = src.read(b.offset + 4, b.len, "VORBIS_COMMENT block")?;
    Ok(Comments::decode(&data)?.0)
}

/// The family: native FLAC (Ogg FLAC is the `ogg` family's, see `ogg/flac.rs`).
pub struct Flac;

impl ContainerFormat for Flac {
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

pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let lay = layout(src)?;
    let mut out = Vec::new();
    if lay.prefix > 0
        && let Some(tag) = id3v2::read(src, 0)?
    {
        // Read so a reservation there counts, but never written: FLAC's carrier is the comment.
        out.push(Carrier::new(CarrierKind::Id3v2 { major: tag.major }, tag.fields()?).read_only());
        // The C2PA SDK signs a FLAC file in a GEOB frame of an ID3v2 tag before `fLaC`.
        if tag.has_c2pa() {
            out.push(Carrier::c2pa("ID3 GEOB before fLaC"));
        }
    }
    if let Some(b) = lay.comment_block()? {
        out.push(Carrier::new(
            CarrierKind::VorbisComment,
            read_comments(src, &b)?.fields(),
        ));
    }
    Ok(out)
}

/// One block of the new metadata: its kind, and either new data or the original block's data.
enum NewBlock {
    Data(u8, Vec<u8>),
    Original(Block),
}

impl NewBlock {
    fn kind(&self) -> u8 {
        match self {
            NewBlock::Data(k, _) => *k,
            NewBlock::Original(b) => b.kind,
        }
    }
    fn len(&self) -> u64 {
        match self {
            NewBlock::Data(_, d) => d.len() as u64,
            NewBlock::Original(b) => b.len,
        }
    }
}

pub fn plan(src: &Source, edit: &Edit) -> Result<Option<Plan>> {
    let lay = layout(src)?;
    let vc = lay.comment_block()?;
    let mut comments = match &vc {
        Some(b) => read_comments(src, b)?,
        None if edit.set.is_empty() => return Ok(None),
        None => Comments {
            vendor: VENDOR.to_vec(),
            entries: Vec::new(),
        },
    };
    if !comments.apply(edit) && vc.is_some() {
        return Ok(None);
    }
    // A block `tag` created (our vendor string) left with no entry goes, so the file comes back
    // as it was before `tag`.
    let data =
        (comments.vendor != VENDOR || !comments.entries.is_empty()).then(|| comments.encode());
    if data.as_ref().is_some_and(|d| d.len() > MAX_BLOCK) {
        return Err(bad!(
            Unsupported,
            "the new VORBIS_COMMENT block would exceed FLAC's 16 MiB block limit"
        ));
    }
    let mut blocks: Vec<NewBlock> = Vec::with_capacity(lay.blocks.len() + 2);
    for b in &lay.blocks {
        if b.kind != VORBIS_COMMENT {
            blocks.push(NewBlock::Original(*b));
        }
        // The comment block stays where it is; a new one goes after STREAMINFO.
        let here = if vc.is_some() {
            b.kind == VORBIS_COMMENT
        } else {
            b.kind == STREAMINFO
        };
        if here && let Some(d) = &data {
            blocks.push(NewBlock::Data(VORBIS_COMMENT, d.clone()));
        }
    }
    arrange(&mut blocks, vc.map(|b| b.len));
    if let Some(p) = in_place(src, &lay, &mut blocks)? {
        return Ok(Some(p));
    }
    Ok(Some(rewrite(
        &lay,
        blocks,
        src.len(),
        edit.rewrite_padding(),
    )))
}

/// The changed blocks as in-place writes, one per run of adjacent changed blocks (the write
/// layer then writes only the bytes that really differ). A block changes when its bytes are new,
/// when it moved (the blocks between a resized comment block and the padding shift, their bytes
/// unchanged) or when it became or stopped being the last block.
fn span(src: &Source, lay: &Layout, blocks: &[NewBlock]) -> Result<Plan> {
    let n = blocks.len();
    let was_last = lay.blocks.last().map(|l| l.offset);
    let mut offsets = Vec::with_capacity(n);
    let mut at = lay.prefix + 4;
    for b in blocks {
        offsets.push(at);
        at += 4 + b.len();
    }
    let changed = |i: usize| match &blocks[i] {
        NewBlock::Data(..) => true,
        NewBlock::Original(o) => {
            offsets[i] != o.offset || (was_last == Some(o.offset)) != (i + 1 == n)
        }
    };
    // One region per run of changed blocks: unchanged blocks between (the pictures a moved
    // comment block leaves in place) are neither read nor written.
    let mut regions = Vec::new();
    let mut i = 0;
    while i < n {
        if !changed(i) {
            i += 1;
            continue;
        }
        let offset = offsets[i];
        let mut bytes = Vec::new();
        while i < n && changed(i) {
            push_block(&mut bytes, src, &blocks[i], i + 1 == n)?;
            i += 1;
        }
        regions.push(Region { offset, bytes });
    }
    if regions.is_empty() {
        return Err(bad!(
            Internal,
            "internal: a FLAC plan that changes no block"
        ));
    }
    Ok(Plan::Patch { regions })
}

/// Where the comment block goes (see the module comment): `old` is the length of the comment
/// block the file has, if any. Leaves `blocks` as they are when no move applies.
fn arrange(blocks: &mut Vec<NewBlock>, old: Option<u64>) {
    let Some(v) = blocks
        .iter()
        .position(|b| matches!(b, NewBlock::Data(VORBIS_COMMENT, _)))
    else {
        return;
    };
    match old {
        Some(old) if blocks[v].len() < old => move_back(blocks, v, old),
        Some(old) if blocks[v].len() == old => {}
        _ => relocate(blocks, v, old),
    }
}

/// A growing (or new) comment block with large blocks before the padding moves to the padding;
/// an existing one leaves a PADDING block of its old length in its place.
fn relocate(blocks: &mut Vec<NewBlock>, v: usize, old: Option<u64>) {
    let Some(pad) = (v + 1..blocks.len()).find(|&i| blocks[i].kind() == PADDING) else {
        return;
    };
    let between: u64 = blocks[v + 1..pad].iter().map(|b| 4 + b.len()).sum();
    let (new, room) = (blocks[v].len(), blocks[pad].len());
    // The rest of the padding stays a PADDING block, which needs its 4-byte header.
    if between <= SHIFT_MAX || new + 4 > room {
        return;
    }
    let (vc, pad) = match old {
        Some(old) => {
            let slot = NewBlock::Data(PADDING, vec![0; old as usize]);
            (std::mem::replace(&mut blocks[v], slot), pad)
        }
        None => (blocks.remove(v), pad - 1),
    };
    blocks[pad] = NewBlock::Data(PADDING, vec![0; (room - new - 4) as usize]);
    blocks.insert(pad, vc);
}

/// A shrinking comment block moves back into a PADDING block before it of exactly its new
/// length (where `relocate` left it), when padding follows it: its old room joins that padding.
fn move_back(blocks: &mut Vec<NewBlock>, v: usize, old: u64) {
    let new = blocks[v].len();
    let slot = (0..v).find(
        |&i| matches!(&blocks[i], NewBlock::Original(b) if b.kind == PADDING && b.len == new),
    );
    let (Some(slot), Some(NewBlock::Original(after))) = (slot, blocks.get(v + 1)) else {
        return;
    };
    let merged = old + 4 + after.len;
    if after.kind != PADDING || merged as usize > MAX_BLOCK {
        return;
    }
    let vc = blocks.remove(v);
    blocks[v] = NewBlock::Data(PADDING, vec![0; merged as usize]);
    blocks[slot] = vc;
}

/// Resizes one PADDING block so the metadata keeps its length; then the changed blocks are
/// positioned writes. `None` when no padding block can absorb the difference.
fn in_place(src: &Source, lay: &Layout, blocks: &mut [NewBlock]) -> Result<Option<Plan>> {
    let old_total: u64 = lay.blocks.iter().map(|b| 4 + b.len).sum();
    let new_total: u64 = blocks.iter().map(|b| 4 + b.len()).sum();
    // The padding after the comment block (not a slot a moved comment block left before the
    // pictures, which would shift them all), else the first one.
    let after = blocks.iter().position(|b| b.kind() == VORBIS_COMMENT);
    let after = after.and_then(|v| (v + 1..blocks.len()).find(|&i| blocks[i].kind() == PADDING));
    let Some(pad) = after.or_else(|| blocks.iter().position(|b| b.kind() == PADDING)) else {
        return Ok(None);
    };
    let Some(pad_len) = filler(new_total - blocks[pad].len(), old_total, 0) else {
        return Ok(None);
    };
    if pad_len as usize > MAX_BLOCK {
        return Ok(None);
    }
    blocks[pad] = NewBlock::Data(PADDING, vec![0; pad_len as usize]);
    span(src, lay, blocks).map(Some)
}

fn header(kind: u8, len: u64, last: bool) -> [u8; 4] {
    let l = (len as u32).to_be_bytes();
    [kind | if last { 0x80 } else { 0 }, l[1], l[2], l[3]]
}

fn push_block(out: &mut Vec<u8>, src: &Source, b: &NewBlock, last: bool) -> Result<()> {
    out.extend_from_slice(&header(b.kind(), b.len(), last));
    match b {
        NewBlock::Data(_, d) => out.extend_from_slice(d),
        NewBlock::Original(o) => {
            out.extend_from_slice(&src.read(o.offset + 4, o.len, "FLAC block")?)
        }
    }
    Ok(())
}

/// The whole file rebuilt: old PADDING blocks dropped, one fresh PADDING block last, so the
/// next edit fits in place. Original blocks are copied, not held in memory.
fn rewrite(lay: &Layout, blocks: Vec<NewBlock>, file_len: u64, pad: usize) -> Plan {
    let mut blocks: Vec<NewBlock> = blocks.into_iter().filter(|b| b.kind() != PADDING).collect();
    blocks.push(NewBlock::Data(PADDING, vec![0; pad]));
    let mut parts = vec![Part::Copy {
        offset: 0,
        len: lay.prefix + 4,
    }];
    let n = blocks.len();
    for (i, b) in blocks.into_iter().enumerate() {
        let h = header(b.kind(), b.len(), i + 1 == n).to_vec();
        match b {
            NewBlock::Data(_, d) => parts.push(Part::Bytes([h, d].concat())),
            NewBlock::Original(o) => {
                parts.push(Part::Bytes(h));
                parts.push(Part::Copy {
                    offset: o.offset + 4,
                    len: o.len,
                });
            }
        }
    }
    parts.push(Part::Copy {
        offset: lay.audio_start,
        len: file_len - lay.audio_start,
    });
    Plan::Rewrite { parts }
}

pub fn payload(src: &Source) -> Result<Vec<Range<u64>>> {
    Ok(vec![Range {
        start: layout(src)?.audio_start,
        end: src.len(),
    }])
}

#[cfg(test)]
#[path = "flac_tests.rs"]
mod tests;
