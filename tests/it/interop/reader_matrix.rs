//! Every reader sees what it saw before (issue 19): for each tag layout, made here by real tools,
//! and each independent reader (TagLib, ffprobe, mutagen, ExifTool, kid3-cli, MediaInfo), the
//! non-reservation fields the reader shows before `noai tag`, after it (our fields set aside) and
//! after `noai strip` are compared. Where `tag` creates the file's first ID3v2 tag, the old tag's
//! fields are carried into it and `strip` must give back the original bytes. Layouts that hold a
//! reservation in a carrier noai never writes are refused, bytes unchanged.
//!
//! A reader whose view changes after `tag` fails, except where the change is measured and listed
//! in `DELTAS` with its reason (a reader that did not read the old tag now reads the carried
//! copies; a reader that keys fields by name alone), and even then every new value must be one
//! some reader showed before. After `strip` every view must equal the one before, no exceptions. The matrix is printed, and with `NOAI_INTEROP_MD=docs/interop.md` written as section 3
//! of that document.

use crate::common;
use crate::common::matrix;
use crate::common::matrix_layouts;

use std::path::Path;

use common::{bytes, id3_len, noai, p, tempdir};
use matrix::{READERS, Seen};
use matrix_layouts::{LAYOUTS, Layout, id3v1_lame, riff_info};

/// How a reader's view may differ after `tag`, where measured (every other cell: not at all).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delta {
    /// It shows more: it did not read the old tag and now reads the copies carried into the new
    /// ID3v2 tag (or shows them under a second name). Nothing is lost; every new value is one
    /// that some reader showed before.
    Carried,
    /// It shows other values for the same fields: what it showed before cannot be kept together
    /// with what TagLib showed (the reason is in the note). Every new value is one some reader
    /// showed before (or ours, joined to it).
    Replaced,
}

const APE_ELSEWHERE: &str = "reads neither APEv2 nor (with an APEv2 tag before it) ID3v1 in an \
     MP3; it now shows the APEv2 fields carried into the new ID3v2 tag, which TagLib showed before";
const V1_VS_APE: &str = "MediaInfo showed the ID3v1 tag, TagLib the APEv2 tag, and here their \
     values differ; the new ID3v2 tag can hold one title, and carries what TagLib showed (TagLib \
     reads ID3v2, else APEv2, else ID3v1), which MediaInfo then prefers. Where both old tags agree, \
     as taggers write them, nothing changes";
const ID3_CHUNK_ONLY: &str = "reads only the ID3 chunk of a WAV/AIFF (not RIFF INFO or the AIFF \
     text chunks); it now shows the fields carried into the new ID3 chunk";
const BOTH_NAMES: &str = "shows the ID3 chunk beside RIFF INFO / the AIFF text chunks, each field \
     under its own name (e.g. INFO IPRD as `Product`, ID3 TALB as `Album`): the carried copies \
     appear under their ID3 names too";
const ICOP: &str = "TagLib 1.13 does not map INFO `ICOP` to a property; the copy carried into \
     `TCOP` (as TagLib maps copyright) shows as COPYRIGHT";
const BY_NAME: &str = "keys MP4 freeform atoms by name alone, ignoring the mean: our \
     `----:com.apple.iTunes:DATAMINING` hides (ffprobe) or is joined to (MediaInfo) the vendor's \
     `----:org.example.vendor:DATAMINING`, which noai leaves byte-identical; after `strip` it shows \
     again";

const DELTAS: [(&str, &str, Delta, &str); 16] = [
    ("APEv2 only", "ffprobe", Delta::Carried, APE_ELSEWHERE),
    ("APEv2 only", "mutagen", Delta::Carried, APE_ELSEWHERE),
    ("APEv2 only", "kid3-cli", Delta::Carried, APE_ELSEWHERE),
    ("ID3v1 + APEv2", "ffprobe", Delta::Carried, APE_ELSEWHERE),
    ("ID3v1 + APEv2", "mutagen", Delta::Carried, APE_ELSEWHERE),
    ("ID3v1 + APEv2", "kid3-cli", Delta::Carried, APE_ELSEWHERE),
    ("ID3v1 + APEv2", "MediaInfo", Delta::Replaced, V1_VS_APE),
    ("WAV RIFF INFO only", "TagLib", Delta::Carried, ICOP),
    (
        "WAV RIFF INFO only",
        "mutagen",
        Delta::Carried,
        ID3_CHUNK_ONLY,
    ),
    (
        "WAV RIFF INFO only",
        "kid3-cli",
        Delta::Carried,
        ID3_CHUNK_ONLY,
    ),
    ("WAV RIFF INFO only", "ExifTool", Delta::Carried, BOTH_NAMES),
    (
        "WAV RIFF INFO only",
        "MediaInfo",
        Delta::Carried,
        BOTH_NAMES,
    ),
    ("AIFF text chunks", "ffprobe", Delta::Carried, BOTH_NAMES),
    ("AIFF text chunks", "ExifTool", Delta::Carried, BOTH_NAMES),
    (
        "MP4 + foreign-mean atom",
        "ffprobe",
        Delta::Replaced,
        BY_NAME,
    ),
    (
        "MP4 + foreign-mean atom",
        "MediaInfo",
        Delta::Replaced,
        BY_NAME,
    ),
];

