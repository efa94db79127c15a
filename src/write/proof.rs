//! The independent proof that a write keeps everything but our fields. Our planners parse and
//! rebuild the metadata themselves, so they cannot vouch for their own blind spots; before the
//! user's file is touched, parsers we did not write read the old and the new version and every
//! item other than ours must be equal:
//! - `lofty` for Vorbis comments and pictures (FLAC, Ogg), MP4 `ilst` atoms, RIFF INFO, AIFF
//!   text chunks, ID3v1 and APE;
//! - the `id3` crate (`id3v2::cross_check`) for the ID3v2 tag of MPEG, WAV and AIFF;
//! - a tiny walker of our own, sharing no code with the planners, for the FLAC blocks lofty does
//!   not expose and for locating the ID3v2 tag bytes and the XMP packet;
//! - for Ogg FLAC, which lofty does not read, a tiny Ogg page walker of our own (`oggflac`) that
//!   hands lofty and the FLAC block walker the metadata blocks as native FLAC;
//! - for RF64/BW64, DSF and DSDIFF, which lofty does not read, another such walker
//!   (`chunked`) lists every chunk but the tag's and compares them;
//! - `webm-iterable` for Matroska/WebM (`mkv`): every element but our SimpleTags;
//! - `quick-xml` for the XMP packet: everything in it but our properties must still be there.
//!
//! In place, the new version is a virtual view (the original with the planned regions laid over
//! it, see `overlay`); for a rewrite it is the finished temp file. A file whose old tags lofty
//! cannot read at all is refused: nothing proves what the write would keep.

mod apev2;
mod asf;
mod chunked;
#[cfg(debug_assertions)]
mod fault;
mod items;
mod mkv;
mod ogg_pages;
mod oggflac;
/// The proof's Ogg CRC (`crc32fast`): the planner's (`crc-fast`) is tested against it.
#[cfg(test)]
pub(crate) use oggflac::crc as ogg_crc;
mod raw;
pub(super) mod signed;
mod xmp;

#[cfg(debug_assertions)]
pub use fault::test_fault;
pub use oggflac::native as ogg_flac_metadata;

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use lofty::config::ParsingMode;

use super::Target;
use super::overlay::Overlay;
use crate::bad;
use crate::error::FileError;
use crate::formats::{Region, Result, Source, carry, id3v2};
use crate::model::{Container, Edit};
use items::Item;

/// The view of the file after an in-place write must keep every item of the original. `keep`:
/// how much of the original stays under the regions (less than its size for a cut).
pub fn in_place(t: &Target, regions: &[Region], keep: u64, edit: &Edit) -> Result<()> {
    let old = Overlay::plain(t.file, t.snapshot.size);
    let mut new = Overlay::new(t.file, keep, regions);
    // Only the pages up to the last written byte change.
    let written = (regions.iter().map(|r| r.offset + r.bytes.len() as u64)).max();
    check_pages(t.container, &mut new, written.unwrap_or(0))?;
    let base = Baseline {
        old: Source::new(t.file, t.snapshot.size),
        new: None,
    };
    prove(t.container, old, new, edit, &base).map_err(FileError::in_check)
}

/// In an Ogg container, every page of the new version `view` that starts before `upto` must
/// carry a right checksum (`ogg_pages`). (The steps after it seek where they read.)
fn check_pages(container: Container, view: &mut Overlay, upto: u64) -> Result<()> {
    let ogg = matches!(
        container,
        Container::OggVorbis | Container::OggOpus | Container::OggSpeex | Container::OggFlac
    );
    if !ogg {
        return Ok(());
    }
    let len = view.len();
    ogg_pages::check(view, len, upto).map_err(FileError::in_check)
}

/// The finished temp file of a rewrite (`len` bytes) must keep every item of the original.
/// From `original_from` to its end it is the original's own blocks (`extents::tail`; `len`
/// when not).
pub fn rewrite(t: &Target, out: &File, len: u64, edit: &Edit, original_from: u64) -> Result<()> {
    let old = Overlay::plain(t.file, t.snapshot.size);
    let mut new = Overlay::plain(out, len);
    // A rewrite that renumbers the audio pages recomputes their checksums: all of them are
    // checked. Pages on the original's blocks are the original's bytes, as after an in-place
    // write.
    check_pages(t.container, &mut new, original_from)?;
    let base = Baseline {
        old: Source::new(t.file, t.snapshot.size),
        new: Some(Source::new(out, len)),
    };
    prove(t.container, old, new, edit, &base).map_err(FileError::in_check)
}

/// Where a version without an ID3v2 tag finds what stands in for it: the tag `tag` would carry
/// over from its older tags (ID3v1, APEv2, RIFF INFO, AIFF text). An in-place write never
/// removes a tag, so only a rewrite has a new version to ask.
struct Baseline<'a> {
    old: Source<'a>,
    new: Option<Source<'a>>,
}

