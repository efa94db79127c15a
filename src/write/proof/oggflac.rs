//! The proof's own view of an Ogg FLAC file: a deliberately tiny page walker, sharing no code
//! with the planner (`formats::ogg`, whose pages and packets it re-derives with its own bitwise
//! CRC), gathers the header packets and lays them out as the native FLAC metadata they carry
//! (`fLaC`, STREAMINFO, every metadata block). lofty's FLAC reader and `raw::flac_blocks` then
//! compare that view exactly as they compare a FLAC file (lofty cannot read Ogg FLAC itself), and
//! the mapping header before `fLaC` is compared byte for byte, but for its header count: an
//! edit that adds a PADDING block raises it, so each version's count must be 0 ("unknown") in
//! both or match that version's own number of header packets.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use super::{View, compare, lofty_items, raw};
use crate::bad;
use crate::formats::Result;
use crate::model::{Container, Edit};

/// Header bytes read before giving up (a cover in a PICTURE block stays far below it).
const MAX_HEADERS: usize = 64 << 20;
/// Header packets read before giving up (real files have a handful).
const MAX_PACKETS: usize = 1024;

/// Every item of the old version but ours must be in the new one, in order.
pub(super) fn prove(old: &mut View, new: &mut View, edit: &Edit) -> Result<()> {
    let (old_map, old_flac) = view(old, "old")?;
    let (new_map, new_flac) = view(new, "new")?;
    check_mapping(&old_map, &new_map)?;
    let (mut old, mut new) = (Cursor::new(old_flac), Cursor::new(new_flac));
    let (was, now) = lofty_items(Container::OggFlac, &mut old, &mut new, edit)?;
    compare(&was, &now)?;
    let blocks = |r: &mut Cursor<Vec<u8>>, which: &str| {
        raw::flac_blocks(r).map_err(|e| {
            bad!(
                Refused,
                "internal check: cannot walk the {which} Ogg FLAC blocks ({e}); not written"
            )
        })
    };
    compare(&blocks(&mut old, "old")?, &blocks(&mut new, "new")?)
}

/// The mapping headers agree but for the header count, which is 0 in both or right in each.
fn check_mapping(old_map: &Mapping, new_map: &Mapping) -> Result<()> {
    if old_map.magic != new_map.magic || (old_map.count == 0) != (new_map.count == 0) {
        return Err(bad!(
            Refused,
            "internal check: the write would change the Ogg FLAC mapping header; not written"
        ));
    }
    for (map, which) in [(&old_map, "old"), (&new_map, "new")] {
        if map.count != 0 && usize::from(map.count) != map.packets {
            return Err(bad!(
                Refused,
                "internal check: the {which} Ogg FLAC mapping header counts {} header packets, \
                 the stream has {}; not written",
                map.count,
                map.packets
            ));
        }
    }
    Ok(())
}

/// The mapping header of one version: its first 7 bytes (magic, version), the header count it
/// declares and the number of header packets after it.
struct Mapping {
    magic: Vec<u8>,
    count: u16,
    packets: usize,
}

