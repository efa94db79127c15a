//! The layouts of tests/it/interop/reader_matrix.rs, each made in a temp dir by the tools that make such
//! files in the wild: lame (ID3v1, ID3v2), mutagen (APEv2, an `id3 ` chunk, an ID3v2 prefix, a
//! freeform atom), ffmpeg `-metadata` (RIFF INFO, AIFF text chunks, FLAC, MP4).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::common::{bytes, copy_sample, id3_len};

/// One file layout: how to make it, and whether noai must refuse it.
pub struct Layout {
    pub name: &'static str,
    /// `tag --force` and `strip` refuse it by design (a reservation in a carrier noai reads but
    /// never writes); the bytes must stay as they are.
    pub refused: bool,
    /// The file has no ID3v2 tag / ID3 chunk: `tag` creates it and `strip` must restore the
    /// original bytes exactly.
    pub fresh: bool,
    pub make: fn(&Path) -> PathBuf,
}

const V1: [&str; 14] = [
    "--tt", "T1", "--ta", "A1", "--tl", "L1", "--ty", "2001", "--tc", "C1", "--tn", "3", "--tg",
    "Rock",
];
const APE: [&str; 9] = [
    "ape",
    "Title=T2",
    "Artist=A2",
    "Album=L2",
    "Year=2002",
    "Track=4",
    "Genre=Jazz",
    "Comment=C2",
    "Copyright=P2",
];
const JUNK: &[u8] = b"JUNK left by an old ripper\x00\x01\x02 -- not audio --";

pub fn id3v1_lame(d: &Path) -> PathBuf {
    crate::common::matrix::lame(d, "id3v1.mp3", &[&["--id3v1-only"], &V1[..]].concat())
}

fn id3v1_sample(d: &Path) -> PathBuf {
    copy_sample(d, "mp3-id3v1-only.mp3")
}

fn apev2(d: &Path) -> PathBuf {
    let f = crate::common::matrix::lame(d, "ape.mp3", &[]);
    crate::common::matrix::mutagen_write(&APE, &f);
    f
}

fn id3v1_apev2(d: &Path) -> PathBuf {
    let f = crate::common::matrix::lame(d, "v1ape.mp3", &[&["--id3v1-only"], &V1[..]].concat());
    crate::common::matrix::mutagen_write(&APE, &f);
    f
}

fn id3v2(d: &Path) -> PathBuf {
    crate::common::matrix::lame(d, "id3v2.mp3", &[&["--id3v2-only"], &V1[..]].concat())
}

fn junk(d: &Path) -> PathBuf {
    let f = crate::common::matrix::lame(d, "junk.mp3", &[&["--id3v2-only"], &V1[..]].concat());
    crate::common::matrix::splice(&f, id3_len(&bytes(&f)).unwrap(), JUNK);
    f
}

fn junk_v1(d: &Path) -> PathBuf {
    let f = crate::common::matrix::lame(d, "junk-v1.mp3", &[&["--id3v1-only"], &V1[..]].concat());
    crate::common::matrix::splice(&f, 0, JUNK);
    f
}

const INFO: [&str; 16] = [
    "-metadata",
    "title=WT",
    "-metadata",
    "artist=WA",
    "-metadata",
    "album=WL",
    "-metadata",
    "comment=WC",
    "-metadata",
    "genre=WG",
    "-metadata",
    "date=2003",
    "-metadata",
    "track=5",
    "-metadata",
    "copyright=WP",
];

pub fn riff_info(d: &Path) -> PathBuf {
    crate::common::matrix::ffmpeg(d, "info.wav", &INFO)
}

fn info_id3(d: &Path) -> PathBuf {
    let f = crate::common::matrix::ffmpeg(d, "info-id3.wav", &INFO);
    crate::common::matrix::mutagen_write(&["id3", "wav", "TIT2=ID3 title", "TPE1=ID3 artist"], &f);
    f
}

fn aiff_text(d: &Path) -> PathBuf {
    let meta = [
        "-metadata",
        "title=AT",
        "-metadata",
        "author=AA",
        "-metadata",
        "comment=AC",
        "-metadata",
        "copyright=AP",
    ];
    crate::common::matrix::ffmpeg(d, "text.aiff", &meta)
}

const ALLOW: [&str; 4] = [
    "id3",
    "mp3",
    "TXXX:TDM-RESERVATION=0",
    "TXXX:DATAMINING=http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",
];

fn flac_prefix(d: &Path) -> PathBuf {
    let f = crate::common::matrix::ffmpeg(d, "prefix.flac", &["-metadata", "title=FT"]);
    crate::common::matrix::mutagen_write(&ALLOW, &f);
    f
}

fn stacked(d: &Path) -> PathBuf {
    let a = bytes(&crate::common::matrix::lame(
        d,
        "a.mp3",
        &[&["--id3v2-only"], &V1[..]].concat(),
    ));
    let b = crate::common::matrix::lame(d, "b.mp3", &[]);
    crate::common::matrix::mutagen_write(&ALLOW, &b);
    let b = bytes(&b);
    let (la, lb) = (id3_len(&a).unwrap(), id3_len(&b).unwrap());
    let f = d.join("stacked.mp3");
    std::fs::write(&f, [&a[..la], &b[..lb], &a[la..]].concat()).unwrap();
    f
}

fn mp4_foreign(d: &Path) -> PathBuf {
    let f =
        crate::common::matrix::ffmpeg(d, "foreign.m4a", &["-c:a", "aac", "-metadata", "title=MT"]);
    crate::common::matrix::mutagen_write(
        &[
            "freeform",
            "org.example.vendor",
            "DATAMINING",
            "vendor-private-42",
        ],
        &f,
    );
    f
}

pub const LAYOUTS: [Layout; 13] = [
    Layout {
        name: "ID3v1 only (lame)",
        refused: false,
        fresh: true,
        make: id3v1_lame,
    },
    Layout {
        name: "ID3v1 only (sample mp3-id3v1-only.mp3)",
        refused: false,
        fresh: true,
        make: id3v1_sample,
    },
    Layout {
        name: "APEv2 only",
        refused: false,
        fresh: true,
        make: apev2,
    },
    Layout {
        name: "ID3v1 + APEv2",
        refused: false,
        fresh: true,
        make: id3v1_apev2,
    },
    Layout {
        name: "ID3v2.3 (lame)",
        refused: false,
        fresh: false,
        make: id3v2,
    },
    Layout {
        name: "junk after the ID3v2 tag",
        refused: false,
        fresh: false,
        make: junk,
    },
    Layout {
        name: "junk at the start, ID3v1",
        refused: false,
        fresh: true,
        make: junk_v1,
    },
    Layout {
        name: "WAV RIFF INFO only",
        refused: false,
        fresh: true,
        make: riff_info,
    },
    Layout {
        name: "WAV INFO + id3 chunk",
        refused: false,
        fresh: false,
        make: info_id3,
    },
    Layout {
        name: "AIFF text chunks",
        refused: false,
        fresh: true,
        make: aiff_text,
    },
    Layout {
        name: "FLAC + ID3v2 prefix (reservation)",
        refused: true,
        fresh: false,
        make: flac_prefix,
    },
    Layout {
        name: "stacked ID3v2 (reservation in 2nd)",
        refused: true,
        fresh: false,
        make: stacked,
    },
    Layout {
        name: "MP4 + foreign-mean atom",
        refused: false,
        fresh: false,
        make: mp4_foreign,
    },
];
