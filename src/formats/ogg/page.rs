//! Ogg pages (RFC 3533): the page header, its CRC, reading pages through a bounds-checked
//! `Source`, packing packets into fresh pages, and streaming audio pages into a rewritten file with
//! shifted sequence numbers. Every size comes from the file, so every read is checked against the
//! file length first and a page can never claim more than 27 + 255 + 255 * 255 bytes.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;

use crate::bad;
use crate::formats::{Result, Source};

/// Length of the fixed part of a page header (before the segment table).
pub const HEADER_LEN: usize = 27;
/// The page starts with the continuation of a packet from the previous page.
pub const FLAG_CONTINUED: u8 = 0x01;
/// First page of a logical stream.
pub const FLAG_BOS: u8 = 0x02;
/// Last page of a logical stream.
pub const FLAG_EOS: u8 = 0x04;
/// Granule position meaning "no packet ends on this page" (-1 in two's complement).
pub const NO_GRANULE: u64 = u64::MAX;
/// A page holds at most 255 lacing values.
pub const MAX_SEGMENTS: usize = 255;

/// The Ogg CRC-32 of `parts` concatenated: polynomial 0x04c11db7, initial value 0, no
/// reflection, no final xor. The checksum of every page is computed on each read and each copy
/// (a rewrite renumbers every audio page), so it comes from `crc-fast`, which folds with
/// carry-less multiplication: the slice-by-8 table it replaced took 4 % of a `tag` run's CPU.
/// The write proof checks pages with a CRC that shares nothing with this one
/// (`write::ogg_crc`).
pub fn crc(parts: &[&[u8]]) -> u32 {
    static PARAMS: std::sync::OnceLock<crc_fast::CrcParams> = std::sync::OnceLock::new();
    let params = *PARAMS.get_or_init(|| {
        crc_fast::CrcParams::new("CRC-32/OGG", 32, 0x04c1_1db7, 0, false, 0, 0x89a1_897f)
    });
    let mut digest = crc_fast::Digest::new_with_params(params);
    for p in parts {
        digest.update(p);
    }
    // A 32-bit CRC: the upper half of the u64 is zero.
    digest.finalize() as u32
}

/// One page header as stored. Every stored byte is captured here, so `encode` reproduces the
/// header exactly (which is what the CRC covers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageHeader {
    /// File offset of the capture pattern.
    pub offset: u64,
    pub flags: u8,
    pub granule: u64,
    pub serial: u32,
    pub sequence: u32,
    pub crc: u32,
    pub lacing: Vec<u8>,
}

impl PageHeader {
    /// Parses the fixed 27 bytes; the segment table (`fixed[26]` entries) is read by the caller.
    fn parse_fixed(offset: u64, fixed: &[u8; HEADER_LEN]) -> Result<PageHeader> {
        if &fixed[0..4] != b"OggS" {
            return Err(bad!(
                "no Ogg page at byte {offset} (capture pattern missing)"
            ));
        }
        if fixed[4] != 0 {
            return Err(bad!(
                Unsupported,
                "Ogg page at byte {offset} has unknown version {}",
                fixed[4]
            ));
        }
        let le32 = |at: usize| {
            u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
        };
        Ok(PageHeader {
            offset,
            flags: fixed[5],
            granule: u64::from(le32(6)) | (u64::from(le32(10)) << 32),
            serial: le32(14),
            sequence: le32(18),
            crc: le32(22),
            lacing: Vec::new(),
        })
    }

    pub fn header_len(&self) -> u64 {
        (HEADER_LEN + self.lacing.len()) as u64
    }

    pub fn body_len(&self) -> u64 {
        self.lacing.iter().map(|&l| u64::from(l)).sum()
    }

    /// Offset of the first byte after this page (the file length bounds it, so no overflow).
    pub fn end(&self) -> u64 {
        self.offset
            .saturating_add(self.header_len())
            .saturating_add(self.body_len())
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The header bytes with `crc` in the checksum field.
    pub fn encode(&self, crc: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.lacing.len());
        out.extend_from_slice(b"OggS\0");
        out.push(self.flags);
        out.extend_from_slice(&self.granule.to_le_bytes());
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        // The lacing of a parsed or built page never exceeds 255 entries.
        out.push(self.lacing.len().min(MAX_SEGMENTS) as u8);
        out.extend_from_slice(&self.lacing);
        out
    }

