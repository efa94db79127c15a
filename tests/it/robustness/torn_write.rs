//! A torn in-place write, built by hand in the journal format the binary writes, and left with
//! its undo journal: `verify` reports it, `tag` and `strip` roll it back, older journal formats
//! are still rolled back, and a journal left before or after the write is harmless. Checked from
//! outside with the built binary, mutagen and ffmpeg (`reliability.rs` holds the shared readers).

use crate::common;
use common::interrupted;
use common::{
    audio_md5, bytes, code, copy_as, file_entry, journal_of, json, leftovers, noai_raw, tempdir,
    text,
};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::reliability::assert_all_tagged;

/// The journal format the binary writes now, learned from a journal of its own: `noai tag` held
/// in its pause between staging and applying, then killed (`interrupted::stage_and_kill`).
fn magic() -> &'static str {
    static MAGIC: OnceLock<String> = OnceLock::new();
    MAGIC.get_or_init(|| {
        let (_d, _p, real) = real_journal();
        String::from_utf8(real[..8].to_vec()).expect("a journal starts with an ASCII magic")
    })
}

/// A copy of flac-pad.flac as `song.flac` and the journal a killed `noai tag` left for it.
fn real_journal() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let real = bytes(&interrupted::stage_and_kill(&p));
    (d, p, real)
}

fn push_u64(v: &mut Vec<u8>, n: u64) {
    v.extend_from_slice(&n.to_le_bytes());
}

/// The undo journal of a write of `new` over `old` at `offset` of `target` (same length, so the
/// file size does not change), byte for byte as `Journal::create` writes it.
fn journal_bytes(target: &Path, offset: u64, old: &[u8], new: &[u8]) -> Vec<u8> {
    journal_bytes_as(magic(), target, offset, old, new)
}

/// `journal_bytes` in the format `m` (an older one a user may still have on disk).
fn journal_bytes_as(m: &str, target: &Path, offset: u64, old: &[u8], new: &[u8]) -> Vec<u8> {
    // 006 and 008 frame 005 records (007 only for an append that leaves holes): the count,
    // per record its length and the record, then the SHA-256 of everything before.
    if m == "NOAIJ006" || m == "NOAIJ008" {
        let inner = journal_bytes_as("NOAIJ005", target, offset, old, new);
        let mut f = m.as_bytes().to_vec();
        push_u64(&mut f, 1);
        push_u64(&mut f, inner.len() as u64);
        f.extend_from_slice(&inner);
        let sum = Sha256::digest(&f);
        f.extend_from_slice(&sum);
        return f;
    }
    let meta = std::fs::metadata(target).unwrap();
    let name = target.file_name().unwrap().as_bytes();
    let mut rec = Vec::new();
    rec.extend_from_slice(m.as_bytes());
    push_u64(&mut rec, name.len() as u64);
    rec.extend_from_slice(name);
    match m {
        // dev, ino, size, offset, old length, SHA-256(new), old bytes
        "NOAIJ001" => {
            for n in [
                meta.dev(),
                meta.ino(),
                meta.size(),
                offset,
                old.len() as u64,
            ] {
                push_u64(&mut rec, n);
            }
            rec.extend_from_slice(&Sha256::digest(new));
            rec.extend_from_slice(old);
        }
        // 002: dev, ino, old size, new size, region count, per region (offset, old length, new
        // length, old bytes), SHA-256 of all new bytes; 003: the same with the new bytes after
        // the old ones in each region and no hash of them
        "NOAIJ002" | "NOAIJ003" => {
            for n in [meta.dev(), meta.ino(), meta.size(), meta.size(), 1] {
                push_u64(&mut rec, n);
            }
            for n in [offset, old.len() as u64, new.len() as u64] {
                push_u64(&mut rec, n);
            }
            rec.extend_from_slice(old);
            match m {
                "NOAIJ002" => rec.extend_from_slice(&Sha256::digest(new)),
                _ => rec.extend_from_slice(new),
            }
        }
        // as 003, with the original mtime and atime (seconds, nanoseconds) before the count;
        // 005 and 007 have the layout of 004 (they may also cut the file, 007 leave holes in
        // an append, which this write does not)
        "NOAIJ004" | "NOAIJ005" | "NOAIJ007" => {
            for n in [meta.dev(), meta.ino(), meta.size(), meta.size()] {
                push_u64(&mut rec, n);
            }
            for n in [
                meta.mtime(),
                meta.mtime_nsec(),
                meta.atime(),
                meta.atime_nsec(),
            ] {
                push_u64(&mut rec, n as u64);
            }
            push_u64(&mut rec, 1);
            for n in [offset, old.len() as u64, new.len() as u64] {
                push_u64(&mut rec, n);
            }
            rec.extend_from_slice(old);
            rec.extend_from_slice(new);
        }
        other => panic!(
            "the journal format changed (MAGIC {other}); update journal_bytes_as in tests/it/robustness/torn_write.rs"
        ),
    }
    let sum = Sha256::digest(&rec);
    rec.extend_from_slice(&sum);
    rec
}

