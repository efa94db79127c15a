//! The few byte ranges the proof must find on its own, with deliberately small walkers that
//! share no code with the planners: the ID3v2 tag at the head of an MPEG file, the ID3 chunk of
//! a WAV/AIFF file (both handed to the `id3` crate), the XMP packet of WAV, AIFF and MP4 (lofty
//! does not read XMP), and the FLAC metadata blocks lofty does not expose (STREAMINFO, SEEKTABLE,
//! APPLICATION, CUESHEET, unknown types) plus an ID3v2 prefix.

use std::io::{self, Read, Seek, SeekFrom};

use super::items::Item;

/// The largest metadata piece read whole (an ID3v2 tag is at most 256 MiB by its size field).
const MAX_PIECE: u64 = 256 << 20;

/// An empty ID3v2.4 tag: what a file without a tag is compared as.
pub const EMPTY_TAG: &[u8] = b"ID3\x04\x00\x00\x00\x00\x00\x00";

fn read_at<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> io::Result<Vec<u8>> {
    if len > MAX_PIECE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "metadata piece too large",
        ));
    }
    let end = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::with_capacity(len.min(end.saturating_sub(at)) as usize);
    r.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The whole length of the ID3v2 tag whose 10-byte header is `h` (with its footer), if it is one.
fn id3_len(h: &[u8]) -> Option<u64> {
    if h.len() < 10 || &h[..3] != b"ID3" || h[6..10].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let size = h[6..10].iter().fold(0u64, |a, &b| (a << 7) | u64::from(b));
    let footer = if h[3] == 4 && h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// The ID3v2 tag at offset 0 (header, frames, padding, footer), or `None`.
pub fn head_tag<R: Read + Seek>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let h = read_at(r, 0, 10)?;
    match id3_len(&h) {
        Some(len) => read_at(r, 0, len).map(Some),
        None => Ok(None),
    }
}

/// True when an MPEG file may end in an ID3v1 or APE tag (their signatures near the end): the
/// only items lofty reads there besides the ID3v2 tag, which the `id3` crate proves.
pub fn has_tail_tags<R: Read + Seek>(r: &mut R) -> io::Result<bool> {
    let len = r.seek(SeekFrom::End(0))?;
    let at = len.saturating_sub(160);
    let tail = read_at(r, at, len - at)?;
    let n = tail.len();
    let v1 = n >= 128 && &tail[n - 128..n - 125] == b"TAG";
    let ape = memchr::memmem::find(&tail, b"APETAGEX").is_some();
    Ok(v1 || ape)
}

/// The ID3v2 tag of the `ID3 `/`id3 ` chunk of a WAV or AIFF file (see `slot_tag`), or `None`.
pub fn chunk_tag<R: Read + Seek>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let found = only_one(
        chunks(r)?
            .into_iter()
            .filter(|(id, ..)| id.eq_ignore_ascii_case(b"ID3 ")),
        "ID3",
    )?;
    match found {
        Some((_, at, len)) => read_at(r, at + 8, len).and_then(slot_tag),
        None => Ok(None),
    }
}

/// The one chunk of a kind, if any: a second would be left out of every comparison, so it is
/// an error (the planners refuse such files too).
fn only_one<T>(mut found: impl Iterator<Item = T>, what: &str) -> io::Result<Option<T>> {
    let first = found.next();
    match found.next() {
        Some(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("two {what} chunks"),
        )),
        None => Ok(first),
    }
}

/// The tag of a chunk or slot that holds an ID3v2 tag: its bytes up to the tag's declared end,
/// when only zeros follow (taggers reserve room so; the planners accept them). Anything else
/// after the tag is an error: nothing explains it. A chunk of nothing but zeros (room reserved
/// for a tag not written yet) holds no tag, as the planners read it. A chunk that does not
/// start with a tag header, or is shorter than the tag says, is returned whole for the parsers
/// to judge.
pub fn slot_tag(mut bytes: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let Some(len) = id3_len(&bytes).and_then(|l| usize::try_from(l).ok()) else {
        return Ok(Some(bytes));
    };
    if len < bytes.len() {
        if let Some(i) = bytes[len..].iter().position(|&b| b != 0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a non-zero byte after the ID3v2 tag, at byte {} of its chunk",
                    len + i
                ),
            ));
        }
        bytes.truncate(len);
    }
    Ok(Some(bytes))
}