    /// The CRC this page should carry with `body` (computed with the checksum field zeroed).
    pub fn compute_crc(&self, body: &[u8]) -> u32 {
        crc(&[&self.encode(0), body])
    }
}

/// Reads the header and segment table at `offset` and checks that the body lies inside the file.
/// One read of 27 + 255 bytes at most (fewer at the end of the file), never the body: a walk
/// over every page of a long file costs one system call a page.
pub fn read_header(src: &Source, offset: u64) -> Result<PageHeader> {
    let head = src.read_upto(offset, (HEADER_LEN + MAX_SEGMENTS) as u64)?;
    // Too short: the bounds check names what is missing.
    let Some(fixed) = head.first_chunk::<HEADER_LEN>() else {
        src.check(offset, HEADER_LEN as u64, "Ogg page header")?;
        return Err(bad!(Internal, "internal: short read of an Ogg page header"));
    };
    let mut h = PageHeader::parse_fixed(offset, fixed)?;
    let segments = usize::from(fixed[26]);
    let Some(lacing) = head.get(HEADER_LEN..HEADER_LEN + segments) else {
        let at = offset + HEADER_LEN as u64;
        src.check(at, segments as u64, "Ogg segment table")?;
        return Err(bad!(
            Internal,
            "internal: short read of an Ogg segment table"
        ));
    };
    h.lacing = lacing.to_vec();
    src.check(offset + h.header_len(), h.body_len(), "Ogg page body")?;
    Ok(h)
}

/// Reads a whole page and verifies its CRC, so corruption is reported instead of carried along.
pub fn read_page(src: &Source, offset: u64) -> Result<(PageHeader, Vec<u8>)> {
    let h = read_header(src, offset)?;
    let body = src.read(offset + h.header_len(), h.body_len(), "Ogg page body")?;
    let crc = h.compute_crc(&body);
    if crc != h.crc {
        return Err(bad!(
            "Ogg page at byte {offset} has a bad checksum (stored {:08x}, computed {crc:08x}): \
             the file is corrupt",
            h.crc
        ));
    }
    Ok((h, body))
}

/// Where fresh pages belong: the stream's serial, the sequence number of the first new page, the
/// granule for pages on which a packet ends, and whether the last page ends the stream.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    pub serial: u32,
    pub first_seq: u32,
    pub granule: u64,
    pub eos_last: bool,
}

/// Total bytes and page count of `packet_lens` packed by `paginate`, without building them (used
/// to search for a padding size that fits the old pages exactly).
pub fn layout(packet_lens: &[usize]) -> (u64, usize) {
    // A packet of length L takes L / 255 + 1 lacing values: a multiple of 255 needs a final 0.
    let segments: usize = packet_lens.iter().map(|l| l / 255 + 1).sum();
    let pages = segments.div_ceil(MAX_SEGMENTS);
    let body: usize = packet_lens.iter().sum();
    ((HEADER_LEN * pages + segments + body) as u64, pages)
}

/// Packs `packets` into consecutive pages of up to 255 segments (as libogg flushes header pages),
/// starting on a fresh page and ending with the last packet.
pub fn paginate(packets: &[&[u8]], stream: &Stream) -> Result<Vec<u8>> {
    paginate_with(packets, stream, MAX_SEGMENTS)
}

