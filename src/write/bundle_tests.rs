//! The folder's journal file (008): every file of a group named inside one file and no link,
//! torn anywhere, removed with the last of its group, a taken name passed over, groups split
//! by size; the linked 006 format an older noai wrote is still found by name.

use super::*;
use crate::write::Snapshot;
use crate::write::journal::{Undo, record};

fn snap() -> Snapshot {
    Snapshot::made_up(16)
}

fn rec(target: &Path, old: &[u8], new: &[u8]) -> Vec<u8> {
    let undo = [Undo {
        offset: 2,
        old: old.to_vec(),
        new_len: new.len() as u64,
    }];
    record(target, &snap(), 16, &undo, &[new]).unwrap()
}

#[test]
fn one_file_names_every_file_of_the_group_and_none_gets_a_link() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        d.path().join("a.flac"),
        d.path().join("b.mp3"),
        d.path().join("c.m4a"),
    );
    let items = vec![
        (a.as_path(), rec(&a, b"aa", b"AA")),
        (b.as_path(), rec(&b, b"bb", b"BB")),
        (c.as_path(), rec(&c, b"cc", b"CC")),
    ];
    let js: Vec<Journal> = write(&items).into_iter().map(|j| j.unwrap()).collect();
    use std::os::unix::fs::MetadataExt;
    let j = journal_path(&a);
    assert!(js.iter().all(|x| x.path() == j), "one file, shared");
    assert_eq!(std::fs::metadata(&j).unwrap().nlink(), 1, "no links");
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    let file = std::fs::read(&j).unwrap();
    assert!(file.starts_with(MAGIC));
    assert_eq!(super::super::journal::targets_of(&j, &file), vec![a, b, c]);
    for (x, old) in records(&file)
        .unwrap()
        .into_iter()
        .zip([b"aa", b"bb", b"cc"])
    {
        let Parsed::Current(dec) = parse(x) else {
            panic!()
        };
        assert_eq!(dec.changes[0].old, old);
    }
    let mut js = js.into_iter();
    js.next().unwrap().finish();
    js.next().unwrap().finish();
    assert!(j.exists(), "kept until the last of its group is finished");
    js.next().unwrap().finish();
    assert!(!j.exists());
}

#[test]
fn a_linked_006_journal_gives_each_name_its_own_record() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.flac"), d.path().join("b.flac"));
    let file = encode_as(MAGIC_006, &[&rec(&a, b"aa", b"AA"), &rec(&b, b"bb", b"BB")]);
    std::fs::write(journal_path(&a), &file).unwrap();
    std::fs::hard_link(journal_path(&a), journal_path(&b)).unwrap();
    for (t, old) in [(&a, b"aa"), (&b, b"bb")] {
        let j = journal_path(t);
        let Parsed::Current(dec) = parse_for(&file, &j) else {
            panic!()
        };
        assert_eq!(dec.changes[0].old, old);
        let target = super::super::journal::target_of(&j, &file);
        assert_eq!(target.as_deref(), Some(t.as_path()));
    }
    // A file the journal does not name gets nothing from it, even through a link.
    let stray = journal_path(&d.path().join("other.flac"));
    assert!(matches!(parse_for(&file, &stray), Parsed::Foreign(_)));
}

#[test]
fn a_journal_file_cut_short_anywhere_is_torn() {
    let p = Path::new("/m/a.flac");
    let (r1, r2) = (
        rec(p, b"aa", b"AA"),
        rec(Path::new("/m/b.flac"), b"bb", b"BB"),
    );
    for magic in [MAGIC, MAGIC_006] {
        let file = encode_as(magic, &[&r1, &r2]);
        assert_eq!(records(&file).unwrap(), vec![r1.as_slice(), r2.as_slice()]);
        for cut in 0..file.len() {
            assert!(records(&file[..cut]).is_none(), "cut at {cut}");
        }
        let mut bad = file.clone();
        bad[20] ^= 1;
        assert!(records(&bad).is_none(), "a flipped bit");
    }
    let j = journal_path(p);
    let file = encode_as(MAGIC_006, &[&r1, &r2]);
    for cut in 0..file.len() {
        let parsed = parse_for(&file[..cut], &j);
        assert!(matches!(parsed, Parsed::Torn), "cut at {cut}");
    }
    let mut other = encode(&[&r1]);
    other[5..8].copy_from_slice(b"009");
    assert!(records(&other).is_none());
    assert!(matches!(parse(&other), Parsed::OtherVersion(v) if v == "009"));
}

