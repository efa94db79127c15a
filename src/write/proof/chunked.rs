//! The proof's own walkers for the chunked containers lofty does not read: RF64/BW64 WAV, DSF
//! and DSDIFF. Deliberately tiny and strict, sharing no code with the planners
//! (`formats::riff`, `formats::dsd`): they find the ID3v2 tag bytes (handed to the `id3` crate),
//! the RF64 XMP packet (handed to `quick-xml`), and list every other chunk as an item that must
//! survive the write. A chunk of up to `WHOLE` bytes is compared byte for byte; a larger one
//! (the audio) by its length and its first and last `EDGE` bytes, because the write layer
//! already proves the audio payload itself (untouched in place, hashed after a rewrite). A
//! size field that does not add up (a form size that misses a chunk, a DSF total that is not the
//! file's length) is an error, so a version with a stale size field is refused.

use std::io::{self, Read, Seek, SeekFrom};

use super::items::Item;
use crate::model::Container;

/// Chunks up to this size are compared whole.
const WHOLE: u64 = 1 << 20;
/// How much of each end of a larger chunk is compared.
const EDGE: u64 = 64 << 10;

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn read<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> io::Result<Vec<u8>> {
    if len > 256 << 20 {
        return Err(bad("metadata piece too large"));
    }
    r.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0; len as usize];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap_or_default())
}

fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().unwrap_or_default())
}

/// One walked piece: a name, where its bytes are, how many.
struct Piece {
    name: String,
    at: u64,
    len: u64,
}

/// The walk of a file: its pieces (tag and XMP left out), the tag's bytes and the XMP packet's.
#[derive(Default)]
struct Walk {
    pieces: Vec<Piece>,
    tag: Option<(u64, u64)>,
    xmp: Option<(u64, u64)>,
    /// Bytes of a piece that legitimately change (a size field) are zeroed: (piece, from, to).
    zero: Option<(usize, usize, usize)>,
}

fn walk<R: Read + Seek>(c: Container, r: &mut R) -> io::Result<Walk> {
    let len = r.seek(SeekFrom::End(0))?;
    match c {
        Container::Rf64 => rf64(r, len),
        Container::Dsf => dsf(r, len),
        Container::Dsdiff => dff(r, len),
        _ => Err(bad("not a chunked container")),
    }
}

fn rf64<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Walk> {
    let h = read(r, 0, 20)?;
    if !matches!(&h[..4], b"RF64" | b"BW64") || &h[8..12] != b"WAVE" || &h[12..16] != b"ds64" {
        return Err(bad("no RF64 form with a ds64 chunk"));
    }
    let ds_len = u64::from(u32::from_le_bytes(h[16..20].try_into().unwrap_or_default()));
    if ds_len < 28 {
        return Err(bad("ds64 chunk too short"));
    }
    let ds = read(r, 20, ds_len)?;
    let end = 8 + le64(&ds);
    let data = le64(&ds[8..]);
    let count = u64::from(u32::from_le_bytes(
        ds[24..28].try_into().unwrap_or_default(),
    ));
    if end > len || count * 12 > ds_len - 28 {
        return Err(bad("the ds64 sizes do not fit the file"));
    }
    let table: Vec<&[u8]> = ds[28..28 + 12 * count as usize].chunks(12).collect();
    let mut w = Walk::default();
    let mut at = 12;
    while at + 8 <= end {
        let c = read(r, at, 8)?;
        let mut size = u64::from(u32::from_le_bytes(c[4..8].try_into().unwrap_or_default()));
        if size == u64::from(u32::MAX) {
            size = if &c[..4] == b"data" {
                data
            } else {
                let e = table.iter().find(|e| e[..4] == c[..4]);
                le64(&e.ok_or_else(|| bad("a 0xFFFFFFFF size without a ds64 entry"))?[4..])
            };
        }
        let next = at + 8 + size + (size & 1);
        if at + 8 + size > end {
            return Err(bad("a chunk runs past the ds64 RIFF size"));
        }
        // A second tag or packet would be left out of every comparison: refused (the planner
        // refuses such files too).
        match &c[..4] {
            b"id3 " | b"ID3 " if w.tag.is_some() => return Err(bad("two ID3 chunks")),
            b"_PMX" if w.xmp.is_some() => return Err(bad("two _PMX chunks")),
            b"id3 " | b"ID3 " => w.tag = Some((at + 8, size)),
            b"_PMX" => w.xmp = Some((at + 8, size)),
            id => {
                if id == b"ds64" {
                    // The RIFF size (the first 8 data bytes) changes with every growth.
                    w.zero = Some((w.pieces.len(), 8, 16));
                }
                let name = format!("RF64 {:?} chunk", String::from_utf8_lossy(id));
                chunk_pieces(r, &mut w, name, at, 8 + size, end)?;
            }
        }
        at = next;
    }
    tail(&mut w, at, end, "RF64 bytes after the last chunk");
    tail(&mut w, end, len, "bytes after the RF64 form");
    Ok(w)
}

