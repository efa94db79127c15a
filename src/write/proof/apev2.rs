//! lofty's reading of the APEv2 family (WavPack, Monkey's Audio, Musepack, TTA) for the proof:
//! the ID3v1 tag and every APE item but ours. lofty has no TTA reader; its WavPack reader, with
//! audio properties off, reads only the file's tail (ID3v1, Lyrics3v2, APE) and never its
//! first block, so it reads a TTA file's tail tags just as well. The head ID3v2 tag is the `id3`
//! crate's to prove (`proof::id3_tags`).

use std::io::{Read, Seek, SeekFrom};

use lofty::ape::{ApeFile, ApeTag};
use lofty::config::ParseOptions;
use lofty::error::FileParseError;
use lofty::file::AudioFile;
use lofty::id3::v1::Id3v1Tag;
use lofty::musepack::MpcFile;
use lofty::tag::ItemValue;
use lofty::wavpack::WavPackFile;

use super::items::{Item, ours};
use super::raw;
use crate::bad;
use crate::formats::{Result, id3v2};
use crate::model::{Container, Edit};

/// The head ID3v2 tag (the `id3` crate's reading, `id3v2::cross_check`): unchanged, except in a
/// TTA file with no APE tag, where ours go into it. A head tag must neither appear nor vanish.
pub fn head_tag<A: Read + Seek, B: Read + Seek>(
    container: Container,
    old: &mut A,
    new: &mut B,
    edit: &Edit,
) -> Result<()> {
    let io = |e: std::io::Error| {
        bad!(
            Refused,
            "internal check: cannot read the ID3v2 tag ({e}); not written"
        )
    };
    let was = raw::head_tag(old).map_err(io)?;
    let now = raw::head_tag(new).map_err(io)?;
    match (was, now) {
        (None, None) => Ok(()),
        (Some(was), Some(now)) => {
            let ours = container == Container::Tta && !ends_in_ape(old).map_err(io)?;
            let none = Edit::default();
            id3v2::cross_check(&was, &now, if ours { edit } else { &none })
        }
        _ => Err(bad!(
            Refused,
            "internal check: the write would add or remove the ID3v2 tag at the head; not written"
        )),
    }
}

/// True when an APE footer ends the file or stands just before an ID3v1 tag.
fn ends_in_ape<R: Read + Seek>(r: &mut R) -> std::io::Result<bool> {
    let len = r.seek(SeekFrom::End(0))?;
    let mut at = |off: u64, n: usize| -> std::io::Result<Vec<u8>> {
        let mut b = vec![0; n];
        if off + n as u64 > len {
            return Ok(Vec::new());
        }
        r.seek(SeekFrom::Start(off))?;
        r.read_exact(&mut b)?;
        Ok(b)
    };
    let v1 = len >= 128 && at(len - 128, 3)? == b"TAG";
    let end = len - if v1 { 128 } else { 0 };
    Ok(end >= 32 && at(end - 32, 8)? == b"APETAGEX")
}

/// The tail items of `r`, a file of `container` (one of the four).
pub fn read_into<R: Read + Seek>(
    container: Container,
    r: &mut R,
    opts: ParseOptions,
    edit: &Edit,
    out: &mut Vec<Item>,
) -> std::result::Result<(), FileParseError> {
    let (v1, ape) = match container {
        Container::MonkeysAudio => {
            let f = ApeFile::read_from(r, opts)?;
            (f.id3v1().cloned(), f.ape().cloned())
        }
        Container::Musepack => {
            let f = MpcFile::read_from(r, opts)?;
            (f.id3v1().cloned(), f.ape().cloned())
        }
        _ => {
            let f = WavPackFile::read_from(r, opts)?;
            (f.id3v1().cloned(), f.ape().cloned())
        }
    };
    push(v1, ape, edit, out);
    Ok(())
}

fn push(v1: Option<Id3v1Tag>, ape: Option<ApeTag>, edit: &Edit, out: &mut Vec<Item>) {
    if let Some(ape) = ape {
        // A tag that holds only ours may come and go; a read-only one is never written.
        if ape.read_only {
            out.push(item("APE tag read-only flag", "true"));
        }
        for i in &ape {
            let text = matches!(i.value(), ItemValue::Text(_));
            if text && ours(edit, i.key()) {
                continue;
            }
            let value = match i.value() {
                ItemValue::Binary(b) => b.clone(),
                other => format!("{other:?}|{}", i.read_only).into_bytes(),
            };
            out.push(item(format!("APE item {}", i.key()), value));
        }
    }
    if let Some(v1) = v1 {
        out.push(item("ID3v1 tag", format!("{v1:?}")));
    }
}

fn item(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Item {
    Item {
        name: name.into(),
        value: value.into(),
    }
}
