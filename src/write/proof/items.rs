//! The metadata items of a file as `lofty` reads them, flattened to named values so the old and
//! new versions can be compared item by item: Vorbis comments and pictures (FLAC, Ogg), MP4
//! `ilst` atoms, RIFF INFO, AIFF text chunks, ID3v1 and APE (MPEG). Our own fields are left out
//! here, so everything returned must survive a write unchanged.

use std::io::{Read, Seek};

use lofty::config::{GlobalOptions, ParseOptions, ParsingMode, apply_global_options};
use lofty::error::FileParseError;
use lofty::file::AudioFile;
use lofty::flac::FlacFile;
use lofty::iff::aiff::AiffFile;
use lofty::iff::wav::WavFile;
use lofty::mp4::{AtomData, AtomIdent, Mp4File};
use lofty::mpeg::MpegFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OggPictureStorage, OpusFile, SpeexFile, VorbisFile};
use lofty::picture::{Picture, PictureInformation};

use crate::model::{Container, Edit};

/// lofty's per-allocation cap (thread-local, 16 MiB by default): cover art above it would make
/// the file unreadable to the proof, and so refused. Raised so real covers fit; still bounded.
const ALLOCATION_LIMIT: usize = 128 << 20;

/// One item: a name for the error message and its value as bytes (text, or picture data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub value: Vec<u8>,
}

