//! Ogg FLAC (the FLAC-to-Ogg mapping): the first packet is `0x7F "FLAC"`, the mapping version,
//! the number of header packets that follow (0 = unknown), `fLaC` and the STREAMINFO block; every
//! following header packet is one FLAC metadata block (4-byte header, then its body), the first
//! of them the VORBIS_COMMENT block, the last one flagged. Here: checking that layout, finding
//! where the header packets end, and building the comment and PADDING packets an edit writes.

use crate::bad;
use crate::formats::Result;

/// Metadata block types the planner needs to recognise.
pub const PADDING: u8 = 1;
pub const VORBIS_COMMENT: u8 = 4;
/// The block header flag on the last metadata block.
pub const LAST: u8 = 0x80;
/// A block body length is 24 bits.
const MAX_BODY: usize = (1 << 24) - 1;
/// Header packets accepted before the file is refused rather than read on (real files have a
/// handful; a stream without a last-block flag would otherwise be read to its end).
const MAX_BLOCKS: usize = 1024;
/// Mapping header (13 bytes: magic, version, count, `fLaC`) + STREAMINFO (4 + 34 bytes).
const ID_LEN: usize = 51;

/// Checks the identification packet: mapping version 1.x, `fLaC`, a STREAMINFO block that is
/// not the last (the VORBIS_COMMENT block must follow it).
pub fn identify(packet: &[u8]) -> Result<()> {
    if packet.len() != ID_LEN || packet.get(9..13) != Some(b"fLaC") {
        return Err(bad!(
            "the Ogg FLAC identification header is malformed ({} bytes)",
            packet.len()
        ));
    }
    if packet[5] != 1 {
        return Err(bad!(
            Unsupported,
            "Ogg FLAC mapping version {}.{} is not supported",
            packet[5],
            packet[6]
        ));
    }
    if packet[13] & 0x7f != 0 || block_len(&packet[13..]) != Some(34) {
        return Err(bad!(
            "the Ogg FLAC identification header does not hold a STREAMINFO block"
        ));
    }
    if packet[13] & LAST != 0 {
        return Err(bad!(
            Unsupported,
            "the Ogg FLAC stream has no metadata after STREAMINFO (no Vorbis comment block); \
             not supported"
        ));
    }
    Ok(())
}

/// The body length a block header at the start of `b` declares.
fn block_len(b: &[u8]) -> Option<usize> {
    let h = b.get(..4)?;
    Some(usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]))
}

/// The number of header packets after it the identification packet declares (0: unknown).
pub fn header_count(id: &[u8]) -> u16 {
    id.get(7..9).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
}

/// The block type of a header packet.
pub fn kind(packet: &[u8]) -> Option<u8> {
    packet.first().map(|b| b & 0x7f)
}

/// How many header packets to read, given those read so far (the identification packet and at
/// least one metadata block): all of them when the last one carries the last-block flag (then
/// checked against the count the identification packet declares), else one more.
pub fn want(packets: &[Vec<u8>]) -> Result<usize> {
    let n = packets.len();
    let last = packets.last().map(Vec::as_slice).unwrap_or_default();
    if block_len(last).is_none_or(|len| len + 4 != last.len()) {
        return Err(bad!(
            "Ogg FLAC header packet {} is not one whole metadata block: the file is corrupt",
            n - 1
        ));
    }
    let declared = packets.first().map_or(0, |p| usize::from(header_count(p)));
    if last[0] & LAST == 0 {
        if n > MAX_BLOCKS || (declared != 0 && n > declared) {
            return Err(bad!(
                "the Ogg FLAC headers do not end after {} metadata blocks (the last-block flag \
                 is missing): the file is corrupt",
                n - 1
            ));
        }
        return Ok(n + 1);
    }
    if declared != 0 && declared != n - 1 {
        return Err(bad!(
            "the Ogg FLAC identification header declares {declared} header packets, the stream \
             has {}: the file is corrupt",
            n - 1
        ));
    }
    Ok(n)
}

/// The comment packet's block flags (its last-block flag) and body, checked to be a
/// VORBIS_COMMENT block.
pub fn comment_body(packet: &[u8]) -> Result<(u8, &[u8])> {
    match kind(packet) {
        Some(VORBIS_COMMENT) => {}
        Some(k) => {
            return Err(bad!(
                Unsupported,
                "the first Ogg FLAC metadata block is of type {k}, not a Vorbis comment; \
                 not supported"
            ));
        }
        None => return Err(bad!("the Ogg FLAC comment header is empty")),
    }
    if block_len(packet) != Some(packet.len().saturating_sub(4)) {
        return Err(bad!(
            "the Ogg FLAC comment block's length does not match its packet: the file is corrupt"
        ));
    }
    Ok((packet[0] & LAST, &packet[4..]))
}

/// A block header: the flags (`LAST` or not) of the block it replaces, its type and length.
pub fn block_header(flags: u8, kind: u8, len: usize) -> Result<[u8; 4]> {
    if len > MAX_BODY {
        return Err(bad!(
            Unsupported,
            "an Ogg FLAC metadata block would exceed 16 MiB ({len} bytes); not written"
        ));
    }
    let b = (len as u32).to_be_bytes();
    Ok([(flags & LAST) | kind, b[1], b[2], b[3]])
}

/// A PADDING packet of `len` zero bytes, keeping `flags`' last-block flag.
pub fn padding(flags: u8, len: usize) -> Result<Vec<u8>> {
    let mut out = block_header(flags, PADDING, len)?.to_vec();
    out.resize(4 + len, 0);
    Ok(out)
}