/// Readers with no view of the old AIFF text chunks at all (TagLib 1.13, mutagen, kid3-cli).
const AIFF_TEXT: &str = "does not read the AIFF `NAME`/`AUTH`/`ANNO`/`(c) ` chunks; it now \
     shows the copies carried into the new ID3 chunk";

/// Cells where the reader does not show our fields at all after `tag` (measured).
const OURS_HIDDEN: [(&str, &str, &str); 3] = [
    ("WAV RIFF INFO only", "ffprobe", FFMPEG_INFO),
    ("WAV INFO + id3 chunk", "ffprobe", FFMPEG_INFO),
    (
        "MP4 + foreign-mean atom",
        "TagLib",
        "TagLib 1.13's MP4 property map does not list custom freeform atoms (ours, or the \
         vendor's); it shows the standard atoms as before",
    ),
];

const FFMPEG_INFO: &str = "ffmpeg 5.1 keeps one tag source per WAV and prefers RIFF INFO: it discards the whole \
         `id3 ` chunk (\"Discarding ID3 tags because more suitable tags were found\"), so it shows \
         the INFO fields as before and not the reservation; INFO has no field for custom keys and \
         noai invents no INFO ids";

fn delta(layout: &str, reader: &str) -> Option<(Delta, &'static str)> {
    if layout == "AIFF text chunks" && matches!(reader, "TagLib" | "mutagen" | "kid3-cli") {
        return Some((Delta::Carried, AIFF_TEXT));
    }
    DELTAS
        .iter()
        .find(|d| d.0 == layout && d.1 == reader)
        .map(|d| (d.2, d.3))
}

/// What one reader showed for one layout.
struct Cell {
    before: Seen,
    after_tag: Seen,
    after_strip: Seen,
    ours_shown: bool,
}

fn read_all(f: &Path) -> Vec<Seen> {
    READERS.iter().map(|r| matrix::read(r, f)).collect()
}

fn run_layout(l: &Layout) -> Vec<Cell> {
    let dir = tempdir();
    matrix::base_wav(dir.path());
    let f = (l.make)(dir.path());
    let orig = bytes(&f);
    let before = read_all(&f);
    let (tagged, stripped) = if l.refused {
        for args in [&["tag", "--force"][..], &["strip"][..]] {
            let r = noai(&[args, &[p(&f)]].concat()).expect(2);
            let out = format!("{}{}", r.stdout, r.stderr);
            assert!(out.contains("not changed"), "{}: {args:?}: {out}", l.name);
            assert_eq!(bytes(&f), orig, "{}: {args:?} changed bytes", l.name);
        }
        (read_all(&f), read_all(&f))
    } else {
        noai(&["tag", p(&f)]).expect(0);
        noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
        let tagged = read_all(&f);
        noai(&["strip", p(&f)]).expect(0);
        if l.fresh {
            assert!(
                bytes(&f) == orig,
                "{}: strip did not restore the original bytes",
                l.name
            );
        }
        (tagged, read_all(&f))
    };
    (0..READERS.len())
        .map(|i| Cell {
            before: matrix::without_ours(&before[i]),
            ours_shown: tagged[i].iter().any(|e| matrix::is_ours(e)),
            after_tag: matrix::without_ours(&tagged[i]),
            after_strip: matrix::without_ours(&stripped[i]),
        })
        .collect()
}

fn value(entry: &str) -> &str {
    entry.split_once('=').map_or("", |(_, v)| v)
}

/// The verdict of one cell: its text for the table (`note` numbers the reason), and problems.
fn judge(
    l: &Layout,
    reader: &str,
    c: &Cell,
    old: &Seen,
    note: &mut Notes,
) -> (String, Vec<String>) {
    let lost: Vec<_> = c.before.difference(&c.after_tag).cloned().collect();
    let gained: Vec<_> = c.after_tag.difference(&c.before).cloned().collect();
    let mut bad = Vec::new();
    let from_old = |e: &String| {
        value(e)
            .split(" / ")
            .all(|v| old.contains(v) || v == matrix::DATAMINING)
    };
    let expected = delta(l.name, reader);
    let changed = !lost.is_empty() || !gained.is_empty();
    match expected {
        None if changed => bad.push(format!(
            "after tag, {reader} lost {lost:?} and gained {gained:?}"
        )),
        Some(_) if !changed => bad.push(format!(
            "{reader}: a measured change is listed, but it shows the same as before"
        )),
        Some((Delta::Carried, _)) if !lost.is_empty() => {
            bad.push(format!("after tag, {reader} lost {lost:?}"))
        }
        Some((Delta::Replaced, _)) if lost.is_empty() => {
            bad.push(format!("{reader}: listed as replaced but lost nothing"))
        }
        _ => {}
    }
    if let Some(e) = gained.iter().find(|e| !from_old(e)) {
        bad.push(format!(
            "after tag, {reader} shows {e:?}, a value no reader showed before"
        ));
    }
    if c.after_strip != c.before {
        bad.push(format!(
            "after strip, {reader} shows {:?} instead of {:?}",
            c.after_strip, c.before
        ));
    }
    let hidden = OURS_HIDDEN.iter().find(|h| h.0 == l.name && h.1 == reader);
    if !l.refused && c.ours_shown == hidden.is_some() {
        bad.push(format!(
            "{reader}: shows our fields: {} (measured: {})",
            c.ours_shown,
            hidden.is_none()
        ));
    }
    let n = c.before.len();
    let mut text = match (l.refused, expected) {
        (true, _) => format!("{n} = {n}, refused"),
        (false, None) => format!("{n} → {n} → {n}"),
        (false, Some((Delta::Carried, why))) => {
            format!(
                "{n} → {} (+{}) → {n} [{}]",
                c.after_tag.len(),
                gained.len(),
                note.of(why)
            )
        }
        (false, Some((Delta::Replaced, why))) => format!(
            "{n} → {} (−{} +{}) → {n} [{}]",
            c.after_tag.len(),
            lost.len(),
            gained.len(),
            note.of(why)
        ),
    };
    if let Some(h) = hidden {
        text += &format!(", ours not shown [{}]", note.of(h.2));
    }
    (text, bad)
}