/// The XMP packet of a WAV (`_PMX` chunk) or AIFF (`APPL` chunk with signature `XMP `) file.
pub fn chunk_xmp<R: Read + Seek>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut packets = Vec::new();
    for (id, at, len) in chunks(r)? {
        if &id == b"_PMX" {
            packets.push((at + 8, len));
        } else if &id == b"APPL" && len >= 4 && read_at(r, at + 8, 4)? == b"XMP " {
            packets.push((at + 12, len - 4));
        }
    }
    match only_one(packets.into_iter(), "XMP")? {
        Some((at, len)) => read_at(r, at, len).map(Some),
        None => Ok(None),
    }
}

/// The chunks of a WAV or AIFF file: id, header offset, data length.
fn chunks<R: Read + Seek>(r: &mut R) -> io::Result<Vec<([u8; 4], u64, u64)>> {
    let head = read_at(r, 0, 12)?;
    let big = match head.get(..4) {
        Some(b"FORM") => true,
        Some(b"RIFF") => false,
        _ => return Ok(Vec::new()),
    };
    let size = |b: &[u8]| {
        let b: [u8; 4] = b.try_into().unwrap_or_default();
        u64::from(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let end = 8 + size(&head[4..8]);
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= end {
        let h = read_at(r, at, 8)?;
        if h.len() < 8 {
            break;
        }
        let len = size(&h[4..8]);
        out.push(([h[0], h[1], h[2], h[3]], at, len));
        at += 8 + len + (len & 1);
    }
    Ok(out)
}

/// The XMP UUID of an MP4 top-level `uuid` box (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC).
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

/// The XMP packet of an MP4 file: the body of the top-level XMP `uuid` box after its UUID.
pub fn mp4_xmp<R: Read + Seek>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let len = r.seek(SeekFrom::End(0))?;
    let mut at = 0;
    while at + 8 <= len {
        let h = read_at(r, at, 16)?;
        let (mut size, mut head) = (u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]])), 8);
        if size == 1 && h.len() == 16 {
            size = u64::from_be_bytes(h[8..16].try_into().unwrap_or_default());
            head = 16;
        } else if size == 0 {
            size = len - at;
        }
        if size < head {
            break;
        }
        if &h[4..8] == b"uuid" && size >= head + 16 && read_at(r, at + head, 16)? == XMP_UUID {
            return read_at(r, at + head + 16, size - head - 16).map(Some);
        }
        at += size;
    }
    Ok(None)
}

/// The FLAC metadata blocks other than VORBIS_COMMENT, PICTURE (compared through lofty) and
/// PADDING, byte for byte, and an ID3v2 tag before `fLaC`.
pub fn flac_blocks<R: Read + Seek>(r: &mut R) -> io::Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut at = 0;
    if let Some(tag) = head_tag(r)? {
        at = tag.len() as u64;
        out.push(Item {
            name: "ID3v2 tag before the FLAC stream".into(),
            value: tag,
        });
    }
    if read_at(r, at, 4)? != b"fLaC" {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no fLaC marker"));
    }
    at += 4;
    loop {
        let h = read_at(r, at, 4)?;
        if h.len() < 4 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let (last, kind) = (h[0] & 0x80 != 0, h[0] & 0x7f);
        let len = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        if !matches!(kind, 1 | 4 | 6) {
            out.push(Item {
                name: format!("FLAC {} block", block_name(kind)),
                value: read_at(r, at + 4, len)?,
            });
        }
        at += 4 + len;
        if last {
            return Ok(out);
        }
    }
}

