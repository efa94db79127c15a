//! The Ogg header pages: which codec the stream carries, the header packets read from the first
//! pages (each page's CRC, serial and continuation flag checked), the layout an edit relies on,
//! and the comment packet decoded and encoded again with its tail kept.

use super::flac;
use super::page::{self, FLAG_BOS, FLAG_CONTINUED, FLAG_EOS, PageHeader};
use crate::bad;
use crate::formats::vorbis::Comments;
use crate::formats::{Result, Source};

/// Largest header packet accepted (a comment packet with a big embedded picture stays below it);
/// beyond it the file is refused rather than buffered.
const MAX_PACKET: usize = 16 << 20;
/// Speex declares how many extra header packets follow the comments; encoders write 0.
const MAX_SPEEX_EXTRA: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Vorbis,
    Opus,
    Speex,
    /// FLAC (the Ogg mapping): the header packets end at the block flagged last.
    Flac,
}

impl Codec {
    /// Identifies the stream from its first packet; returns the codec and its header packet count.
    fn identify(packet: &[u8]) -> Result<(Codec, usize)> {
        if packet.starts_with(b"\x01vorbis") {
            Ok((Codec::Vorbis, 3))
        } else if packet.starts_with(b"OpusHead") {
            Ok((Codec::Opus, 2))
        } else if packet.starts_with(b"Speex   ") {
            let extra = packet
                .get(68..72)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| bad!("the Speex header is too short ({} bytes)", packet.len()))?;
            if extra > MAX_SPEEX_EXTRA {
                return Err(bad!(
                    Unsupported,
                    "the Speex header claims {extra} extra header packets"
                ));
            }
            Ok((Codec::Speex, 2 + extra as usize))
        } else if packet.starts_with(b"\x7fFLAC") {
            // How many follow is found as they are read (`flac::want`).
            flac::identify(packet).map(|()| (Codec::Flac, 2))
        } else {
            Err(bad!(
                Unsupported,
                "the Ogg stream is not Vorbis, Opus, Speex or FLAC"
            ))
        }
    }

    /// What precedes the comment block in the comment packet.
    fn comment_magic(self) -> &'static [u8] {
        match self {
            Codec::Vorbis => b"\x03vorbis",
            Codec::Opus => b"OpusTags",
            // The FLAC block header holds the length: `CommentPacket` writes it.
            Codec::Speex | Codec::Flac => b"",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Vorbis => "Vorbis",
            Codec::Opus => "Opus",
            Codec::Speex => "Speex",
            Codec::Flac => "FLAC",
        }
    }
}

/// The header pages of the stream and the packets they carry.
#[derive(Debug)]
pub(super) struct Headers {
    pub codec: Codec,
    /// Every page read, the BOS page first.
    pub pages: Vec<PageHeader>,
    /// The header packets read (all of them, or only the first two for `carriers`).
    pub packets: Vec<Vec<u8>>,
    /// Per packet: index in `pages` of the page it ends on, and whether it is that page's last
    /// segment.
    pub ends: Vec<(usize, bool)>,
}

impl Headers {
    /// Reads pages from the start until `all` header packets (or the first two) are complete,
    /// checking each page's CRC, serial and continuation flag. Never touches audio pages except
    /// a last header page that also carries audio.
    pub fn read(src: &Source, all: bool) -> Result<Headers> {
        let mut h = Headers {
            codec: Codec::Vorbis,
            pages: Vec::new(),
            packets: Vec::new(),
            ends: Vec::new(),
        };
        let mut want = 2;
        let mut partial: Vec<u8> = Vec::new();
        let mut offset = 0u64;
        loop {
            let (page, body) = page::read_page(src, offset)?;
            h.check_page(&page, &partial, want)?;
            h.take_packets(&page, &body, &mut partial, &mut want, all)?;
            offset = page.end();
            if h.packets.len() == want {
                h.pages.push(page);
                return Ok(h);
            }
            // Re-paginating would drop the flag, and nothing valid follows it anyway.
            if page.has(FLAG_EOS) {
                return Err(bad!(
                    Truncated,
                    "the Ogg stream ends (byte {}) inside its headers",
                    page.offset
                ));
            }
            h.pages.push(page);
        }
    }

    /// Refuses a page that does not continue the headers read so far: not the start of the
    /// stream, another stream's page, a wrong continuation flag, or more pages than the packets
    /// could need.
    fn check_page(&self, page: &PageHeader, partial: &[u8], want: usize) -> Result<()> {
        let offset = page.offset;
        match self.pages.first() {
            None if !page.has(FLAG_BOS) => {
                return Err(bad!(
                    "the first Ogg page is not marked as the start of a stream"
                ));
            }
            Some(first) if page.has(FLAG_BOS) || page.serial != first.serial => {
                return Err(bad!(
                    Unsupported,
                    "multiplexed Ogg: a second logical stream starts at byte {offset} before the \
                     headers end; not supported"
                ));
            }
            _ => {}
        }
        if page.has(FLAG_CONTINUED) == partial.is_empty() {
            return Err(bad!(
                "Ogg page at byte {offset} has a wrong continuation flag: the file is corrupt"
            ));
        }
        // Pages that end no packet hold at least 255 bytes of one, so this bounds empty pages.
        let held = self.packets.iter().map(Vec::len).sum::<usize>() / 255 + partial.len() / 255;
        if self.pages.len() > want + held + 4 {
            return Err(bad!(
                "too many Ogg header pages for the header packets they hold"
            ));
        }
        Ok(())
    }