/// The numbered notes of the table.
#[derive(Default)]
struct Notes(Vec<&'static str>);

impl Notes {
    fn of(&mut self, why: &'static str) -> usize {
        match self.0.iter().position(|n| *n == why) {
            Some(i) => i + 1,
            None => {
                self.0.push(why);
                self.0.len()
            }
        }
    }
}

#[test]
fn every_reader_sees_what_it_saw_before() {
    let (mut rows, mut problems, mut detail) = (Vec::new(), Vec::new(), String::new());
    let mut notes = Notes::default();
    for l in &LAYOUTS {
        let cells = run_layout(l);
        let old: Seen = cells
            .iter()
            .flat_map(|c| c.before.iter().map(|e| value(e).to_string()))
            .collect();
        let mut row = format!("| {} |", l.name);
        for (reader, c) in READERS.iter().zip(&cells) {
            let (text, bad) = judge(l, reader, c, &old, &mut notes);
            row += &format!(" {text} |");
            problems.extend(bad.into_iter().map(|b| format!("{}: {b}", l.name)));
            let gained: Vec<_> = c.after_tag.difference(&c.before).collect();
            let lost: Vec<_> = c.before.difference(&c.after_tag).collect();
            detail += &format!(
                "{} / {reader}: before {:?}; after tag +{gained:?} −{lost:?}\n",
                l.name, c.before
            );
        }
        rows.push(row);
    }
    let table = format!(
        "| layout | {} |\n|---|{}\n{}\n\n{}",
        READERS.join(" | "),
        "---|".repeat(READERS.len()),
        rows.join("\n"),
        notes
            .0
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{}. {n}\n", i + 1))
            .collect::<String>()
    );
    println!("{table}\n{detail}");
    matrix::publish(&table);
    assert!(problems.is_empty(), "{}\n\n{table}", problems.join("\n"));
}

/// A hard-linked WAV: removing the ID3 chunk whole would need a rewrite (which splits the links),
/// so `strip` removes only our fields, in place; the links stay one file and TagLib still shows
/// the INFO fields (the carried copies stay in the ID3 chunk).
#[test]
fn hard_linked_file_is_stripped_in_place() {
    let dir = tempdir();
    matrix::base_wav(dir.path());
    let f = riff_info(dir.path());
    let before = matrix::without_ours(&matrix::read("TagLib", &f));
    noai(&["tag", p(&f)]).expect(0);
    let link = dir.path().join("link.wav");
    std::fs::hard_link(&f, &link).unwrap();
    noai(&["strip", p(&f)]).expect(0);
    noai(&["verify", p(&link)]).expect(1);
    assert_eq!(bytes(&f), bytes(&link), "the links were split");
    let after = matrix::read("TagLib", &link);
    assert!(after.iter().all(|e| !matrix::is_ours(e)), "{after:?}");
    assert!(
        before.is_subset(&after),
        "TagLib lost {before:?}: {after:?}"
    );
}

/// A carried copy edited since `tag` (here the title, with mutagen) is the user's now: `strip`
/// keeps the ID3v2 tag and removes only our fields.
#[test]
fn an_edited_copy_keeps_the_tag() {
    let dir = tempdir();
    matrix::base_wav(dir.path());
    let f = id3v1_lame(dir.path());
    noai(&["tag", p(&f)]).expect(0);
    matrix::mutagen_write(&["id3", "mp3", "TIT2=Edited"], &f);
    noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
    noai(&["strip", p(&f)]).expect(0);
    let seen = matrix::read("TagLib", &f);
    assert!(seen.contains("TITLE=Edited"), "{seen:?}");
    assert!(seen.iter().all(|e| !matrix::is_ours(e)), "{seen:?}");
    assert!(
        id3_len(&bytes(&f)).is_some(),
        "the ID3v2 tag holding the edited title was removed"
    );
}
