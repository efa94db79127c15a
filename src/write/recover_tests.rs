//! Recovery: a torn write is rolled back; a finished or unstarted one is kept; anything another
//! program did, or a journal that cannot be trusted, is left alone and reported.

use super::*;
use crate::write::Snapshot;
use crate::write::is_journal_name;
use crate::write::journal::{self, Journal, Undo, journal_path};
use std::path::PathBuf;

fn undo(offset: u64, old: &[u8], new_len: u64) -> Undo {
    Undo {
        offset,
        old: old.to_vec(),
        new_len,
    }
}

fn write_at(p: &Path, off: u64, b: &[u8]) {
    File::options()
        .write(true)
        .open(p)
        .unwrap()
        .write_all_at(b, off)
        .unwrap();
}

/// `dir/name` holding `old` and the journal (left on disk, as a kill leaves it) of a write of
/// `new` bytes over `regions` that makes it `new_size` bytes long; the file and the journal.
fn journalled(
    dir: &Path,
    name: &str,
    old: &[u8],
    new_size: u64,
    regions: &[Undo],
    new: &[&[u8]],
) -> (PathBuf, PathBuf) {
    let p = dir.join(name);
    std::fs::write(&p, old).unwrap();
    let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
    Journal::create(&p, &snap, new_size, regions, new)
        .unwrap()
        .abandon();
    (p.clone(), journal_path(&p))
}

/// `song.mp3` holding `HEADER-OLD-AUDIO` and the journal of writing `NEW` over `OLD`.
fn staged(dir: &Path) -> (PathBuf, PathBuf) {
    let regions = [undo(7, b"OLD", 3)];
    journalled(
        dir,
        "song.mp3",
        b"HEADER-OLD-AUDIO",
        16,
        &regions,
        &[b"NEW"],
    )
}

#[test]
fn torn_write_is_rolled_back_and_complete_write_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (p, jp) = staged(dir.path());
    write_at(&p, 7, b"N"); // torn: one byte of three
    assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack);
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
    assert!(!jp.exists());
    let (p, jp) = staged(dir.path());
    write_at(&p, 7, b"NEW"); // complete: the new bytes stay
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-NEW-AUDIO");
    assert!(!jp.exists());
    let (p, jp) = staged(dir.path()); // never started
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
}

#[test]
fn torn_append_is_truncated_back() {
    let dir = tempfile::tempdir().unwrap();
    let regions = [undo(0, b"moov", 4), undo(16, b"", 8)];
    let new: [&[u8]; 2] = [b"free", b"uuidXMP!"];
    let (p, jp) = journalled(dir.path(), "a.m4a", b"moov....mdat....", 24, &regions, &new);
    write_at(&p, 0, b"free");
    write_at(&p, 16, b"uuid"); // the append stopped half way
    assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack);
    assert_eq!(std::fs::read(&p).unwrap(), b"moov....mdat....");
}

/// The journal of a cut: `moov` becomes `free`, the 8-byte tail `uuidXMP!` goes.
fn staged_cut(dir: &Path) -> (PathBuf, PathBuf) {
    let regions = [undo(0, b"moov", 4), undo(16, b"uuidXMP!", 0)];
    let old = b"moov....mdat....uuidXMP!";
    journalled(dir, "a.m4a", old, 16, &regions, &[b"free", b""])
}

#[test]
fn a_cut_is_rolled_back_with_its_tail_or_kept_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let old = b"moov....mdat....uuidXMP!";
    // Killed after the write, before the cut; after the cut with the write torn; after a
    // partial cut (not a thing ftruncate does, but the bytes say what to do).
    for now in [
        &b"free....mdat....uuidXMP!"[..],
        b"frov....mdat....uuidXMP!",
        b"frov....mdat....",
        b"free....mdat....uuid",
    ] {
        let (p, jp) = staged_cut(dir.path());
        std::fs::write(&p, now).unwrap();
        assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack, "{now:?}");
        assert_eq!(std::fs::read(&p).unwrap(), old, "{now:?}");
        assert!(!jp.exists());
    }
    let (p, jp) = staged_cut(dir.path());
    std::fs::write(&p, b"free....mdat....").unwrap(); // complete: kept
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), b"free....mdat....");
    let (p, jp) = staged_cut(dir.path()); // never started
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), old);
    // Cut, then someone appended other bytes: not ours to roll back.
    let (p, jp) = staged_cut(dir.path());
    std::fs::write(&p, b"free....mdat....appended").unwrap();
    assert!(refused(&p, &jp).contains("another program"));
}

