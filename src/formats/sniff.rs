//! Decides the container family from the first bytes of a file, never from its extension, and
//! names what a non-audio file looks like so the error is useful ("a JPEG image named .m4a").

use super::{Container, Result, Source, id3v2, mpeg_sync};
use crate::bad;

/// How many bytes the decision needs (after an ID3v2 prefix).
const PEEK: u64 = 64;
/// Stacked ID3v2 tags we look through before giving up.
pub const MAX_STACKED_TAGS: usize = 8;

/// The container of `src`, or an error naming what the content looks like.
pub fn container(src: &Source) -> Result<Container> {
    if src.is_empty() {
        return Err(bad!(Truncated, "empty file (0 bytes)"));
    }
    let head = src.read_upto(0, PEEK)?;
    if head.starts_with(b"ID3") {
        let skip = id3_chain_len(src)?;
        if skip == src.len() {
            return Err(bad!(
                Truncated,
                "the file is only an ID3v2 tag ({skip} bytes): there is no audio after it"
            ));
        }
        if skip > src.len() {
            return Err(bad!(
                Truncated,
                "truncated: the ID3v2 tag claims {skip} bytes, the file has {}",
                src.len()
            ));
        }
        let after = src.read_upto(skip, PEEK)?;
        if let Some(c) = apev2_family(&after) {
            return Ok(c);
        }
        return match after.get(..4) {
            Some(b"fLaC") => Ok(Container::Flac),
            _ if is_mpeg_sync(&after) => Ok(Container::Mpeg),
            // Zero padding outside the declared size is common; audio follows somewhere after.
            _ if after.first() == Some(&0) || after.is_empty() => Ok(Container::Mpeg),
            // Junk between the tag and the first frame: kept as it is, as mutagen does.
            _ if mpeg_sync::first_frame(src, skip)?.is_some() => Ok(Container::Mpeg),
            _ => Err(bad!(
                "an ID3v2 tag followed by {} (no MPEG audio frames in the next {} KiB)",
                describe(&after),
                mpeg_sync::SEARCH_LIMIT >> 10
            )),
        };
    }
    if let Some(c) = by_magic(&head, src)? {
        return Ok(c);
    }
    let looks_like = describe(&head);
    // Junk before the first frame of an untagged MP3; never for content we can name.
    if matches!(looks_like, "unknown data" | "text") && mpeg_sync::first_frame(src, 0)?.is_some() {
        return Ok(Container::Mpeg);
    }
    Err(bad!(
        Unsupported,
        "not a supported audio file: content looks like {looks_like}"
    ))
}

/// The length of the ID3v2 tags at the start of the file (some taggers stack a second one).
fn id3_chain_len(src: &Source) -> Result<u64> {
    let mut pos = 0;
    for _ in 0..MAX_STACKED_TAGS {
        match id3v2::region_len(src, pos)? {
            Some(n) => pos += n,
            None => break,
        }
    }
    Ok(pos)
}

fn by_magic(head: &[u8], src: &Source) -> Result<Option<Container>> {
    let at = |o: usize, m: &[u8]| head.get(o..o + m.len()) == Some(m);
    Ok(Some(if at(0, b"fLaC") {
        Container::Flac
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Container::Wav
    } else if (at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE") {
        Container::Rf64
    } else if at(0, b"DSD ") && at(28, b"fmt ") {
        Container::Dsf
    } else if at(0, b"FRM8") && at(12, b"DSD ") {
        Container::Dsdiff
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Container::Aiff
    } else if at(0, &super::asf::HEADER) {
        Container::Asf
    } else if at(4, b"ftyp") {
        Container::Mp4
    } else if super::mkv::is_ebml(head) {
        Container::Matroska
    } else if at(0, b"OggS") {
        return ogg_codec(head, src).map(Some);
    } else if is_mpeg_sync(head) {
        Container::Mpeg
    } else if let Some(c) = apev2_family(head) {
        c
    } else {
        return Ok(None);
    }))
}

/// WavPack, Monkey's Audio, Musepack (SV7, SV8) and TTA by their first block's signature (with
/// Monkey's version number and Musepack SV7's stream version, so text starting `MAC ` or `MP+`
/// stays text).
fn apev2_family(b: &[u8]) -> Option<Container> {
    let at = |m: &[u8]| b.starts_with(m);
    let mac_version = b.get(4..6).map(|v| u16::from_le_bytes([v[0], v[1]]));
    if at(b"wvpk") {
        Some(Container::WavPack)
    } else if at(b"MAC ") && mac_version.is_some_and(|v| (1000..10000).contains(&v)) {
        Some(Container::MonkeysAudio)
    } else if (at(b"MP+") && b.get(3).is_some_and(|v| v & 0x0F >= 7)) || at(b"MPCK") {
        Some(Container::Musepack)
    } else if at(b"TTA1") {
        Some(Container::Tta)
    } else {
        None
    }
}