impl Baseline<'_> {
    fn tag(src: Option<&Source>, container: Container) -> Result<Vec<u8>> {
        let base = match src {
            Some(s) => carry::baseline_tag(s, container)?,
            None => None,
        };
        Ok(base.unwrap_or_else(|| raw::EMPTY_TAG.to_vec()))
    }
}

type View<'a> = Overlay<'a>;

fn prove(
    container: Container,
    mut old: Overlay,
    mut new: Overlay,
    edit: &Edit,
    base: &Baseline,
) -> Result<()> {
    if container == Container::OggFlac {
        return oggflac::prove(&mut old, &mut new, edit);
    }
    if container == Container::Asf {
        return asf::prove(&mut old, &mut new, edit);
    }
    if container == Container::Matroska {
        // lofty does not read Matroska: webm-iterable proves it (proof/mkv.rs).
        let same = old.unchanged_with(&new);
        return mkv::prove(&mut old, &mut new, edit, same.as_ref());
    }
    let tags = id3_tags(container, &mut old, &mut new, edit, base)?;
    // lofty reads an MPEG file's ID3v1 and APE tags (its ID3v2 is the id3 crate's): with
    // neither signature at the end of either version there is nothing for it to compare.
    // It reads them from the end of the file, after the ID3v2 tag, which it is not shown: the
    // id3 crate has proven it, and a second parse of its cover art would cost more than the rest.
    let mpeg_tail = |r: &mut View| raw::has_tail_tags(r).unwrap_or(true);
    if is_chunked(container) {
        let walk = |r: &mut View, which: &str| {
            chunked::items(container, r).map_err(|e| {
                bad!(
                    Refused,
                    "internal check: cannot walk the {which} {} chunks ({e}); not written",
                    container.name()
                )
            })
        };
        compare(&walk(&mut old, "old")?, &walk(&mut new, "new")?)?;
    } else if lofty_proves(container) {
        let (was, now) = lofty_items(container, &mut old, &mut new, edit)?;
        compare(&was, &now)?;
    } else if mpeg_tail(&mut old) || mpeg_tail(&mut new) {
        let skip = |t: &Option<Vec<u8>>| t.as_ref().map_or(0, |t| t.len() as u64);
        let mut old = Shifted::new(&mut old, skip(&tags.0)).map_err(shift_err)?;
        let mut new = Shifted::new(&mut new, skip(&tags.1)).map_err(shift_err)?;
        let (was, now) = lofty_items(container, &mut old, &mut new, edit)?;
        compare(&was, &now)?;
    }
    if container == Container::Flac {
        let blocks = |r: &mut View, which: &str| {
            raw::flac_blocks(r).map_err(|e| {
                bad!(
                    Refused,
                    "internal check: cannot walk the {which} FLAC blocks ({e}); not written"
                )
            })
        };
        compare(&blocks(&mut old, "old")?, &blocks(&mut new, "new")?)?;
    }
    if container.has_xmp() {
        xmp::packet(container, &mut old, &mut new, tags)?;
    }
    Ok(())
}

/// The ID3v2 tag, through the `id3` crate: at the head of an MPEG file, in the ID3 chunk of a
/// WAV/AIFF file. A missing tag compares as the one its older tags would give (see `Baseline`),
/// so a new tag may hold only those copies and our frames. Returns the MPEG head tags (old, new)
/// for the XMP check.
fn id3_tags(
    container: Container,
    old: &mut View,
    new: &mut View,
    edit: &Edit,
    base: &Baseline,
) -> Result<Tags> {
    let find = |r: &mut View| match container {
        Container::Mpeg => raw::head_tag(r),
        Container::Wav | Container::Aiff => raw::chunk_tag(r),
        c if is_chunked(c) => chunked::tag(c, r),
        _ => Ok(None),
    };
    if container.has_apev2() {
        return apev2::head_tag(container, old, new, edit).map(|()| (None, None));
    }
    if !matches!(
        container,
        Container::Mpeg | Container::Wav | Container::Aiff
    ) && !is_chunked(container)
    {
        return Ok((None, None));
    }
    let io = |e: std::io::Error| {
        bad!(
            Refused,
            "internal check: cannot read the ID3v2 tag ({e}); not written"
        )
    };
    let was = find(old).map_err(io)?;
    let now = find(new).map_err(io)?;
    id3v2::cross_check(
        &stand_in(&was, Some(&base.old), container)?,
        &stand_in(&now, base.new.as_ref(), container)?,
        edit,
    )?;
    Ok((was, now))
}

/// A version's ID3v2 tag, or what stands in for a missing one.
fn stand_in<'a>(
    tag: &'a Option<Vec<u8>>,
    src: Option<&Source>,
    container: Container,
) -> Result<Cow<'a, [u8]>> {
    Ok(match tag {
        Some(t) => Cow::Borrowed(t.as_slice()),
        None => Cow::Owned(Baseline::tag(src, container)?),
    })
}

