//! Native FLAC: our own metadata block patcher. The carrier is the VORBIS_COMMENT block; the
//! room for a bigger one comes out of PADDING, so the audio never moves when padding suffices.
//! Every other block (STREAMINFO, PICTURE, SEEKTABLE, APPLICATION, CUESHEET) keeps its bytes and
//! order. An ID3v2 tag before `fLaC` is kept as it is and read as a second carrier.

use std::ops::Range;

use super::vorbis::Comments;
use super::{
    Carrier, CarrierKind, ContainerFormat, Edit, Part, Plan, Result, Source, filler, id3v2,
};
use crate::bad;

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
/// A block length is 24 bits.
const MAX_BLOCK: usize = (1 << 24) - 1;

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

/// The family: native FLAC (an Ogg FLAC stream is not supported).
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
            vendor: b"noai".to_vec(),
            entries: Vec::new(),
        },
    };
    if !comments.apply(edit) && vc.is_some() {
        return Ok(None);
    }
    let data = comments.encode();
    if data.len() > MAX_BLOCK {
        return Err(bad!(
            "the new VORBIS_COMMENT block would exceed FLAC's 16 MiB block limit"
        ));
    }
    let mut blocks: Vec<NewBlock> = Vec::with_capacity(lay.blocks.len() + 2);
    for b in &lay.blocks {
        if b.kind == VORBIS_COMMENT {
            blocks.push(NewBlock::Data(VORBIS_COMMENT, data.clone()));
        } else {
            blocks.push(NewBlock::Original(*b));
            if b.kind == STREAMINFO && vc.is_none() {
                blocks.push(NewBlock::Data(VORBIS_COMMENT, data.clone()));
            }
        }
    }
    if let Some(p) = relocate(src, &lay, &blocks, vc.is_some())? {
        return Ok(Some(p));
    }
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

/// When other blocks (a cover picture, say) sit between the comments and the PADDING, moving
/// them would rewrite them all; instead the new comment block goes into the PADDING and the old
/// one becomes PADDING of the same size. Only the comment bytes and two block headers change.
/// `None` when the comments are already next to the padding or the padding is too small.
fn relocate(src: &Source, lay: &Layout, blocks: &[NewBlock], had_vc: bool) -> Result<Option<Plan>> {
    let Some(v) = blocks.iter().position(|b| b.kind() == VORBIS_COMMENT) else {
        return Ok(None);
    };
    let Some(pad) = (v + 1..blocks.len()).find(|&i| blocks[i].kind() == PADDING) else {
        return Ok(None);
    };
    let (NewBlock::Data(_, vc), NewBlock::Original(p)) = (&blocks[v], &blocks[pad]) else {
        return Ok(None);
    };
    let (new, room) = (vc.len() as u64, p.len);
    // The rest of the padding stays a PADDING block, which needs its 4-byte header.
    if pad == v + 1 || filler(new, room, 4).is_none() {
        return Ok(None);
    }
    let mut moved: Vec<NewBlock> = Vec::with_capacity(blocks.len() + 1);
    for (i, b) in blocks.iter().enumerate() {
        match b {
            _ if i == v && had_vc => {
                let old_len = lay
                    .blocks
                    .iter()
                    .find(|b| b.kind == VORBIS_COMMENT)
                    .map_or(0, |b| b.len);
                moved.push(NewBlock::Data(PADDING, vec![0; old_len as usize]));
            }
            _ if i == v => {}
            _ if i == pad => {
                moved.push(NewBlock::Data(VORBIS_COMMENT, vc.clone()));
                if room > new {
                    moved.push(NewBlock::Data(PADDING, vec![0; (room - new - 4) as usize]));
                }
            }
            NewBlock::Original(o) => moved.push(NewBlock::Original(*o)),
            NewBlock::Data(k, d) => moved.push(NewBlock::Data(*k, d.clone())),
        }
    }
    span(src, lay, &moved).map(Some)
}

/// The bytes from the first changed block to the last one, as one in-place write (the write
/// layer then writes only the bytes that really differ).
fn span(src: &Source, lay: &Layout, blocks: &[NewBlock]) -> Result<Plan> {
    let changed: Vec<usize> = (0..blocks.len())
        .filter(|&i| matches!(blocks[i], NewBlock::Data(..)))
        .collect();
    let (first, last) = (changed[0], changed[changed.len() - 1]);
    let start = span_offset(lay, blocks, first);
    let mut bytes = Vec::new();
    for (i, b) in blocks.iter().enumerate().take(last + 1).skip(first) {
        push_block(&mut bytes, src, b, i + 1 == blocks.len())?;
    }
    Ok(Plan::at(start, bytes))
}

/// Resizes one PADDING block so the metadata keeps its length; then the changed span is one
/// positioned write. `None` when no padding block can absorb the difference.
fn in_place(src: &Source, lay: &Layout, blocks: &mut [NewBlock]) -> Result<Option<Plan>> {
    let old_total: u64 = lay.blocks.iter().map(|b| 4 + b.len).sum();
    let new_total: u64 = blocks.iter().map(|b| 4 + b.len()).sum();
    let Some(pad) = blocks.iter().position(|b| b.kind() == PADDING) else {
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

/// File offset of block `i` in the new layout (equal lengths before the first change).
fn span_offset(lay: &Layout, blocks: &[NewBlock], i: usize) -> u64 {
    lay.prefix + 4 + blocks[..i].iter().map(|b| 4 + b.len()).sum::<u64>()
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