fn dsf<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Walk> {
    let h = read(r, 0, 28)?;
    if &h[..4] != b"DSD " || le64(&h[4..]) != 28 || le64(&h[12..]) != len {
        return Err(bad("the DSD chunk's sizes do not match the file"));
    }
    let tag_at = le64(&h[20..]);
    let mut w = Walk::default();
    let mut at = 28;
    for id in [b"fmt ", b"data"] {
        let c = read(r, at, 12)?;
        let size = le64(&c[4..]);
        if &c[..4] != id || size < 12 || at + size > len {
            return Err(bad("no whole fmt and data chunks"));
        }
        w.pieces.push(Piece {
            name: format!("DSF {:?} chunk", String::from_utf8_lossy(id)),
            at,
            len: size,
        });
        at += size;
    }
    let end = if tag_at == 0 { len } else { tag_at };
    if end < at || end > len {
        return Err(bad("the metadata offset is not after the audio"));
    }
    w.pieces.push(Piece {
        name: "DSF bytes between the audio and the tag".into(),
        at,
        len: end - at,
    });
    if tag_at != 0 {
        w.tag = Some((tag_at, len - tag_at));
    }
    Ok(w)
}

fn dff<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Walk> {
    let h = read(r, 0, 16)?;
    let end = be64(&h[4..]).saturating_add(12);
    if &h[..4] != b"FRM8" || &h[12..16] != b"DSD " || end > len {
        return Err(bad("no FRM8 form of type DSD that fits the file"));
    }
    let mut w = Walk::default();
    let mut at = 16;
    while at + 12 <= end {
        let c = read(r, at, 12)?;
        let size = be64(&c[4..]);
        if size > end - at - 12 {
            return Err(bad("a chunk runs past the FRM8 size"));
        }
        let next = at + 12 + size + (size & 1);
        if &c[..4] == b"ID3 " {
            if w.tag.is_some() {
                return Err(bad("two ID3 chunks"));
            }
            w.tag = Some((at + 12, size));
        } else {
            let name = format!("DSDIFF {:?} chunk", String::from_utf8_lossy(&c[..4]));
            chunk_pieces(r, &mut w, name, at, 12 + size, end)?;
        }
        at = next;
    }
    tail(&mut w, at, end, "DSDIFF bytes after the last chunk");
    tail(&mut w, end, len, "bytes after the FRM8 form");
    Ok(w)
}

/// A chunk of `whole` bytes (header and data) at `at`, without its pad byte: a last chunk of odd
/// length may lack one, and a write that appends after it adds one. A pad byte that is not 0
/// holds something, so it is a piece of its own and must be kept.
fn chunk_pieces<R: Read + Seek>(
    r: &mut R,
    w: &mut Walk,
    name: String,
    at: u64,
    whole: u64,
    end: u64,
) -> io::Result<()> {
    let pad = at + whole;
    w.pieces.push(Piece {
        name,
        at,
        len: whole,
    });
    if whole % 2 == 1 && pad < end && read(r, pad, 1)?[0] != 0 {
        let name = format!(
            "the pad byte after the {}",
            w.pieces[w.pieces.len() - 1].name
        );
        w.pieces.push(Piece {
            name,
            at: pad,
            len: 1,
        });
    }
    Ok(())
}

fn tail(w: &mut Walk, end: u64, len: u64, name: &str) {
    if end < len {
        w.pieces.push(Piece {
            name: name.into(),
            at: end,
            len: len - end,
        });
    }
}