/// RF64/BW64, DSF and DSDIFF: proven by the `chunked` walker and the `id3` crate, not lofty.
fn is_chunked(c: Container) -> bool {
    matches!(c, Container::Rf64 | Container::Dsf | Container::Dsdiff)
}

/// The ID3v2 tags of the old and new version, as found by `id3_tags`.
type Tags = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The lofty items of both versions. Strict parsing first; for the containers whose ID3v2 tag
/// the `id3` crate has already proven, a tag lofty's strict mode rejects (an odd frame) is read
/// again leniently, for both versions alike, so ID3v1/APE/INFO are still compared.
fn lofty_items<A: Read + Seek, B: Read + Seek>(
    container: Container,
    old: &mut A,
    new: &mut B,
    edit: &Edit,
) -> Result<(Vec<Item>, Vec<Item>)> {
    let (mode, was) = lofty_old(container, old, edit)?;
    let now = items::read(container, new, mode, edit).map_err(|e| {
        bad!(
            Refused,
            "internal check: the new file's tags do not read back in lofty ({e}); not written"
        )
    })?;
    Ok((was, now))
}

/// The old version's lofty items, and the parsing mode that read them (the new version is read
/// the same way).
fn lofty_old<A: Read + Seek>(
    container: Container,
    old: &mut A,
    edit: &Edit,
) -> Result<(ParsingMode, Vec<Item>)> {
    let read = |r: &mut A, mode| items::read(container, r, mode, edit);
    let lenient = matches!(
        container,
        Container::Mpeg | Container::Wav | Container::Aiff
    ) || container.has_apev2();
    match read(old, ParsingMode::Strict) {
        Ok(was) => Ok((ParsingMode::Strict, was)),
        Err(_) if lenient => match read(old, ParsingMode::BestAttempt) {
            Ok(was) => Ok((ParsingMode::BestAttempt, was)),
            Err(e) => Err(unreadable(container, e)),
        },
        Err(e) => Err(unreadable(container, e)),
    }
}

/// What a dry run can learn of the proof before there is a new version: where the proof reads
/// the tags with lofty, lofty must read the old version's, or no write of the file can be
/// proven and `tag` refuses it. (An MPEG file is read by lofty only for its ID3v1 or APE tag.)
pub fn old_readable(container: Container, file: &File, len: u64, edit: &Edit) -> Result<()> {
    if lofty_proves(container) {
        lofty_old(container, &mut Overlay::plain(file, len), edit)?;
    }
    Ok(())
}

/// The containers whose items `prove` compares with lofty, whole: not those with a proof of
/// their own (Ogg FLAC, ASF, Matroska), nor the chunked ones (their walker), nor MPEG (the `id3`
/// crate; lofty only for a tail tag).
fn lofty_proves(container: Container) -> bool {
    !is_chunked(container)
        && !matches!(
            container,
            Container::Mpeg | Container::OggFlac | Container::Asf | Container::Matroska
        )
}

fn shift_err(e: std::io::Error) -> FileError {
    bad!(
        Refused,
        "internal check: cannot read past the ID3v2 tag ({e}); not written"
    )
}

/// A reader that starts `start` bytes into another: the file as if its head were not there.
struct Shifted<R> {
    inner: R,
    start: u64,
}

impl<R: Read + Seek> Shifted<R> {
    fn new(mut inner: R, start: u64) -> std::io::Result<Shifted<R>> {
        inner.seek(SeekFrom::Start(start))?;
        Ok(Shifted { inner, start })
    }
}

impl<R: Read> Read for Shifted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Shifted<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let to = match to {
            SeekFrom::Start(p) => SeekFrom::Start(self.start + p),
            other => other,
        };
        let at = self.inner.seek(to)?;
        at.checked_sub(self.start).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })
    }
}

fn unreadable(container: Container, e: String) -> FileError {
    bad!(
        Refused,
        "the independent check (lofty) cannot read this {} file's tags ({e}), so nothing proves a write would keep them; not written",
        container.name()
    )
}

/// Item by item, in order: the first difference is named.
fn compare(was: &[Item], now: &[Item]) -> Result<()> {
    for i in 0..was.len().max(now.len()) {
        let what = match (was.get(i), now.get(i)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) if a.name == b.name => format!("would change the {}", a.name),
            (Some(a), _) => format!("would drop or move the {}", a.name),
            (None, Some(b)) => format!("would add the {}", b.name),
            (None, None) => unreachable!("the loop stops at the longer list"),
        };
        return Err(bad!(
            Refused,
            "internal check: the write {what}; not written"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "proof_tests.rs"]
mod tests;
