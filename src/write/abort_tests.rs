//! Undoing a staged write that was already applied: the file gets back its bytes, its length
//! and its times.

use super::journal::{Journal, Undo};
use super::*;
use crate::formats::Region;
use std::fs::OpenOptions;

/// A write applied and then undone (a failed sync after writing, a failed read-back) gives
/// the file back its bytes, its length and its times.
#[test]
fn an_undone_write_keeps_the_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("song.mp3");
    std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
    let out = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    set_times(&out, [(1_000_000_000, 1), (1_100_000_000, 2)]).unwrap();
    let snapshot = Snapshot::of(&out.metadata().unwrap());
    let undo = vec![Undo {
        offset: 7,
        old: b"OLD".to_vec(),
        new_len: 3,
    }];
    let journal = Journal::create(&p, &snapshot, 16, &undo, &[b"NEW"]).unwrap();
    let regions = vec![Region {
        offset: 7,
        bytes: b"NEW".to_vec(),
    }];
    let mut staged = Staged {
        path: p.clone(),
        snapshot,
        opts: Options::default(),
        kind: Kind::InPlace(InPlace {
            out,
            regions,
            undo,
            record: Vec::new(),
            journal: Some(journal),
            cut: None,
            len: 16,
            after: None,
        }),
        applied: false,
    };
    staged.apply().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-NEW-AUDIO");
    staged.abort();
    let meta = std::fs::metadata(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
    assert_eq!((meta.mtime(), meta.mtime_nsec()), (1_100_000_000, 2));
    assert_eq!((meta.atime(), meta.atime_nsec()), (1_000_000_000, 1));
    assert!(!journal_path(&p).exists(), "the journal goes with the undo");
}
