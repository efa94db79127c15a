//! The top level of a Matroska/WebM file: the EBML header (its DocType must be `matroska` or
//! `webm`), the one Segment, and the Segment's level-1 elements (SeekHead, Info, Tracks, Tags,
//! Clusters, Cues, Void...) found by walking their headers, so Clusters are skipped, never read.
//! Also the audio-only rule: a file with a video track is refused.

use std::ops::Range;

use super::ebml::{self, Header};
use crate::bad;
use crate::formats::{Result, Source};

/// The most a small master element (EBML header, Tracks, Tags, SeekHead) may hold before we
/// refuse to read it whole: far above any real one.
pub const MAX_MASTER: u64 = 64 << 20;

/// What the walk found.
#[derive(Debug, Clone)]
pub struct Layout {
    pub segment: Header,
    /// The end of the Segment's data: its declared end, or the end of the file for an unknown
    /// size.
    pub end: u64,
    /// The level-1 elements, in order.
    pub kids: Vec<Header>,
    /// The walk stopped at a level-1 element of unknown size (a live stream's Cluster): what
    /// follows it is not known.
    pub open: bool,
}

impl Layout {
    /// Where the Segment's data starts: SeekHead and Cues positions count from here.
    pub fn data(&self) -> u64 {
        self.segment.body()
    }

    /// Level-1 elements with `id`.
    pub fn all(&self, id: u32) -> impl Iterator<Item = &Header> {
        self.kids.iter().filter(move |k| k.id == id)
    }

    /// Where the first Cluster starts (the end of the Segment when there is none).
    pub fn first_cluster(&self) -> u64 {
        self.all(ebml::CLUSTER).next().map_or(self.end, |c| c.start)
    }

    /// `kids[i]` and the `Void` elements right after it: the room an edit of it may use.
    pub fn span(&self, i: usize) -> Range<u64> {
        let start = self.kids[i].start;
        let mut end = self.kids[i].end();
        for k in self.kids[i + 1..].iter().take_while(|k| k.id == ebml::VOID) {
            end = k.end();
        }
        start..end
    }

    /// Nothing follows the Segment and its size is known: it can grow at the end of the file.
    pub fn can_append(&self, file_len: u64) -> bool {
        self.segment.size.is_some() && !self.open && self.end == file_len
    }
}

/// The header of the element at `pos` of the file.
pub fn header_at(src: &Source, pos: u64) -> Result<Header> {
    ebml::parse(&src.read_upto(pos, ebml::MAX_HEADER)?, pos)
}

/// The data of `h`, read whole (only for small masters).
pub fn read_data(src: &Source, h: &Header, what: &str) -> Result<Vec<u8>> {
    let size = h.size.unwrap_or(0);
    if size > MAX_MASTER {
        return Err(bad!(
            Unsupported,
            "Matroska {what} element at byte {} claims {size} bytes: too large to be real",
            h.start
        ));
    }
    src.read(h.body(), size, &format!("Matroska {what} element"))
}

/// True when the file starts with an EBML header (any DocType).
pub fn is_ebml(head: &[u8]) -> bool {
    head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}

/// The DocType of the EBML header at the start of the file.
pub fn doc_type(src: &Source) -> Result<(Header, String)> {
    let h = header_at(src, 0)?;
    if h.id != ebml::EBML || h.size.is_none() {
        return Err(bad!("corrupt Matroska: no EBML header"));
    }
    let buf = read_data(src, &h, "EBML header")?;
    let doc = ebml::children(&buf, h.body())?
        .iter()
        .find(|k| k.id == ebml::DOC_TYPE)
        .and_then(|k| ebml::text(ebml::data(&buf, h.body(), k)))
        .unwrap_or_else(|| "matroska".into());
    Ok((h, doc))
}

/// Walks the file down to the Segment's level-1 elements.
pub fn walk(src: &Source) -> Result<Layout> {
    let (ebml_head, doc) = doc_type(src)?;
    if doc != "matroska" && doc != "webm" {
        return Err(bad!(
            Unsupported,
            "EBML file of DocType '{doc}' is not Matroska or WebM"
        ));
    }
    // Void elements may stand between the EBML header and the Segment.
    let mut pos = ebml_head.end();
    let segment = loop {
        let h = header_at(src, pos)?;
        match (h.id, h.size) {
            (ebml::SEGMENT, _) => break h,
            (ebml::VOID, Some(_)) => pos = h.end(),
            _ => {
                return Err(bad!(
                    "corrupt Matroska: element {:#x} at byte {pos} where the Segment should start",
                    h.id
                ));
            }
        }
    };
    let end = match segment.size {
        Some(_) if segment.end() > src.len() => {
            return Err(bad!(
                Truncated,
                "truncated Matroska: the Segment needs bytes up to {} but the file has {}",
                segment.end(),
                src.len()
            ));
        }
        Some(_) => segment.end(),
        None => src.len(),
    };
    let mut kids = Vec::new();
    let mut pos = segment.body();
    while pos < end {
        let h = header_at(src, pos)?;
        if h.id == ebml::SEGMENT || h.id == ebml::EBML {
            return Err(bad!(
                Unsupported,
                "Matroska file with more than one Segment (chained streams) is not supported"
            ));
        }
        kids.push(h);
        if h.size.is_none() {
            return Ok(Layout {
                segment,
                end,
                kids,
                open: true,
            });
        }
        if h.end() > end {
            return Err(bad!(
                Truncated,
                "truncated Matroska: element {:#x} at byte {pos} needs bytes up to {} but the Segment ends at {end}",
                h.id,
                h.end()
            ));
        }
        pos = h.end();
    }
    Ok(Layout {
        segment,
        end,
        kids,
        open: false,
    })
}

/// Refuses a file with a video track: `noai` reserves audio, and a Matroska video is not that.
/// A still picture is not video: ffmpeg stores a cover (an attached picture) as a one-frame
/// track of codec `V_MJPEG`, or `V_MS/VFW/FOURCC` with compression `MPNG`/`MJPG`.
pub fn audio_only(src: &Source, lay: &Layout) -> Result<()> {
    for tracks in lay.all(ebml::TRACKS) {
        let buf = read_data(src, tracks, "Tracks")?;
        for entry in ebml::children(&buf, tracks.body())? {
            if entry.id != ebml::TRACK_ENTRY {
                continue;
            }
            let body = ebml::data(&buf, tracks.body(), &entry);
            let (mut video, mut codec, mut private) = (false, None, &[][..]);
            for k in ebml::children(body, entry.body())? {
                let d = ebml::data(body, entry.body(), &k);
                match k.id {
                    ebml::TRACK_TYPE => video = ebml::uint(d) == Some(1),
                    ebml::CODEC_ID => codec = ebml::text(d),
                    ebml::CODEC_PRIVATE => private = d,
                    _ => {}
                }
            }
            if video && !is_picture(codec.as_deref(), private) {
                return Err(bad!(
                    Unsupported,
                    "Matroska/WebM file with a video track ({}): noai tags audio-only files (.mka, audio .webm)",
                    codec.as_deref().unwrap_or("no codec")
                ));
            }
        }
    }
    Ok(())
}

/// A video track that is a cover picture as ffmpeg writes one.
fn is_picture(codec: Option<&str>, private: &[u8]) -> bool {
    // The compression field of the BITMAPINFOHEADER that `V_MS/VFW/FOURCC` carries.
    let fourcc = private.get(16..20);
    match codec {
        Some("V_MJPEG") => true,
        Some("V_MS/VFW/FOURCC") => matches!(fourcc, Some(b"MPNG" | b"MJPG")),
        _ => false,
    }
}