fn write_at(p: &Path, offset: u64, b: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.write_all_at(b, offset).unwrap();
    f.sync_all().unwrap();
}

/// What an in-place `tag` of a sample does: the original bytes, the tagged bytes, and the span
/// `[lo, hi)` where they differ (learned by tagging a copy).
pub(super) struct Change {
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    pub lo: usize,
    pub hi: usize,
}

impl Change {
    /// The tag of flac-pad.flac, which fits in its padding.
    pub(super) fn flac() -> Change {
        let (old, new, lo, hi) = in_place_change("flac-pad.flac");
        Change { old, new, lo, hi }
    }

    /// The undo journal of this change made to `target`, in the format `m`.
    fn journal_as(&self, m: &str, target: &Path) -> Vec<u8> {
        let (old, new) = (&self.old[self.lo..self.hi], &self.new[self.lo..self.hi]);
        journal_bytes_as(m, target, self.lo as u64, old, new)
    }

    /// The undo journal of this change made to `target`, as the binary writes it now.
    pub(super) fn journal(&self, target: &Path) -> Vec<u8> {
        self.journal_as(magic(), target)
    }

    /// A fresh copy of the original as `song.flac` in a folder of its own, and beside it the
    /// journal `journal` gives for it (called after the copy, so it may first change its
    /// times): the folder, the file, the journal's path and its bytes.
    pub(super) fn song_with(
        &self,
        journal: impl FnOnce(&Path) -> Vec<u8>,
    ) -> (tempfile::TempDir, PathBuf, PathBuf, Vec<u8>) {
        let d = tempdir();
        let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
        let (path, bytes) = (journal_of(&p), journal(&p));
        std::fs::write(&path, &bytes).unwrap();
        (d, p, path, bytes)
    }
}