#[test]
fn half_written_journal_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.flac");
    std::fs::write(&p, b"data").unwrap();
    let jp = journal_path(&p);
    std::fs::write(&jp, b"NOAIJ003\x01\x02").unwrap();
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), b"data");
    assert!(!jp.exists());
}

/// Runs `recover`, expects a refusal naming the journal, and checks nothing moved.
fn refused(p: &Path, jp: &Path) -> String {
    let (file, journal) = (std::fs::read(p).unwrap(), std::fs::read(jp).unwrap());
    let e = recover(jp).expect_err("recovered").to_string();
    assert!(e.contains(&jp.display().to_string()), "{e}");
    assert_eq!(std::fs::read(p).unwrap(), file, "the file changed");
    assert_eq!(std::fs::read(jp).unwrap(), journal, "the journal changed");
    e
}

#[test]
fn a_file_another_program_changed_is_never_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let (p, jp) = staged(dir.path());
    write_at(&p, 7, b"NEx"); // a torn start, then someone else's byte
    assert!(refused(&p, &jp).contains("another program"));
    let dir = tempfile::tempdir().unwrap();
    let (p, jp) = staged(dir.path());
    std::fs::write(&p, b"HEADER-OLD-AUDIO+appended").unwrap(); // size out of range
    assert!(refused(&p, &jp).contains("another program"));
}

#[test]
fn device_and_inode_are_only_a_hint() {
    // The same file after a remount (FAT, USB, btrfs): other numbers, same bytes.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("song.mp3");
    std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
    let mut snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
    (snap.dev, snap.ino) = (snap.dev + 1, snap.ino + 1);
    Journal::create(&p, &snap, 16, &[undo(7, b"OLD", 3)], &[b"NEW"])
        .unwrap()
        .abandon();
    write_at(&p, 7, b"NE");
    assert_eq!(recover(&journal_path(&p)).unwrap(), Recovery::RolledBack);
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
}

#[test]
fn untrusted_or_unknown_journals_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Another format version.
    let (p, jp) = staged(dir.path());
    write_at(&p, 7, b"N");
    let mut rec = std::fs::read(&jp).unwrap();
    rec[5..8].copy_from_slice(b"009");
    std::fs::write(&jp, &rec).unwrap();
    assert!(refused(&p, &jp).contains("version 009"));
    // Oversized (sparse, so cheap).
    let f = File::options().write(true).open(&jp).unwrap();
    f.set_len(MAX_BYTES + 1).unwrap();
    assert!(refused(&p, &jp).contains("more than any noai journal"));
    std::fs::remove_file(&jp).unwrap();
    // A link to a journal.
    let (p, jp) = staged(dir.path());
    write_at(&p, 7, b"N");
    let real = dir.path().join("elsewhere");
    std::fs::rename(&jp, &real).unwrap();
    std::os::unix::fs::symlink(&real, &jp).unwrap();
    let e = recover(&jp).expect_err("followed a link").to_string();
    assert!(e.contains("symbolic link"), "{e}");
    assert!(jp.is_symlink() && real.exists());
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-NLD-AUDIO");
    // Not ours at all.
    std::fs::remove_file(&jp).unwrap();
    std::fs::write(&jp, b"a note someone left").unwrap();
    assert!(refused(&p, &jp).contains("not an undo journal"));
}

#[test]
fn rollback_puts_the_mtime_and_atime_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("song.mp3");
    std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
    let f = File::options().write(true).open(&p).unwrap();
    super::super::set_times(&f, [(1_000_000_000, 7), (1_200_000_000, 123_456_789)]).unwrap();
    let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
    Journal::create(&p, &snap, 16, &[undo(7, b"OLD", 3)], &[b"NEW"])
        .unwrap()
        .abandon();
    write_at(&p, 7, b"NE"); // torn, and the write moved the mtime
    let moved = std::fs::metadata(&p).unwrap();
    assert_ne!(
        (moved.mtime(), moved.mtime_nsec()),
        (1_200_000_000, 123_456_789)
    );
    assert_eq!(recover(&journal_path(&p)).unwrap(), Recovery::RolledBack);
    let back = std::fs::metadata(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
    assert_eq!(
        (back.mtime(), back.mtime_nsec()),
        (1_200_000_000, 123_456_789)
    );
    assert_eq!((back.atime(), back.atime_nsec()), (1_000_000_000, 7));
}

/// The journal files in `dir`.
fn journals_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| is_journal_name(p.file_name().unwrap()))
        .collect()
}