/// `paginate` with a smaller page size; tests use it to build files laid out like other muxers.
pub fn paginate_with(packets: &[&[u8]], stream: &Stream, max_segments: usize) -> Result<Vec<u8>> {
    let max_segments = max_segments.clamp(1, MAX_SEGMENTS);
    // Every segment as (packet, start, len, ends its packet).
    let mut segments = Vec::new();
    for (p, packet) in packets.iter().enumerate() {
        let full = packet.len() / 255;
        for i in 0..full {
            segments.push((p, i * 255, 255usize, false));
        }
        segments.push((p, full * 255, packet.len() % 255, true));
    }
    let mut out =
        Vec::with_capacity(layout(&packets.iter().map(|p| p.len()).collect::<Vec<_>>()).0 as usize);
    let chunks: Vec<_> = segments.chunks(max_segments).collect();
    let mut continued = false;
    for (i, chunk) in chunks.iter().enumerate() {
        let sequence = u32::try_from(i)
            .ok()
            .and_then(|i| stream.first_seq.checked_add(i))
            .ok_or_else(|| bad!(Unsupported, "Ogg page sequence number overflows"))?;
        let ends_packet = chunk.iter().any(|s| s.3);
        let mut flags = if continued { FLAG_CONTINUED } else { 0 };
        if stream.eos_last && i + 1 == chunks.len() {
            flags |= FLAG_EOS;
        }
        let mut body = Vec::new();
        for &(p, start, len, _) in chunk.iter() {
            let bytes = packets.get(p).and_then(|pk| pk.get(start..start + len));
            body.extend_from_slice(
                bytes.ok_or_else(|| bad!(Internal, "internal error: segment out of range"))?,
            );
        }
        let h = PageHeader {
            offset: 0,
            flags,
            granule: if ends_packet {
                stream.granule
            } else {
                NO_GRANULE
            },
            serial: stream.serial,
            sequence,
            crc: 0,
            lacing: chunk.iter().map(|s| s.2 as u8).collect(),
        };
        out.extend_from_slice(&h.encode(h.compute_crc(&body)));
        out.extend_from_slice(&body);
        continued = chunk.last().is_some_and(|s| !s.3);
    }
    Ok(out)
}

/// Positioned reads over `[pos, end)` of a shared file handle (its cursor is never moved).
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.end.saturating_sub(self.pos)) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Streams the pages in `[offset, offset + len)` of `src` to `out`, adding `seq_delta` to each
/// page's sequence number and recomputing its CRC; flags, granules and bodies are unchanged. Each
/// page's stored CRC is checked first, so a rewrite never launders existing corruption. Memory is
/// bounded by one page plus 64 KiB read and write buffers. The range must hold whole pages.
pub fn copy_pages(
    src: &File,
    offset: u64,
    len: u64,
    seq_delta: i64,
    out: &mut impl Write,
) -> io::Result<()> {
    let end = offset
        .checked_add(len)
        .ok_or_else(|| invalid(format!("Ogg page range {offset}+{len} overflows")))?;
    let mut rd = BufReader::with_capacity(
        1 << 16,
        At {
            file: src,
            pos: offset,
            end,
        },
    );
    // Callers may pass an unbuffered file: batch the two small writes per page.
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut pos = offset;
    let mut fixed = [0u8; HEADER_LEN];
    let mut lacing = [0u8; MAX_SEGMENTS];
    let mut body = Vec::with_capacity(MAX_SEGMENTS * 255);
    let short = |pos: u64| {
        move |e: io::Error| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                invalid(format!(
                    "Ogg page at byte {pos} runs past the end of the copied range (ends at {end})"
                ))
            } else {
                e
            }
        }
    };
    while pos < end {
        rd.read_exact(&mut fixed).map_err(short(pos))?;
        let mut h = PageHeader::parse_fixed(pos, &fixed).map_err(|e| invalid(e.to_string()))?;
        let lacing = &mut lacing[..usize::from(fixed[26])];
        rd.read_exact(lacing).map_err(short(pos))?;
        h.lacing = lacing.to_vec();
        body.resize(h.body_len() as usize, 0);
        rd.read_exact(&mut body).map_err(short(pos))?;
        let crc = h.compute_crc(&body);
        if crc != h.crc {
            return Err(invalid(format!(
                "Ogg page at byte {pos} has a bad checksum (stored {:08x}, computed {crc:08x}); \
                 refusing to copy corrupt audio",
                h.crc
            )));
        }
        h.sequence = i64::from(h.sequence)
            .checked_add(seq_delta)
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "Ogg page at byte {pos}: sequence number out of range"
                ))
            })?;
        out.write_all(&h.encode(h.compute_crc(&body)))?;
        out.write_all(&body)?;
        pos = h.end();
    }
    out.flush()
}