/// The codec of the first logical stream, from the first packet of the BOS page.
fn ogg_codec(head: &[u8], src: &Source) -> Result<Container> {
    let segments = *head
        .get(26)
        .ok_or_else(|| bad!(Truncated, "truncated Ogg page"))? as u64;
    let packet = src.read_upto(27 + segments, 16)?;
    let is = |m: &[u8]| packet.starts_with(m);
    if is(b"\x01vorbis") {
        Ok(Container::OggVorbis)
    } else if is(b"OpusHead") {
        Ok(Container::OggOpus)
    } else if is(b"Speex   ") {
        Ok(Container::OggSpeex)
    } else if is(b"\x7fFLAC") {
        Ok(Container::OggFlac)
    } else {
        Err(bad!(Unsupported, "unsupported Ogg codec"))
    }
}

/// An MPEG audio frame header (MP3 layer I–III or AAC ADTS) at the start of `b`.
fn is_mpeg_sync(b: &[u8]) -> bool {
    match b {
        [0xFF, b1, b2, ..] if b1 & 0xE0 == 0xE0 => {
            let version = (b1 >> 3) & 3;
            let layer = (b1 >> 1) & 3;
            if layer == 0 {
                // ADTS (AAC): version bits 0/2 only, sampling index < 13.
                return version & 1 == 0 && (b2 >> 2) & 0xF < 13;
            }
            let bitrate = b2 >> 4;
            let rate = (b2 >> 2) & 3;
            version != 1 && bitrate != 15 && rate != 3
        }
        _ => false,
    }
}

/// A short description of non-audio content for error messages.
fn describe(b: &[u8]) -> &'static str {
    let at = |m: &[u8]| b.starts_with(m);
    if at(&[0x00, 0x05, 0x16, 0x07]) {
        "an AppleDouble resource fork (macOS `._` file)"
    } else if at(&[0xFF, 0xD8, 0xFF]) {
        "a JPEG image"
    } else if at(b"\x89PNG") {
        "a PNG image"
    } else if at(b"%PDF") {
        "a PDF document"
    } else if at(b"PK\x03\x04") {
        "a ZIP archive"
    } else if at(b"MAC ") {
        "Monkey's Audio (APE), which is not supported"
    } else if at(b"wvpk") {
        "WavPack, which is not supported"
    } else if !b.is_empty()
        && b.iter().all(|&c| {
            c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7F).contains(&c) || c >= 0x80
        })
    {
        "text"
    } else {
        "unknown data"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sniff(bytes: &[u8]) -> Result<Container> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        container(&Source::new(&f, bytes.len() as u64))
    }

    #[test]
    fn content_decides() {
        assert_eq!(sniff(b"fLaC\0\0\0\x22").unwrap(), Container::Flac);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap(), Container::Wav);
        assert_eq!(sniff(b"FORM\0\0\0\0AIFCFVER").unwrap(), Container::Aiff);
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A ").unwrap(), Container::Mp4);
        assert_eq!(sniff(b"wvpk\0\0\0\0").unwrap(), Container::WavPack);
        assert_eq!(sniff(b"MAC \x96\x0f\0\0").unwrap(), Container::MonkeysAudio);
        assert_eq!(sniff(b"MP+\x17\0\0\0\0").unwrap(), Container::Musepack);
        assert_eq!(sniff(b"MPCKSH\0\0").unwrap(), Container::Musepack);
        assert_eq!(sniff(b"TTA1\x01\0\x02\0").unwrap(), Container::Tta);
        assert!(sniff(b"MAC address list").is_err());
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]).unwrap(), Container::Mpeg);
        let mut id3flac = b"ID3\x03\0\0\0\0\0\x02\0\0".to_vec();
        id3flac.extend_from_slice(b"fLaC");
        assert_eq!(sniff(&id3flac).unwrap(), Container::Flac);
    }

    #[test]
    fn non_audio_is_named() {
        assert!(sniff(b"").unwrap_err().to_string().contains("empty"));
        assert!(
            sniff(b"hello, world\n")
                .unwrap_err()
                .to_string()
                .contains("text")
        );
        assert!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0])
                .unwrap_err()
                .to_string()
                .contains("JPEG")
        );
        assert!(
            sniff(&[0, 5, 0x16, 7, 0, 2])
                .unwrap_err()
                .to_string()
                .contains("AppleDouble")
        );
        assert!(
            sniff(b"ID3\x03\0\0\x7f\x7f\x7f\x7f")
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
    }
}