fn item(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Item {
    Item {
        name: name.into(),
        value: value.into(),
    }
}

/// True when the edit owns this key: it removes or sets it (ASCII case-insensitive).
pub fn ours(edit: &Edit, key: &str) -> bool {
    edit.removes(key) || edit.set.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// Every item of the file other than ours, in file order. `r` must be at the start.
pub fn read<R: Read + Seek>(
    container: Container,
    r: &mut R,
    mode: ParsingMode,
    edit: &Edit,
) -> Result<Vec<Item>, String> {
    apply_global_options(GlobalOptions::new().allocation_limit(ALLOCATION_LIMIT));
    let opts = ParseOptions::new()
        .read_properties(false)
        .parsing_mode(mode)
        .implicit_conversions(false)
        .read_cover_art(true);
    let mut out = Vec::new();
    r.rewind().map_err(|e| e.to_string())?;
    read_into(container, r, opts, edit, &mut out).map_err(|e| chain(&e))?;
    Ok(out)
}

fn read_into<R: Read + Seek>(
    container: Container,
    r: &mut R,
    opts: ParseOptions,
    edit: &Edit,
    out: &mut Vec<Item>,
) -> Result<(), FileParseError> {
    match container {
        // For Ogg FLAC, `r` is the native FLAC view of its header packets (`oggflac`).
        Container::Flac | Container::OggFlac => {
            let f = FlacFile::read_from(r, opts)?;
            if let Some(vc) = f.vorbis_comments() {
                vorbis(vc, edit, out);
            }
            pictures("FLAC PICTURE block", f.pictures(), out);
        }
        Container::OggVorbis => {
            vorbis(VorbisFile::read_from(r, opts)?.vorbis_comments(), edit, out)
        }
        Container::OggOpus => vorbis(OpusFile::read_from(r, opts)?.vorbis_comments(), edit, out),
        Container::OggSpeex => vorbis(SpeexFile::read_from(r, opts)?.vorbis_comments(), edit, out),
        // lofty does not read Matroska; `proof::mkv` checks it instead.
        Container::Matroska => {}
        Container::Mp4 => {
            if let Some(ilst) = Mp4File::read_from(r, opts)?.ilst() {
                for atom in ilst {
                    atom_item(atom.ident(), atom.data(), edit, out);
                }
            }
        }
        Container::Wav => {
            if let Some(info) = WavFile::read_from(r, opts)?.riff_info() {
                for (k, v) in info {
                    out.push(item(format!("RIFF INFO item {k}"), v.as_bytes()));
                }
            }
        }
        // lofty reads none of these: `proof::chunked` walks them instead.
        Container::Rf64 | Container::Dsf | Container::Dsdiff => {}
        Container::Aiff => {
            if let Some(t) = AiffFile::read_from(r, opts)?.text_chunks() {
                out.push(item("AIFF NAME chunk", format!("{:?}", t.name)));
                out.push(item("AIFF AUTH chunk", format!("{:?}", t.author)));
                out.push(item("AIFF (c)  chunk", format!("{:?}", t.copyright)));
                out.push(item("AIFF ANNO chunks", format!("{:?}", t.annotations)));
                out.push(item("AIFF COMT chunk", format!("{:?}", t.comments)));
            }
        }
        Container::WavPack | Container::MonkeysAudio | Container::Musepack | Container::Tta => {
            super::apev2::read_into(container, r, opts, edit, out)?
        }
        // lofty does not read ASF: `proof/asf.rs` compares it instead.
        Container::Asf => {}
        Container::Mpeg => {
            let f = MpegFile::read_from(r, opts)?;
            if let Some(v1) = f.id3v1() {
                out.push(item("ID3v1 tag", format!("{v1:?}")));
            }
            if let Some(ape) = f.ape() {
                out.push(item("APE tag", format!("{:?}", ape.read_only)));
                for i in ape {
                    out.push(item(
                        format!("APE item {}", i.key()),
                        format!("{:?}", i.value()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// An error with its causes: lofty's own message names only the file type.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

fn vorbis(vc: &VorbisComments, edit: &Edit, out: &mut Vec<Item>) {
    // A FLAC comment block `tag` created carries our vendor string; `strip` removes it again.
    // Like our fields, it is ours to add and take away (another vendor string must stay).
    if vc.vendor() != "noai" {
        out.push(item("Vorbis comment vendor string", vc.vendor()));
    }
    for (k, v) in vc.items() {
        if !ours(edit, k) {
            out.push(item(format!("Vorbis comment {k}"), v));
        }
    }
    pictures("Vorbis comment METADATA_BLOCK_PICTURE", vc.pictures(), out);
}

fn pictures(what: &str, pics: &[(Picture, PictureInformation)], out: &mut Vec<Item>) {
    for (n, (p, info)) in pics.iter().enumerate() {
        let mut value = format!("{info:?}").into_bytes();
        push_picture(&mut value, p);
        out.push(item(
            format!("{what} {} ({:?})", n + 1, p.pic_type()),
            value,
        ));
    }
}

/// Appends a picture's type, MIME type, description and data (one copy of the data: covers
/// can be large).
fn push_picture(v: &mut Vec<u8>, p: &Picture) {
    let head = format!(
        "{:?}|{:?}|{:?}|",
        p.pic_type(),
        p.mime_type(),
        p.description()
    );
    v.reserve(head.len() + p.data().len());
    v.extend_from_slice(head.as_bytes());
    v.extend_from_slice(p.data());
}

/// An `ilst` atom: ours is a freeform atom of iTunes' mean whose name the edit owns.
fn atom_item<'a>(
    ident: &AtomIdent,
    data: impl Iterator<Item = &'a AtomData>,
    edit: &Edit,
    out: &mut Vec<Item>,
) {
    let name = match ident {
        AtomIdent::Fourcc(f) => format!(
            "MP4 atom {}",
            f.iter().map(|&b| b as char).collect::<String>()
        ),
        AtomIdent::Freeform { mean, name } => {
            if mean == "com.apple.iTunes" && ours(edit, name) {
                return;
            }
            format!("MP4 freeform atom {mean}:{name}")
        }
    };
    let mut value = Vec::new();
    for d in data {
        match d {
            AtomData::Picture(p) => push_picture(&mut value, p),
            other => value.extend(format!("{other:?}").into_bytes()),
        }
        value.push(0);
    }
    out.push(item(name, value));
}