#[test]
fn a_taken_journal_name_is_passed_over_for_the_next_file_of_the_group() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.flac"), d.path().join("b.flac"));
    std::fs::write(journal_path(&a), b"left by an earlier run").unwrap();
    let items = vec![
        (a.as_path(), rec(&a, b"aa", b"AA")),
        (b.as_path(), rec(&b, b"bb", b"BB")),
    ];
    let out: Vec<Journal> = write(&items).into_iter().map(|j| j.unwrap()).collect();
    assert_eq!(out[0].path(), journal_path(&b));
    assert_eq!(out[1].path(), journal_path(&b));
    let file = std::fs::read(journal_path(&b)).unwrap();
    assert_eq!(names(&file), ["a.flac", "b.flac"]);
    assert_eq!(
        std::fs::read(journal_path(&a)).unwrap(),
        b"left by an earlier run"
    );
    // Its own name taken (as by the kept records of another file): a numbered name, and no
    // temp file left behind.
    let items = vec![(a.as_path(), rec(&a, b"aa", b"AA"))];
    let j = write(&items).remove(0).unwrap();
    assert_eq!(j.path(), d.path().join(".a.flac.1.noai-journal"));
    let mut left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    let want = [
        ".a.flac.1.noai-journal",
        ".a.flac.noai-journal",
        ".b.flac.noai-journal",
    ];
    assert_eq!(left, want);
}

#[test]
fn large_groups_are_split_into_several_files() {
    let big = vec![7u8; MAX_FILE_BYTES / 3];
    let items: Vec<(&Path, Vec<u8>)> = (0..5).map(|_| (Path::new("x"), big.clone())).collect();
    assert_eq!(take_group(&items), 2);
    let small: Vec<(&Path, Vec<u8>)> = (0..MAX_RECORDS + 5)
        .map(|_| (Path::new("x"), vec![1]))
        .collect();
    assert_eq!(take_group(&small), MAX_RECORDS);
    let huge = vec![(Path::new("x"), vec![0u8; MAX_FILE_BYTES * 2])];
    assert_eq!(take_group(&huge), 1, "one record always fits");
}

/// The shares of one journal file for `a.flac` and `b.flac` in `dir`.
fn two_shares(dir: &Path) -> Vec<Journal> {
    let (a, b) = (dir.join("a.flac"), dir.join("b.flac"));
    let items = vec![
        (a.as_path(), rec(&a, b"aa", b"AA")),
        (b.as_path(), rec(&b, b"bb", b"BB")),
    ];
    write(&items).into_iter().map(|j| j.unwrap()).collect()
}

#[test]
fn the_writer_holds_the_journal_locked_until_the_last_share_goes_then_the_closer_closes_it() {
    let d = tempfile::tempdir().unwrap();
    let mut js = two_shares(d.path());
    let first = js[0].path().to_path_buf();
    assert_eq!(crate::closer::held(&first), 1, "kept open by the writer");
    let other = std::fs::File::open(&first).unwrap();
    assert!(other.try_lock().is_err(), "and locked");
    js.remove(0).finish();
    assert!(first.exists(), "the other write still needs it");
    js.remove(0).finish();
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    crate::closer::settle();
    assert!(other.try_lock().is_ok(), "its lock gone");
    drop(other);
    assert_eq!(crate::closer::held(&first), 0, "closed with its last share");
}

#[test]
fn a_share_dropped_without_being_finished_keeps_the_journal() {
    let d = tempfile::tempdir().unwrap();
    let mut js = two_shares(d.path());
    let path = js[0].path().to_path_buf();
    drop(js.remove(0));
    js.remove(0).finish();
    assert!(path.exists(), "a dropped share (a panic) keeps it");
    let c = d.path().join("c.flac");
    let mut js: Vec<Journal> = write(&[(c.as_path(), rec(&c, b"c", b"C"))])
        .into_iter()
        .map(|j| j.unwrap())
        .collect();
    let kept = js[0].path().to_path_buf();
    js.remove(0).keep();
    assert!(kept.exists(), "kept when asked");
}