fn view(r: &mut View, which: &str) -> Result<(Mapping, Vec<u8>)> {
    let packets = header_packets(r).map_err(|e| {
        bad!(
            Refused,
            "internal check: cannot read the {which} Ogg FLAC header pages ({e}); not written"
        )
    })?;
    let first = &packets[0];
    let map = Mapping {
        magic: first[..7].to_vec(),
        count: u16::from_be_bytes([first[7], first[8]]),
        packets: packets.len() - 1,
    };
    Ok((map, flac_of(&packets)))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// One Ogg page as stored, its checksum verified by the proof's own CRC.
pub(super) struct Page {
    head: [u8; 27],
    lacing: Vec<u8>,
    body: Vec<u8>,
}

impl Page {
    /// Reads the page at the cursor: capture pattern, lacing, body, and a right checksum.
    pub fn read<R: Read>(r: &mut R) -> io::Result<Page> {
        let mut head = [0u8; 27];
        r.read_exact(&mut head)?;
        if &head[..4] != b"OggS" {
            return Err(invalid("no Ogg page where one should start"));
        }
        let mut lacing = vec![0u8; usize::from(head[26])];
        r.read_exact(&mut lacing)?;
        let mut body = vec![0u8; lacing.iter().map(|&l| usize::from(l)).sum()];
        r.read_exact(&mut body)?;
        let stored = u32::from_le_bytes([head[22], head[23], head[24], head[25]]);
        let mut zeroed = head;
        zeroed[22..26].fill(0);
        if crc(&[&zeroed, &lacing, &body]) != stored {
            return Err(invalid("an Ogg page has a wrong checksum"));
        }
        Ok(Page { head, lacing, body })
    }

    fn serial(&self) -> u32 {
        let h = &self.head;
        u32::from_le_bytes([h[14], h[15], h[16], h[17]])
    }

    /// Bytes the page takes in the file.
    pub fn len(&self) -> u64 {
        (27 + self.lacing.len() + self.body.len()) as u64
    }
}

/// The mapping header (the 9 bytes before `fLaC`) and the native FLAC metadata the header
/// packets carry: `fLaC`, then every block up to the one flagged last.
pub fn native<R: Read + Seek>(r: &mut R) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let packets = header_packets(r)?;
    Ok((packets[0][..9].to_vec(), flac_of(&packets)))
}

/// `fLaC`, STREAMINFO and every metadata block of the header packets, as a FLAC file has them.
fn flac_of(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut flac = packets[0][9..].to_vec();
    for p in &packets[1..] {
        flac.extend_from_slice(p);
    }
    flac
}

/// The header packets, page by page from the start (CRC and serial checked), until a metadata
/// block packet carries the last-block flag; it must end its page (audio starts on a fresh one),
/// so no block can hide after it unread.
fn header_packets<R: Read + Seek>(r: &mut R) -> io::Result<Vec<Vec<u8>>> {
    r.seek(SeekFrom::Start(0))?;
    let (mut packets, mut cur, mut total) = (Vec::<Vec<u8>>::new(), Vec::new(), 0usize);
    let mut serial = None;
    loop {
        let page = Page::read(r)?;
        if *serial.get_or_insert(page.serial()) != page.serial() {
            return Err(invalid("a page of another stream among the header pages"));
        }
        let (lacing, body) = (&page.lacing, &page.body);
        total += body.len();
        if total > MAX_HEADERS {
            return Err(invalid("the header packets are too large"));
        }
        let mut at = 0;
        for (i, &l) in lacing.iter().enumerate() {
            cur.extend_from_slice(&body[at..at + usize::from(l)]);
            at += usize::from(l);
            if l == 255 {
                continue;
            }
            let p = std::mem::take(&mut cur);
            let done = match packets.len() {
                0 if p.len() == 51 && p.starts_with(b"\x7fFLAC") && &p[9..13] == b"fLaC" => false,
                0 => return Err(invalid("the first packet is not an Ogg FLAC header")),
                _ => p.first().is_some_and(|b| b & 0x80 != 0),
            };
            packets.push(p);
            if done && i + 1 < lacing.len() {
                return Err(invalid(
                    "a packet follows the last metadata block on its page",
                ));
            }
            if done {
                return Ok(packets);
            }
            if packets.len() > MAX_PACKETS {
                return Err(invalid("no metadata block is flagged last"));
            }
        }
    }
}