/// A folder's batch shares one journal file (008), naming its files only inside it: it is
/// settled as a whole; each file is judged by its own record; the one another program changed,
/// and the one another process holds, keep their records in a new journal, and the others are
/// never judged again.
#[test]
fn a_folder_journal_settles_each_file_and_keeps_only_the_unsettled() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "torn.mp3",
        "done.mp3",
        "untouched.mp3",
        "changed.mp3",
        "busy.mp3",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
    let mut items = Vec::new();
    for p in &paths {
        std::fs::write(p, b"HEADER-OLD-AUDIO").unwrap();
        let snap = Snapshot::of(&std::fs::metadata(p).unwrap());
        let rec = journal::record(p, &snap, 16, &[undo(7, b"OLD", 3)], &[b"NEW"]).unwrap();
        items.push((p.as_path(), rec));
    }
    let js: Vec<Journal> = (super::super::bundle::write(&items).into_iter())
        .map(|j| j.unwrap())
        .collect();
    let jp = journal_path(&paths[0]);
    let entries = || std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        entries(),
        names.len() + 1,
        "one journal file, no link per file"
    );
    // Its writer still holds it: nobody else touches it.
    write_at(&paths[0], 7, b"NE");
    assert_eq!(
        recover(&jp).unwrap_err().kind(),
        crate::error::ErrorKind::Busy
    );
    js.into_iter().for_each(Journal::abandon);
    write_at(&paths[1], 7, b"NEW");
    write_at(&paths[3], 7, b"XYZ");
    write_at(&paths[4], 7, b"N");
    let holder = std::fs::File::open(&paths[4]).unwrap();
    holder.try_lock().unwrap();
    let e = recover(&jp).unwrap_err();
    assert!(e.to_string().contains("changed by another program"), "{e}");
    let read = |i: usize| std::fs::read(&paths[i]).unwrap();
    assert_eq!(read(0), b"HEADER-OLD-AUDIO");
    assert_eq!(read(1), b"HEADER-NEW-AUDIO");
    assert_eq!(read(2), b"HEADER-OLD-AUDIO");
    assert_eq!(read(3), b"HEADER-XYZ-AUDIO");
    assert_eq!(read(4), b"HEADER-NLD-AUDIO", "held elsewhere: not touched");
    // The rest: one new journal naming only the changed and the busy file.
    let left = journals_in(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let mut named = journal_targets(&left[0]);
    named.sort();
    assert_eq!(named, vec![paths[4].clone(), paths[3].clone()]);
    // Once the holder lets go, the busy file is settled from the kept record.
    drop(holder);
    let e = recover(&left[0]).unwrap_err();
    assert!(e.to_string().contains("changed by another program"), "{e}");
    assert_eq!(read(4), b"HEADER-OLD-AUDIO");
    let left = journals_in(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(journal_targets(&left[0]), vec![paths[3].clone()]);
}

/// The journal of an append that left holes: 16 bytes become 40, `ID3x` at 16 and `_PMX` at
/// 30 written, 20..30 and 34..40 zeros never written (format 007).
fn staged_holes(dir: &Path) -> (PathBuf, PathBuf) {
    let regions = [undo(16, b"", 4), undo(30, b"", 4)];
    let new: [&[u8]; 2] = [b"ID3x", b"_PMX"];
    journalled(dir, "a.wav", b"RIFF....data....", 40, &regions, &new)
}

#[test]
fn an_append_with_holes_is_judged_by_its_bytes_and_its_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let old = b"RIFF....data....".to_vec();
    let mut new = old.clone();
    new.extend_from_slice(b"ID3x\0\0\0\0\0\0\0\0\0\0_PMX\0\0\0\0\0\0");
    // Killed part way (the pieces are written in order, then the file is extended): in the
    // first piece, after it, in the second (past the first hole), before the extension.
    for cut in [18, 20, 33, 34] {
        let (p, jp) = staged_holes(dir.path());
        std::fs::write(&p, &new[..cut]).unwrap();
        assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack, "{cut}");
        assert_eq!(std::fs::read(&p).unwrap(), old, "{cut}");
    }
    let (p, jp) = staged_holes(dir.path());
    std::fs::write(&p, &new).unwrap(); // complete: kept
    assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
    assert_eq!(std::fs::read(&p).unwrap(), new);
    // Something other than zeros where the holes were: not ours to roll back.
    let (p, jp) = staged_holes(dir.path());
    let mut other = new.clone();
    other[25] = b'!';
    std::fs::write(&p, &other).unwrap();
    assert!(refused(&p, &jp).contains("another program"));
    assert_eq!(std::fs::read(&p).unwrap(), other);
}