    /// Adds the packets that end on `page` (the start of one that goes on is kept in
    /// `partial`). The first packet names the codec, and so how many header packets to `want`.
    fn take_packets(
        &mut self,
        page: &PageHeader,
        body: &[u8],
        partial: &mut Vec<u8>,
        want: &mut usize,
        all: bool,
    ) -> Result<()> {
        let index = self.pages.len();
        let mut pos = 0usize;
        for (seg, &lace) in page.lacing.iter().enumerate() {
            let bytes = body.get(pos..pos + usize::from(lace)).unwrap_or_default();
            pos += usize::from(lace);
            partial.extend_from_slice(bytes);
            if partial.len() > MAX_PACKET {
                return Err(bad!(
                    Unsupported,
                    "an Ogg header packet is larger than {} MiB",
                    MAX_PACKET >> 20
                ));
            }
            if lace == 255 {
                continue;
            }
            self.packets.push(std::mem::take(partial));
            self.ends.push((index, seg + 1 == page.lacing.len()));
            if self.packets.len() == 1 {
                let (codec, count) = Codec::identify(&self.packets[0])?;
                self.codec = codec;
                *want = if all { count } else { 2 };
            } else if all && self.codec == Codec::Flac {
                *want = flac::want(&self.packets)?;
            }
            if self.packets.len() == *want {
                break;
            }
        }
        Ok(())
    }

    /// The decoded comment packet (packet 1).
    pub fn comments(&self) -> Result<CommentPacket> {
        let packet = self
            .packets
            .get(1)
            .ok_or_else(|| bad!("the Ogg comment header is missing"))?;
        CommentPacket::decode(self.codec, packet)
    }

    /// Checks the layout an edit relies on: the identification packet alone on the BOS page, and
    /// the last header packet ending its page (audio starts on a fresh page). Returns the offsets
    /// where the re-paginated region starts and ends.
    pub fn region(&self) -> Result<(u64, u64)> {
        if self.ends.first() != Some(&(0, true)) {
            return Err(bad!(
                Unsupported,
                "the first Ogg page holds more than the identification header; not supported"
            ));
        }
        if self.codec == Codec::Vorbis
            && !self
                .packets
                .get(2)
                .is_some_and(|p| p.starts_with(b"\x05vorbis"))
        {
            return Err(bad!(
                "the third Vorbis packet is not a setup header: the file is corrupt"
            ));
        }
        match (self.ends.last(), self.pages.first(), self.pages.last()) {
            (Some(&(_, true)), Some(first), Some(last)) if self.pages.len() > 1 => {
                Ok((first.end(), last.end()))
            }
            (Some(&(_, false)), _, Some(last)) => Err(bad!(
                Unsupported,
                "the last Ogg header page (at byte {}) also carries audio data; not supported",
                last.offset
            )),
            _ => Err(bad!("the Ogg header pages are malformed")),
        }
    }
}

/// A comment packet: the comment block plus what follows it (Vorbis: the framing bit; Opus:
/// padding or binary data; Speex: usually nothing, sometimes zero padding from other taggers;
/// FLAC: nothing, the block header before it gives the length).
pub(super) struct CommentPacket {
    codec: Codec,
    pub comments: Comments,
    tail: Vec<u8>,
    /// FLAC: the block's last-block flag, kept.
    flac_flags: u8,
}

impl CommentPacket {
    fn decode(codec: Codec, packet: &[u8]) -> Result<CommentPacket> {
        let (flac_flags, packet) = match codec {
            Codec::Flac => flac::comment_body(packet)?,
            _ => (0, packet),
        };
        let block = packet.strip_prefix(codec.comment_magic()).ok_or_else(|| {
            bad!(
                "the second Ogg packet is not a {} comment header",
                codec.name()
            )
        })?;
        let (comments, used) = Comments::decode(block)?;
        let tail = block.get(used..).unwrap_or_default().to_vec();
        if codec == Codec::Vorbis && tail.first().is_none_or(|b| b & 1 == 0) {
            return Err(bad!(
                "the Vorbis comment header has no framing bit: the file is corrupt"
            ));
        }
        Ok(CommentPacket {
            codec,
            comments,
            tail,
            flac_flags,
        })
    }

    /// Whether the bytes after the comments are padding we may resize. Opus: RFC 7845 §5.2 lets
    /// editors discard them when the first byte's least significant bit is 0. Vorbis: the
    /// framing byte (exactly 0x01) then only zeros; Speex: only zeros. Zeros after the comments
    /// of those two are what mutagen writes as padding by default, and TagLib, ffprobe, mutagen,
    /// ExifTool, kid3-cli and MediaInfo show such files as before (tests/it/containers/
    /// ogg_real.rs). Any other tail is bytes we cannot explain, and is kept exactly.
    pub fn paddable(&self) -> bool {
        match self.codec {
            Codec::Opus => self.tail.first().is_none_or(|b| b & 1 == 0),
            Codec::Vorbis => {
                self.tail.first() == Some(&1) && self.tail[1..].iter().all(|&b| b == 0)
            }
            Codec::Speex => self.tail.iter().all(|&b| b == 0),
            Codec::Flac => false,
        }
    }

    /// The packet with `pad` zero bytes of padding (when paddable) or the original tail.
    /// Fails only for a FLAC block that outgrows its 24-bit length.
    pub fn encode(&self, pad: Option<usize>) -> Result<Vec<u8>> {
        let mut out = self.codec.comment_magic().to_vec();
        out.extend_from_slice(&self.comments.encode());
        match pad {
            Some(n) if self.paddable() => {
                // Vorbis keeps its framing byte before the zeros.
                if self.codec == Codec::Vorbis {
                    out.push(1);
                }
                out.resize(out.len() + n, 0)
            }
            _ => out.extend_from_slice(&self.tail),
        }
        if self.codec == Codec::Flac {
            let head = flac::block_header(self.flac_flags, flac::VORBIS_COMMENT, out.len())?;
            out.splice(0..0, head);
        }
        Ok(out)
    }
}