fn block_name(kind: u8) -> String {
    match kind {
        0 => "STREAMINFO".into(),
        2 => "APPLICATION".into(),
        3 => "SEEKTABLE".into(),
        5 => "CUESHEET".into(),
        k => format!("type-{k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn finds_the_head_tag_and_the_chunk_tag() {
        let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x02ab".to_vec();
        mp3.extend_from_slice(b"\xff\xfbaudio");
        assert_eq!(head_tag(&mut Cursor::new(&mp3)).unwrap().unwrap().len(), 12);
        assert_eq!(
            head_tag(&mut Cursor::new(b"\xff\xfb".to_vec())).unwrap(),
            None
        );
        let mut wav = b"RIFF\x1f\x00\x00\x00WAVEdata\x01\x00\x00\x00x\x00".to_vec();
        wav.extend_from_slice(b"id3 \x03\x00\x00\x00tag\x00");
        assert_eq!(chunk_tag(&mut Cursor::new(&wav)).unwrap().unwrap(), b"tag");
    }

    #[test]
    fn a_second_tag_or_packet_chunk_is_refused() {
        let wav = |extra: &[u8]| {
            let mut f = b"RIFF\0\0\0\0WAVEdata\x01\0\0\0x\0".to_vec();
            f.extend_from_slice(extra);
            let n = (f.len() - 8) as u32;
            f[4..8].copy_from_slice(&n.to_le_bytes());
            f
        };
        let two = wav(b"id3 \x03\0\0\0tag\0ID3 \x03\0\0\0tag\0");
        let e = chunk_tag(&mut Cursor::new(&two)).unwrap_err().to_string();
        assert!(e.contains("two ID3 chunks"), "{e}");
        let two = wav(b"_PMX\x02\0\0\0<x_PMX\x02\0\0\0<y");
        let e = chunk_xmp(&mut Cursor::new(&two)).unwrap_err().to_string();
        assert!(e.contains("two XMP chunks"), "{e}");
        let one = wav(b"_PMX\x02\0\0\0<x");
        assert_eq!(chunk_xmp(&mut Cursor::new(&one)).unwrap().unwrap(), b"<x");
    }

    #[test]
    fn a_slot_gives_its_tag_without_the_zeros_after_it() {
        let tag = b"ID3\x03\x00\x00\x00\x00\x00\x02ab".to_vec();
        let mut zeros = tag.clone();
        zeros.extend_from_slice(&[0; 6]);
        assert_eq!(slot_tag(zeros.clone()).unwrap().unwrap(), tag);
        assert_eq!(slot_tag(tag.clone()).unwrap().unwrap(), tag);
        zeros[14] = 1;
        let err = slot_tag(zeros).unwrap_err().to_string();
        assert!(err.contains("at byte 14 of its chunk"), "{err}");
        // Not a tag, or cut short: whole, for the parsers to refuse.
        assert_eq!(slot_tag(b"tag\0".to_vec()).unwrap().unwrap(), b"tag\0");
        assert_eq!(slot_tag(tag[..11].to_vec()).unwrap().unwrap(), &tag[..11]);
        // Only zeros, however many: no tag.
        for n in [0, 3, 64] {
            assert_eq!(slot_tag(vec![0; n]).unwrap(), None);
        }
    }

    #[test]
    fn tail_tags_are_seen_by_their_signatures() {
        let audio = vec![0xffu8; 300];
        let mut v1 = audio.clone();
        v1.extend_from_slice(b"TAG");
        v1.resize(v1.len() + 125, b' ');
        let mut ape = audio.clone();
        ape.extend_from_slice(b"APETAGEX");
        ape.resize(ape.len() + 24, 0);
        assert!(!has_tail_tags(&mut Cursor::new(&audio)).unwrap());
        assert!(has_tail_tags(&mut Cursor::new(&v1)).unwrap());
        assert!(has_tail_tags(&mut Cursor::new(&ape)).unwrap());
    }

    #[test]
    fn flac_blocks_skip_comments_pictures_and_padding() {
        let mut f = b"fLaC".to_vec();
        f.extend_from_slice(b"\x00\x00\x00\x02si");
        f.extend_from_slice(b"\x04\x00\x00\x01c");
        f.extend_from_slice(b"\x02\x00\x00\x01a");
        f.extend_from_slice(b"\x81\x00\x00\x01\x00");
        let blocks = flac_blocks(&mut Cursor::new(&f)).unwrap();
        let names: Vec<_> = blocks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["FLAC STREAMINFO block", "FLAC APPLICATION block"]);
        assert_eq!(blocks[1].value, b"a");
    }
}
