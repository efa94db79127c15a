//! The 006 journal file: records framed and found by name, torn anywhere, hard links per file,
//! groups split by size.

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
fn each_file_finds_its_own_record_through_its_own_link() {
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
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    assert_eq!(ino(js[0].path()), ino(js[2].path()), "one inode, linked");
    assert_eq!(std::fs::metadata(js[0].path()).unwrap().nlink(), 3);
    for (t, old) in [(&a, b"aa"), (&b, b"bb"), (&c, b"cc")] {
        let j = journal_path(t);
        let file = std::fs::read(&j).unwrap();
        let Parsed::Current(dec) = parse_for(&file, &j) else {
            panic!("{:?}", parse_for(&file, &j))
        };
        assert_eq!(dec.name, t.file_name().unwrap().as_encoded_bytes());
        assert_eq!(dec.changes[0].old, old);
        assert_eq!(
            super::super::journal::target_of(&j, &file).as_deref(),
            Some(t.as_path())
        );
    }
    // A file the journal does not name gets nothing from it, even through a link.
    let stray = journal_path(&d.path().join("other.flac"));
    std::fs::hard_link(js[0].path(), &stray).unwrap();
    let file = std::fs::read(&stray).unwrap();
    assert!(matches!(parse_for(&file, &stray), Parsed::Foreign(_)));
    for j in js {
        j.finish();
    }
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        1,
        "only the stray link is left"
    );
}

#[test]
fn a_journal_file_cut_short_anywhere_is_torn() {
    let p = Path::new("/m/a.flac");
    let (r1, r2) = (
        rec(p, b"aa", b"AA"),
        rec(Path::new("/m/b.flac"), b"bb", b"BB"),
    );
    let file = encode(&[&r1, &r2]);
    assert_eq!(records(&file).unwrap(), vec![r1.as_slice(), r2.as_slice()]);
    let j = journal_path(p);
    for cut in 0..file.len() {
        assert!(
            matches!(parse_for(&file[..cut], &j), Parsed::Torn),
            "cut at {cut}"
        );
    }
    let mut bad = file.clone();
    bad[20] ^= 1;
    assert!(matches!(parse_for(&bad, &j), Parsed::Torn), "a flipped bit");
    let mut other = file;
    other[5..8].copy_from_slice(b"008");
    assert!(matches!(parse_for(&other, &j), Parsed::OtherVersion(v) if v == "008"));
}

#[test]
fn a_target_whose_journal_exists_fails_alone() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.flac"), d.path().join("b.flac"));
    std::fs::write(journal_path(&a), b"left by an earlier run").unwrap();
    let items = vec![
        (a.as_path(), rec(&a, b"aa", b"AA")),
        (b.as_path(), rec(&b, b"bb", b"BB")),
    ];
    let out = write(&items);
    assert!(
        out[0]
            .as_ref()
            .err()
            .unwrap()
            .to_string()
            .contains("cannot create")
    );
    let jb = out[1].as_ref().unwrap().path().to_path_buf();
    let Parsed::Current(dec) = parse_for(&std::fs::read(&jb).unwrap(), &jb) else {
        panic!()
    };
    assert_eq!(dec.name, b"b.flac");
    assert_eq!(
        std::fs::read(journal_path(&a)).unwrap(),
        b"left by an earlier run"
    );
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

#[test]
fn the_journal_file_stays_open_until_its_last_name_goes_then_the_closer_closes_it() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.flac"), d.path().join("b.flac"));
    let items = vec![
        (a.as_path(), rec(&a, b"aa", b"AA")),
        (b.as_path(), rec(&b, b"bb", b"BB")),
    ];
    let mut js: Vec<Journal> = write(&items).into_iter().map(|j| j.unwrap()).collect();
    let first = js[0].path().to_path_buf();
    assert_eq!(
        crate::closer::held(&first),
        1,
        "the writer keeps the journal file open"
    );
    js.remove(0).finish();
    assert!(!first.exists());
    // The other name still reaches it: its link works, and nothing was handed over.
    assert!(std::fs::read(js[0].path()).is_ok());
    js.remove(0).finish();
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    crate::closer::settle();
    assert_eq!(
        crate::closer::held(&first),
        0,
        "closed once both names are gone"
    );
}