/// The ID3v2 tag's bytes (with its padding; zeros after it dropped, see `raw::slot_tag`), or
/// `None` (no chunk or slot, or one of nothing but zeros).
pub fn tag<R: Read + Seek>(c: Container, r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let w = walk(c, r)?;
    Ok(w.tag
        .map(|(at, len)| read(r, at, len).and_then(super::raw::slot_tag))
        .transpose()?
        .flatten())
}

/// The RF64 `_PMX` packet, or `None`.
pub fn xmp<R: Read + Seek>(c: Container, r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let w = walk(c, r)?;
    w.xmp.map(|(at, len)| read(r, at, len)).transpose()
}

/// Every piece but the tag and the XMP packet, as items to compare.
pub fn items<R: Read + Seek>(c: Container, r: &mut R) -> io::Result<Vec<Item>> {
    let w = walk(c, r)?;
    let mut out = Vec::with_capacity(w.pieces.len());
    for (i, p) in w.pieces.iter().enumerate() {
        let mut value = p.len.to_le_bytes().to_vec();
        if p.len <= WHOLE {
            value.extend(read(r, p.at, p.len)?);
        } else {
            value.extend(read(r, p.at, EDGE)?);
            value.extend(read(r, p.at + p.len - EDGE, EDGE)?);
        }
        if let Some((piece, from, to)) = w.zero
            && piece == i
        {
            // (Offsets into `value`, which starts with the 8-byte length.)
            value[8 + from..8 + to].fill(0);
        }
        out.push(Item {
            name: p.name.clone(),
            value,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_stale_dsf_total_is_refused() {
        let mut f = b"DSD \x1c\0\0\0\0\0\0\0".to_vec();
        f.extend_from_slice(&100u64.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes());
        assert!(items(Container::Dsf, &mut Cursor::new(&f)).is_err());
    }

    #[test]
    fn dsdiff_chunks_and_tag_are_found() {
        let mut f = b"FRM8".to_vec();
        f.extend_from_slice(&(4u64 + 14 + 16).to_be_bytes());
        f.extend_from_slice(b"DSD ");
        f.extend_from_slice(b"FVER\0\0\0\0\0\0\0\x02ab");
        f.extend_from_slice(b"ID3 \0\0\0\0\0\0\0\x03tag\0");
        let items = items(Container::Dsdiff, &mut Cursor::new(&f)).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].name, "DSDIFF \"FVER\" chunk");
        let t = tag(Container::Dsdiff, &mut Cursor::new(&f)).unwrap();
        assert_eq!(t.unwrap(), b"tag");
        f[11] += 2; // the form size now claims more than the file has
        assert!(tag(Container::Dsdiff, &mut Cursor::new(&f)).is_err());
    }

    /// An RF64 with `extra` chunks after `data`.
    fn rf64(extra: &[&[u8]]) -> Vec<u8> {
        let mut body = b"WAVEds64".to_vec();
        body.extend_from_slice(&28u32.to_le_bytes());
        body.extend_from_slice(&[0; 28]);
        body.extend_from_slice(b"data\x02\0\0\0ab");
        for c in extra {
            body.extend_from_slice(c);
        }
        let riff = body.len() as u64 + 4 + 4 - 8;
        body[12..20].copy_from_slice(&riff.to_le_bytes());
        body[20..28].copy_from_slice(&2u64.to_le_bytes());
        let mut f = b"RF64\xff\xff\xff\xff".to_vec();
        f.extend(body);
        f
    }

    #[test]
    fn a_second_rf64_tag_or_packet_is_refused() {
        let id3: &[u8] = b"id3 \x04\0\0\0tag\0";
        let pmx: &[u8] = b"_PMX\x02\0\0\0<x";
        let one = rf64(&[id3, pmx]);
        assert_eq!(
            tag(Container::Rf64, &mut Cursor::new(&one))
                .unwrap()
                .unwrap(),
            b"tag\0"
        );
        assert_eq!(
            xmp(Container::Rf64, &mut Cursor::new(&one))
                .unwrap()
                .unwrap(),
            b"<x"
        );
        for (two, what) in [
            (rf64(&[id3, pmx, id3]), "two ID3"),
            (rf64(&[pmx, id3, pmx]), "two _PMX"),
        ] {
            let e = tag(Container::Rf64, &mut Cursor::new(&two)).unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
        }
    }
}