fn in_place_change(sample: &str) -> (Vec<u8>, Vec<u8>, usize, usize) {
    let d = tempdir();
    let p = copy_as(d.path(), sample, sample);
    let dry = noai_raw(&["tag", "--dry-run", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&dry), 1, "{}", text(&dry));
    assert_eq!(
        file_entry(&json(&dry), sample)["action"]["strategy"],
        "in-place",
        "{sample} is not written in place any more"
    );
    let old = bytes(&p);
    let o = noai_raw(&["tag", p.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let new = bytes(&p);
    assert_eq!(old.len(), new.len(), "an in-place write kept the length");
    let lo = (0..old.len()).find(|&i| old[i] != new[i]).unwrap();
    let hi = (0..old.len()).rfind(|&i| old[i] != new[i]).unwrap() + 1;
    assert!(hi - lo >= 8, "the change is too small to tear: {lo}..{hi}");
    (old, new, lo, hi)
}

/// The one record of a 006 or 008 journal file of one file (its frame checked); older
/// formats are a record.
fn framed_record(j: &[u8]) -> Vec<u8> {
    if !j.starts_with(b"NOAIJ006") && !j.starts_with(b"NOAIJ008") {
        return j.to_vec();
    }
    let (body, sum) = j.split_at(j.len() - 32);
    assert_eq!(
        sum,
        &Sha256::digest(body)[..],
        "a framed file ends with the SHA-256 of the rest"
    );
    let num = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().unwrap()) as usize;
    assert_eq!(num(8), 1, "the journal of one file holds one record");
    assert_eq!(24 + num(16), body.len(), "the record fills the frame");
    body[24..].to_vec()
}

/// The journals the tests below build by hand are the binary's own: a journal a killed
/// `noai tag` left has the layout `journal_bytes` writes (header, regions, checksum), and
/// `journal_bytes` rebuilds its header and its first region byte for byte. (Not the file times,
/// taken when noai read the file, nor the region count: the hand-built journal has one region.)
#[test]
fn a_hand_built_journal_is_the_one_the_binary_writes() {
    let (_d, p, real) = real_journal();
    let real = framed_record(&real);
    let (body, sum) = real.split_at(real.len() - 32);
    assert_eq!(
        sum,
        &Sha256::digest(body)[..],
        "a journal ends with the SHA-256 of the rest"
    );
    let num = |at: usize| u64::from_le_bytes(real[at..at + 8].try_into().unwrap()) as usize;
    let name = 16 + "song.flac".len(); // magic, name length, name
    let times = name + 32; // after dev, ino, old size, new size
    let first = times + 40; // after mtime, atime (seconds, nanoseconds) and the region count
    let file = bytes(&p); // untouched: the run was killed before it wrote
    let mut regions = Vec::new();
    let mut at = first;
    for _ in 0..num(first - 8) {
        let (offset, old_len, new_len) = (num(at), num(at + 8), num(at + 16));
        let old = &real[at + 24..][..old_len];
        let new = &real[at + 24 + old_len..][..new_len];
        assert_eq!(
            old,
            &file[offset..][..old_len],
            "region at {offset}: old bytes"
        );
        regions.push((offset, old, new, at..at + 24 + old_len + new_len));
        at += 24 + old_len + new_len;
    }
    assert_eq!(at, body.len(), "the regions end where the checksum starts");
    let (offset, old, new, span) = regions.first().cloned().expect("a journal has a region");
    let hand = framed_record(&journal_bytes(&p, offset as u64, old, new));
    assert!(
        hand[..times] == real[..times],
        "magic, name, dev, ino or sizes differ"
    );
    assert!(
        hand[first..hand.len() - 32] == real[span],
        "the hand-built region differs"
    );
}

#[test]
fn torn_in_place_write_is_an_error_until_tag_rolls_it_back() {
    let c = Change::flac();
    let (d, p, journal, _) = c.song_with(|p| c.journal(p));
    let Change { old, new, lo, hi } = &c;
    let audio = audio_md5(&p);
    let mid = lo + (hi - lo) / 2;
    write_at(&p, *lo as u64, &new[*lo..mid]); // the kill landed half way through the pwrite
    let torn = bytes(&p);
    assert!(torn != *old && torn != *new);
    let dir = d.path().to_str().unwrap();

    // Read-only and dry-run jobs must not trust the bytes, and must not recover either.
    for args in [
        vec!["verify", "--format", "json", dir],
        vec!["tag", "--dry-run", "--format", "json", dir],
        vec!["strip", "--dry-run", "--format", "json", dir],
        vec!["report", "--format", "json", dir],
    ] {
        let o = noai_raw(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        let doc = json(&o);
        let e = file_entry(&doc, "song.flac");
        assert_eq!(e["status"], "error", "{args:?}: {e:#}");
        let msg = e["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains("journal"),
            "{args:?}: error does not name the journal: {msg}"
        );
        assert_eq!(bytes(&p), torn, "{args:?} changed the file");
        assert!(journal.exists(), "{args:?} removed the journal");
    }

    // A writing run rolls the tear back, then tags the file.
    let o = noai_raw(&["tag", "--format", "json", dir]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists(), "the journal is left after recovery");
    assert_eq!(
        &bytes(&p),
        new,
        "recovered and tagged file differs from a clean tag"
    );
    assert_all_tagged(std::slice::from_ref(&p));
    assert_eq!(audio_md5(&p), audio);
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    let v = noai_raw(&["verify", dir]);
    assert_eq!(code(&v), 0, "{}", text(&v));
}

#[test]
fn torn_in_place_write_is_rolled_back_by_strip_too() {
    let c = Change::flac();
    // The journal keeps the file's times as they were when it was written: aged first.
    let (d, p, journal, _) = c.song_with(|p| {
        common::age(p);
        c.journal(p)
    });
    write_at(&p, c.lo as u64, &c.new[c.lo..c.lo + 1]); // one byte of the region written
    assert_ne!(
        common::stat(&p).2,
        1_600_000_000,
        "the torn write moved the mtime"
    );
    let o = noai_raw(&["strip", d.path().to_str().unwrap()]);
    // The rolled-back file carries no reservation: nothing to strip.
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists());
    assert_eq!(
        bytes(&p),
        c.old,
        "strip after a torn tag must give back the original"
    );
    let (_, _, secs, nanos) = common::stat(&p);
    assert_eq!(
        (secs, nanos),
        (1_600_000_000, 0),
        "the rollback kept the new mtime"
    );
}

#[test]
fn journals_of_formats_003_and_005_are_still_rolled_back() {
    let c = Change::flac();
    for m in ["NOAIJ003", "NOAIJ005"] {
        let (d, p, journal, _) = c.song_with(|p| c.journal_as(m, p));
        write_at(&p, c.lo as u64, &c.new[c.lo..c.lo + 1]);
        let o = noai_raw(&["strip", d.path().to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        assert!(!journal.exists());
        assert_eq!(bytes(&p), c.old, "a {m} journal no longer rolls back");
    }
}

#[test]
fn journal_left_before_or_after_the_write_is_harmless() {
    let c = Change::flac();
    // Killed after the journal was durable, before the write: the file is the original.
    let (d, p, journal, _) = c.song_with(|p| c.journal(p));
    let o = noai_raw(&["tag", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists());
    assert_eq!(bytes(&p), c.new);

    // Killed after the write, before the journal was removed: the file is already new.
    let (d, p, journal, _) = c.song_with(|p| c.journal(p));
    write_at(&p, c.lo as u64, &c.new[c.lo..c.hi]);
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        file_entry(&json(&o), "song.flac")["action"]["type"],
        "unchanged"
    );
    assert!(!journal.exists());
    assert_eq!(bytes(&p), c.new);

    // Killed while the journal itself was being written (cut short): discarded, file untouched.
    let (d, p, journal, _) = c.song_with(|p| {
        let j = c.journal(p);
        j[..j.len() / 2].to_vec()
    });
    let o = noai_raw(&["tag", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists());
    assert_eq!(bytes(&p), c.new);
}
