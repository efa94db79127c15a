//! A folder's undo journal (format 008) names its files only inside it: a `noai tag` killed in
//! the pause between staging and applying leaves one journal for the folder, named after one
//! of its files. Every file it names, not only that one, must be refused by `verify` and put
//! back by the next `tag` (also one given a single file), from outside with the built binary;
//! ffmpeg checks the audio. A file another program changed keeps its record alone, so the
//! others are never judged again by a record that no longer describes them.

use crate::common;
use common::interrupted;
use common::pause::Pause;
use common::{audio_md5, bytes, code, copy_sample, journal_of, journalled, json, leftovers};
use common::{file_entry, journal_records, noai_raw, record_name, tempdir, text};

use std::path::{Path, PathBuf};

const NAMES: [&str; 3] = ["flac-pad.flac", "mp3-v23-pad.mp3", "wav-plain.wav"];

/// Per file its first journalled region as the folder's journal holds it: (offset, new bytes).
fn regions(journal: &Path) -> Vec<(PathBuf, u64, Vec<u8>)> {
    let data = bytes(journal);
    assert!(data.starts_with(b"NOAIJ008"), "not a folder's journal");
    let num = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    let records = journal_records(&data);
    assert_eq!(records.len(), num(&data, 8), "a whole journal");
    let region = |rec: &[u8]| {
        let name = record_name(rec);
        // dev, ino, sizes (32), times (32), region count (8), then offset, old and new length.
        let r = 16 + name.len() + 72;
        let (offset, old_len, new_len) = (num(rec, r), num(rec, r + 8), num(rec, r + 16));
        let new = rec[r + 24 + old_len..][..new_len].to_vec();
        (journal.with_file_name(name), offset as u64, new)
    };
    records.into_iter().map(region).collect()
}

fn write_at(p: &Path, offset: u64, b: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.write_all_at(b, offset).unwrap();
}

/// An album of three in-place files and a `tag` killed in its pause: the folder's journal.
fn killed_album(dir: &Path) -> (PathBuf, PathBuf) {
    let album = dir.join("album");
    std::fs::create_dir(&album).unwrap();
    for n in NAMES {
        copy_sample(&album, n);
    }
    let pause = Pause::new();
    let mut child = interrupted::spawn_tag(&[album.to_str().unwrap()], Some(&pause));
    pause.wait(&mut child); // written and synced: in the pause
    child.kill().unwrap();
    child.wait().unwrap();
    let journals = leftovers(&album);
    assert_eq!(
        journals.len(),
        1,
        "one journal for the folder: {journals:?}"
    );
    (album, journals[0].clone())
}

fn run(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let o = noai_raw(&a);
    (code(&o), json(&o))
}

fn error(doc: &serde_json::Value, name: &str) -> String {
    file_entry(doc, name)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_file_a_folders_journal_names_is_refused_by_verify_and_put_back_by_tag() {
    let d = tempdir();
    let (album, journal) = killed_album(d.path());
    let pristine: Vec<(PathBuf, Vec<u8>, String)> = NAMES
        .iter()
        .map(|n| album.join(n))
        .map(|p| (p.clone(), bytes(&p), audio_md5(&p)))
        .collect();
    // Every file torn: half of its first region's new bytes written.
    for (p, offset, new) in regions(&journal) {
        write_at(&p, offset, &new[..new.len().div_ceil(2)]);
    }
    let (c, doc) = run(&["verify", album.to_str().unwrap()]);
    assert_eq!(c, 2, "{doc:#}");
    for n in NAMES {
        let e = error(&doc, n);
        assert!(e.contains("undo journal"), "{n} not refused: {e}");
    }
    // A run given one file that the journal is not named after settles the whole journal.
    let single = NAMES
        .iter()
        .map(|n| album.join(n))
        .find(|p| journal_of(p) != journal)
        .unwrap();
    let (c, doc) = run(&["tag", single.to_str().unwrap()]);
    assert_eq!(c, 0, "{doc:#}");
    assert!(leftovers(&album).is_empty(), "{:?}", leftovers(&album));
    for (p, was, _) in &pristine {
        if *p != single {
            assert!(bytes(p) == *was, "{} not put back", p.display());
        }
    }
    let (c, doc) = run(&["tag", album.to_str().unwrap()]);
    assert_eq!(c, 0, "{doc:#}");
    let (c, doc) = run(&["verify", album.to_str().unwrap()]);
    assert_eq!(c, 0, "{doc:#}");
    for (p, _, audio) in &pristine {
        assert_eq!(audio_md5(p), *audio, "{}: audio changed", p.display());
    }
}

#[test]
fn a_file_another_program_changed_keeps_its_record_and_the_others_go_free() {
    let d = tempdir();
    let (album, journal) = killed_album(d.path());
    let regions = regions(&journal);
    let (changed, offset, new) = &regions[1];
    write_at(changed, *offset, &vec![0xA5; new.len()]);
    let (torn, offset, new) = &regions[2];
    write_at(torn, *offset, &new[..1]);
    let o = noai_raw(&["tag", "--format", "json", album.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let doc = json(&o);
    let name = |p: &PathBuf| p.file_name().unwrap().to_str().unwrap().to_string();
    let e = error(&doc, &name(changed));
    assert!(e.contains("changed by another program"), "{e}");
    for other in [&regions[0].0, torn] {
        let a = &file_entry(&doc, &name(other))["action"];
        assert_eq!(a["type"], "written", "{}: {doc:#}", other.display());
    }
    // Only the changed file's record is kept, in a journal of its own.
    assert_eq!(leftovers(&album).len(), 1);
    assert_eq!(journalled(&album), vec![changed.clone()]);
    for other in [&regions[0].0, torn] {
        let (c, doc) = run(&["verify", other.to_str().unwrap()]);
        assert_eq!(c, 0, "{}: {doc:#}", other.display());
    }
    let (c, doc) = run(&["verify", changed.to_str().unwrap()]);
    assert_eq!(c, 2, "{doc:#}");
}

/// A run started inside the folder (`noai tag .`, `noai tag ./x`, `noai tag x`) gives relative
/// paths: a journal it cannot settle (here one of a version this noai does not know, named
/// after the file) must refuse the file however it is spelled, and leave it and the journal be.
#[test]
fn a_journal_that_cannot_be_settled_refuses_its_file_under_any_relative_path() {
    let d = tempdir();
    for n in NAMES {
        copy_sample(d.path(), n);
    }
    let f = d.path().join(NAMES[0]);
    let (was, j) = (bytes(&f), journal_of(&f));
    std::fs::write(&j, b"NOAIJ009 from a newer noai").unwrap();
    for arg in [".", "./flac-pad.flac", "flac-pad.flac"] {
        let o = std::process::Command::new(common::BIN)
            .args(["tag", "--format", "json", arg])
            .current_dir(d.path())
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{arg}: {}", text(&o));
        let e = error(&json(&o), NAMES[0]);
        assert!(e.contains("version 009"), "{arg}: {e}");
        assert!(bytes(&f) == was, "{arg}: written");
        assert!(j.exists(), "{arg}: the journal went");
    }
}