/// The Ogg CRC-32 (polynomial 0x04c11db7, initial value 0, no reflection, no final xor) of
/// `parts` concatenated, computed with `crc32fast` so that it shares nothing with the planner's
/// (`crc-fast`). crc32fast computes the reflected CRC-32 (polynomial 0xedb88320, the bit
/// reversal of Ogg's): fed each byte bit-reversed, from a zero register and with no final xor,
/// its result is the Ogg CRC bit-reversed.
pub(crate) fn crc(parts: &[&[u8]]) -> u32 {
    // crc32fast keeps the complement of its register: `!0` is a zero register, and the
    // complement of its result is the register at the end.
    let mut h = crc32fast::Hasher::new_with_initial(!0);
    let mut buf = [0u8; 4096];
    for p in parts {
        for chunk in p.chunks(buf.len()) {
            let out = &mut buf[..chunk.len()];
            for (o, b) in out.iter_mut().zip(chunk) {
                *o = b.reverse_bits();
            }
            h.update(out);
        }
    }
    (!h.finalize()).reverse_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ogg_check_value() {
        // CRC-32/MPEG-2 family without inversion: "123456789" gives 0x89a1897f.
        assert_eq!(crc(&[b"123456789"]), 0x89a1_897f);
    }

    #[test]
    fn crc_agrees_with_the_definition_bit_by_bit_at_every_length_and_split() {
        let bitwise = |d: &[u8]| {
            d.iter().fold(0u32, |mut c, &b| {
                c ^= u32::from(b) << 24;
                for _ in 0..8 {
                    c = if c & 0x8000_0000 != 0 {
                        (c << 1) ^ 0x04c1_1db7
                    } else {
                        c << 1
                    };
                }
                c
            })
        };
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in (0..300).chain([511, 512, 513, 700, 4095, 4096, 4097, 9000]) {
            let d = &data[..len];
            assert_eq!(crc(&[d]), bitwise(d), "length {len}");
            let (a, b) = d.split_at(len / 3);
            assert_eq!(crc(&[a, &[], b]), bitwise(d), "split length {len}");
        }
    }

    fn map(count: u16, packets: usize) -> Mapping {
        Mapping {
            magic: b"\x7fFLAC\x01\x00".to_vec(),
            count,
            packets,
        }
    }

    #[test]
    fn the_header_count_may_only_follow_the_blocks() {
        assert!(check_mapping(&map(1, 1), &map(2, 2)).is_ok());
        assert!(check_mapping(&map(0, 1), &map(0, 2)).is_ok());
        for (old, new) in [
            (map(1, 1), map(1, 2)),
            (map(0, 1), map(2, 2)),
            (map(1, 1), map(0, 2)),
        ] {
            let e = check_mapping(&old, &new).unwrap_err().to_string();
            assert!(e.contains("mapping header"), "{e}");
        }
        let mut other = map(2, 2);
        other.magic[5] = 2;
        assert!(check_mapping(&map(1, 1), &other).is_err(), "a new version");
        assert!(
            check_mapping(&map(3, 1), &map(4, 2)).is_err(),
            "an old wrong count"
        );
    }

    /// One Ogg page holding `packets` (each under 255 bytes), its CRC set.
    fn page(flags: u8, seq: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut head = b"OggS\0".to_vec();
        head.push(flags);
        head.extend_from_slice(&[0; 8]);
        head.extend_from_slice(&7u32.to_le_bytes());
        head.extend_from_slice(&seq.to_le_bytes());
        head.extend_from_slice(&[0; 4]);
        head.push(packets.len() as u8);
        head.extend(packets.iter().map(|p| p.len() as u8));
        let body = packets.concat();
        let sum = crc(&[&head, &body]);
        head[22..26].copy_from_slice(&sum.to_le_bytes());
        head.extend_from_slice(&body);
        head
    }

    #[test]
    fn a_block_after_the_one_flagged_last_is_refused() {
        let mut id = b"\x7fFLAC\x01\x00\x00\x00fLaC\x00\x00\x00\x22".to_vec();
        id.resize(51, 0);
        let comment = b"\x84\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00";
        let padding = b"\x81\x00\x00\x02\x00\x00";
        let mut file = page(2, 0, &[&id]);
        file.extend(page(0, 1, &[comment]));
        assert!(native(&mut Cursor::new(file.clone())).is_ok());
        // The comment flagged last, a PADDING block after it on the same page: not read past.
        let mut hidden = page(2, 0, &[&id]);
        hidden.extend(page(0, 1, &[comment, padding]));
        let e = native(&mut Cursor::new(hidden)).unwrap_err();
        assert!(e.to_string().contains("follows the last"), "{e}");
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        for bytes in [&b""[..], b"OggS", b"RIFF\0\0\0\0WAVE", &[0u8; 64]] {
            assert!(native(&mut Cursor::new(bytes.to_vec())).is_err());
        }
    }
}
