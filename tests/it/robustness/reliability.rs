//! Reliability of writes under hostile conditions, checked from outside with the built binary and
//! independent readers (python3 + mutagen for the fields, ffmpeg for the audio): a torn in-place
//! write left with its undo journal, two `noai tag` runs at once, a file size limit (EFBIG), a
//! full file system (ENOSPC on a small tmpfs), read-only files and folders, a symlink out of the
//! tree, and file names that try to inject terminal escapes. Each test works in its own temp dir.
//! A missing tool (python3, mutagen, ffmpeg, prlimit, mount) fails the test; it never skips.
//!
//! Not covered here: a file changed by another program between noai's read and its write. The
//! guard (`Snapshot::check_unchanged` before `apply`) cannot be hit deterministically from
//! outside the process without a test hook, and a timing-based test would pass by luck.

use crate::common;
use common::interrupted;
use common::lavfi;
use common::{
    BIN, SAMPLES, audio_md5, bytes, code, copy_as, file_entry, journal_of, json, leftovers,
    noai_raw, output_within, sha256_hex, tempdir, text, tool_ok,
};

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

const DATAMINING: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";
const LIMIT: Duration = Duration::from_secs(60);

/// Samples that are untagged and writable, by the strategy `tag` uses for them.
const IN_PLACE: [&str; 8] = [
    "aiff-id3.aiff",
    "flac-id3prefix.flac",
    "flac-pad.flac",
    "m4a-aac-faststart.m4a",
    "m4a-alac.m4a",
    "mp3-v23-pad.mp3",
    "opus.opus",
    "wav-id3.wav",
];
const REWRITE: [&str; 8] = [
    "aifc.aifc",
    "aiff-plain.aiff",
    "flac-nopad.flac",
    "mp3-id3v1-only.mp3",
    "mp3-noid3.mp3",
    "speex.spx",
    "vorbis.ogg",
    "wav-plain.wav",
];

// ---------------------------------------------------------------------------------------------
// helpers

const MUTAGEN: &str = r#"
import json, sys
import mutagen, mutagen.id3, mutagen.mp4
out = []
for path in sys.argv[1:]:
    f = mutagen.File(path)
    got = {}
    out.append(got)
    if f is None:
        got["error"] = "mutagen does not recognise the file"
        continue
    t = f.tags
    for k in ("TDM-RESERVATION", "DATAMINING"):
        if t is None:
            got[k] = []
        elif isinstance(t, mutagen.id3.ID3):
            got[k] = [v for fr in t.getall("TXXX") if fr.desc == k for v in fr.text]
        elif isinstance(t, mutagen.mp4.MP4Tags):
            got[k] = [bytes(v).decode() for v in t.get("----:com.apple.iTunes:" + k, [])]
        else:
            got[k] = list(t[k]) if k in t else []
print(json.dumps(out))
"#;

/// Our two fields as mutagen reads them, per file (one python3 process for all files).
fn mutagen_fields(paths: &[PathBuf]) -> BTreeMap<PathBuf, Value> {
    let out = tool_ok(Command::new("python3").arg("-c").arg(MUTAGEN).args(paths));
    let v: Vec<Value> = serde_json::from_str(&out).expect("mutagen json");
    assert_eq!(v.len(), paths.len());
    paths.iter().cloned().zip(v).collect()
}

fn assert_all_tagged(paths: &[PathBuf]) {
    let wanted = serde_json::json!({"TDM-RESERVATION": ["1"], "DATAMINING": [DATAMINING]});
    for (p, got) in mutagen_fields(paths) {
        assert_eq!(
            got,
            wanted,
            "mutagen reads other fields from {}",
            p.display()
        );
    }
}

fn assert_untagged(p: &Path) {
    let wanted = serde_json::json!({"TDM-RESERVATION": [], "DATAMINING": []});
    let got = mutagen_fields(&[p.to_path_buf()]);
    assert_eq!(
        got[p],
        wanted,
        "mutagen reads our fields from {}",
        p.display()
    );
}

// ---------------------------------------------------------------------------------------------
// torn in-place write, built by hand in the journal format the binary writes

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
        // dev, ino, old size, new size, region count, per region (offset, old length, new
        // length, old bytes), SHA-256 of all new bytes
        "NOAIJ002" => {
            for n in [meta.dev(), meta.ino(), meta.size(), meta.size(), 1] {
                push_u64(&mut rec, n);
            }
            for n in [offset, old.len() as u64, new.len() as u64] {
                push_u64(&mut rec, n);
            }
            rec.extend_from_slice(old);
            rec.extend_from_slice(&Sha256::digest(new));
        }
        // as 002, with the new bytes after the old ones in each region and no hash of them
        "NOAIJ003" => {
            for n in [meta.dev(), meta.ino(), meta.size(), meta.size(), 1] {
                push_u64(&mut rec, n);
            }
            for n in [offset, old.len() as u64, new.len() as u64] {
                push_u64(&mut rec, n);
            }
            rec.extend_from_slice(old);
            rec.extend_from_slice(new);
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
            "the journal format changed (MAGIC {other}); update journal_bytes in tests/it/robustness/reliability.rs"
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

/// What an in-place `tag` of `sample` does: the original bytes, the tagged bytes, and the span
/// `[lo, hi)` where they differ (learned by tagging a copy).
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

/// The journals the tests below build by hand are the binary's own: a journal a killed
/// `noai tag` left has the layout `journal_bytes` writes (header, regions, checksum), and
/// `journal_bytes` rebuilds its header and its first region byte for byte. (Not the file times,
/// taken when noai read the file, nor the region count: the hand-built journal has one region.)
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
    let (old, new, lo, hi) = in_place_change("flac-pad.flac");
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let audio = audio_md5(&p);
    let mid = lo + (hi - lo) / 2;
    let journal = journal_of(&p);
    std::fs::write(
        &journal,
        journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]),
    )
    .unwrap();
    write_at(&p, lo as u64, &new[lo..mid]); // the kill landed half way through the pwrite
    let torn = bytes(&p);
    assert!(torn != old && torn != new);
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
        bytes(&p),
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
    let (old, new, lo, hi) = in_place_change("flac-pad.flac");
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    common::age(&p);
    let journal = journal_of(&p);
    std::fs::write(
        &journal,
        journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]),
    )
    .unwrap();
    write_at(&p, lo as u64, &new[lo..lo + 1]); // one byte of the region written
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
        old,
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
    let (old, new, lo, hi) = in_place_change("flac-pad.flac");
    for m in ["NOAIJ003", "NOAIJ005"] {
        let d = tempdir();
        let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
        let journal = journal_of(&p);
        let rec = journal_bytes_as(m, &p, lo as u64, &old[lo..hi], &new[lo..hi]);
        std::fs::write(&journal, rec).unwrap();
        write_at(&p, lo as u64, &new[lo..lo + 1]);
        let o = noai_raw(&["strip", d.path().to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        assert!(!journal.exists());
        assert_eq!(bytes(&p), old, "a {m} journal no longer rolls back");
    }
}

#[test]
fn journal_left_before_or_after_the_write_is_harmless() {
    let (old, new, lo, hi) = in_place_change("flac-pad.flac");
    // Killed after the journal was durable, before the write: the file is the original.
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let journal = journal_of(&p);
    std::fs::write(
        &journal,
        journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]),
    )
    .unwrap();
    let o = noai_raw(&["tag", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists());
    assert_eq!(bytes(&p), new);

    // Killed after the write, before the journal was removed: the file is already new.
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let journal = journal_of(&p);
    std::fs::write(
        &journal,
        journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]),
    )
    .unwrap();
    write_at(&p, lo as u64, &new[lo..hi]);
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        file_entry(&json(&o), "song.flac")["action"]["type"],
        "unchanged"
    );
    assert!(!journal.exists());
    assert_eq!(bytes(&p), new);

    // Killed while the journal itself was being written (cut short): discarded, file untouched.
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let journal = journal_of(&p);
    let j = journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]);
    std::fs::write(&journal, &j[..j.len() / 2]).unwrap();
    let o = noai_raw(&["tag", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!journal.exists());
    assert_eq!(bytes(&p), new);
}

// ---------------------------------------------------------------------------------------------
// concurrency

/// Holds an exclusive `flock` on a file, as a running `noai tag` does while it writes it.
struct Flock {
    _held: std::fs::File,
}

impl Flock {
    fn take(p: &Path) -> Flock {
        let f = std::fs::File::open(p).unwrap();
        f.lock().expect("flock failed"); // std's File::lock is flock(LOCK_EX) on Linux
        Flock { _held: f }
    }
}

#[test]
fn the_undo_journal_of_a_file_another_writer_holds_is_left_alone() {
    // A running `noai tag` has staged file X (journal durable, lock held) and is about to write
    // it. A second run started now must not treat that live journal as a leftover: if it
    // removes it and the first run is killed during its write, the tear can no longer be
    // rolled back.
    let (old, new, lo, hi) = in_place_change("flac-pad.flac");
    let d = tempdir();
    let p = copy_as(d.path(), "flac-pad.flac", "song.flac");
    let journal = journal_of(&p);
    let j = journal_bytes(&p, lo as u64, &old[lo..hi], &new[lo..hi]);
    std::fs::write(&journal, &j).unwrap();
    let lock = Flock::take(&p);
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let doc = json(&o);
    let e = file_entry(&doc, "song.flac");
    assert_eq!(e["status"], "error", "{e:#}");
    assert_eq!(bytes(&p), old, "a busy file was changed");
    assert!(
        journal.exists(),
        "a second run removed the undo journal of a file another process is writing (held flock): \
         error was {:?}",
        e["error"]
    );
    assert_eq!(bytes(&journal), j, "the live journal was changed");
    drop(lock);
}

#[test]
fn two_runs_at_once_write_each_file_once_and_damage_nothing() {
    let names: Vec<&str> = IN_PLACE.iter().chain(REWRITE.iter()).copied().collect();
    let audio: BTreeMap<&str, String> = names
        .iter()
        .map(|n| (*n, audio_md5(&Path::new(SAMPLES).join(n))))
        .collect();
    // Tagging is deterministic, so equal bytes recur: decode each distinct content once.
    let mut by_content: BTreeMap<String, String> = BTreeMap::new();
    for round in 0..6 {
        let d = tempdir();
        let mut files = Vec::new();
        for sub in ["a", "b", "c"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
            for n in &names {
                files.push((copy_as(&d.path().join(sub), n, n), *n));
            }
        }
        for (p, _) in files.split_off(40) {
            std::fs::remove_file(p).unwrap();
        }
        let dir = d.path().to_str().unwrap().to_string();
        let spawn = |j: &str| {
            Command::new(BIN)
                .args(["tag", "-j", j, "--format", "json", &dir])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cannot start noai")
        };
        let (a, b) = (spawn("2"), spawn("2"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let (ja, jb) = (json(&a), json(&b));
        let total = files.len() as u64;
        let written = |j: &Value| {
            j["summary"]["written_in_place"].as_u64().unwrap()
                + j["summary"]["rewritten"].as_u64().unwrap()
        };
        assert_eq!(
            written(&ja) + written(&jb),
            total,
            "round {round}: files written {} + {} != {total}\nA: {}\nB: {}",
            written(&ja),
            written(&jb),
            text(&a),
            text(&b)
        );
        for (p, n) in &files {
            let rel = p.strip_prefix(d.path()).unwrap().to_str().unwrap();
            let (ea, eb) = (file_entry(&ja, rel), file_entry(&jb, rel));
            let kind = |e: &Value| -> &'static str {
                match (e["action"]["type"].as_str(), e["error"].as_str()) {
                    (Some("written"), _) => "written",
                    (Some("unchanged"), _) => "unchanged",
                    (_, Some(msg)) if msg.contains("busy") => "busy",
                    _ => "other",
                }
            };
            let mut k = [kind(ea), kind(eb)];
            k.sort();
            assert!(
                k == ["unchanged", "written"] || k == ["busy", "written"],
                "round {round}, {rel}: A {ea} / B {eb}"
            );
            let md5 = by_content
                .entry(sha256_hex(&bytes(p)))
                .or_insert_with(|| audio_md5(p))
                .clone();
            assert_eq!(md5, audio[n], "round {round}: audio of {rel} changed");
        }
        for (o, j) in [(&a, &ja), (&b, &jb)] {
            let errors = j["summary"]["errors"].as_u64().unwrap();
            assert_eq!(code(o), if errors > 0 { 2 } else { 0 }, "{}", text(o));
        }
        assert_all_tagged(&files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>());
        assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
        let v = noai_raw(&["verify", &dir]);
        assert_eq!(code(&v), 0, "{}", text(&v));
    }
}

// ---------------------------------------------------------------------------------------------
// resource limits: EFBIG, ENOSPC

/// A plain WAV (fmt + data, no tags: `tag` must rewrite it) of `frames` 16-bit mono frames.
fn write_wav(p: &Path, frames: u32) {
    let data_len = frames * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&44100u32.to_le_bytes());
    b.extend_from_slice(&88200u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((i as f64 * 440.0 * std::f64::consts::TAU / 44100.0).sin() * 8000.0) as i16;
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(p, b).unwrap();
}

/// About 95 kB of Ogg Vorbis (10 s of pink noise, by ffmpeg): `tag` must rewrite it whole.
fn write_big_ogg(p: &Path) {
    tool_ok(
        lavfi("anoisesrc=d=10:c=pink:r=44100:a=0.3:seed=7")
            .args(["-c:a", "libvorbis"])
            .args(["-q:a", "4"])
            .arg(p),
    );
    let len = std::fs::metadata(p).unwrap().len();
    assert!(len > 60_000, "the generated Ogg is too small ({len} bytes)");
    let dry = noai_raw(&["tag", "--dry-run", "--format", "json", p.to_str().unwrap()]);
    let doc = json(&dry);
    let name = p.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        file_entry(&doc, name)["action"]["strategy"],
        "rewrite",
        "a big Ogg is no longer rewritten; this test needs a file that is"
    );
}

#[test]
fn file_size_limit_fails_the_rewrite_cleanly() {
    let d = tempdir();
    let big = d.path().join("big.wav");
    write_wav(&big, 80_000); // 160 kB: any write past 60 kB fails (in place or rewrite)
    let ogg = d.path().join("big.ogg");
    write_big_ogg(&ogg); // its rewritten copy exceeds the limit
    let small = copy_as(d.path(), "flac-nopad.flac", "small.flac"); // rewrite, ~9 kB
    let inplace = copy_as(d.path(), "flac-pad.flac", "inplace.flac");
    let before = sha256_hex(&bytes(&big));
    let audio = audio_md5(&big);
    let (ogg_before, ogg_audio) = (sha256_hex(&bytes(&ogg)), audio_md5(&ogg));
    let script = format!("trap '' XFSZ; exec '{BIN}' tag \"$1\"");
    let o = output_within(
        Command::new("prlimit")
            .args(["--fsize=60000:60000", "--", "sh", "-c", &script, "sh"])
            .arg(d.path()),
        LIMIT,
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let line = out
        .lines()
        .find(|l| l.contains("big.wav"))
        .unwrap_or_else(|| panic!("no line names big.wav:\n{}", text(&o)));
    assert!(
        line.starts_with("error") && line.contains("File too large"),
        "unclear error for big.wav: {line}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("big.ogg"))
        .unwrap_or_else(|| panic!("no line names big.ogg:\n{}", text(&o)));
    assert!(
        line.starts_with("error") && line.contains("File too large"),
        "unclear error for big.ogg: {line}"
    );
    assert_eq!(sha256_hex(&bytes(&big)), before, "big.wav changed");
    assert_eq!(audio_md5(&big), audio);
    assert_eq!(sha256_hex(&bytes(&ogg)), ogg_before, "big.ogg changed");
    assert_eq!(audio_md5(&ogg), ogg_audio);
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    assert_all_tagged(&[small, inplace]);
    assert_untagged(&big);
    assert_untagged(&ogg);
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir(at).unwrap();
        let o = output_within(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(at),
            LIMIT,
        );
        assert!(
            o.status.success(),
            "cannot mount a tmpfs (this test needs root or CAP_SYS_ADMIN): {}",
            text(&o)
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_file_system_fails_the_rewrite_cleanly() {
    let d = tempdir();
    let src = d.path().join("z-big.ogg");
    write_big_ogg(&src);
    let len = std::fs::metadata(&src).unwrap().len();
    // Room for the big file, the small ones and their temp/journal, not for a second copy.
    let fs = Tmpfs::mount(&d.path().join("mnt"), &format!("{}k", len / 1024 + 48));
    let small = copy_as(&fs.0, "flac-nopad.flac", "a-small.flac");
    let inplace = copy_as(&fs.0, "flac-pad.flac", "b-inplace.flac");
    let big = fs.0.join("z-big.ogg");
    std::fs::copy(&src, &big).unwrap();
    let before = sha256_hex(&bytes(&big));
    let o = noai_raw(&["tag", "-j", "1", "--format", "json", fs.0.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let doc = json(&o);
    let e = file_entry(&doc, "z-big.ogg");
    assert_eq!(e["status"], "error", "{e:#}");
    let msg = e["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains("not enough free space") && msg.contains("is free"),
        "unclear error: {msg}"
    );
    assert_eq!(sha256_hex(&bytes(&big)), before, "z-big.ogg changed");
    assert!(leftovers(&fs.0).is_empty(), "{:?}", leftovers(&fs.0));
    assert_all_tagged(&[small, inplace]);
    let human = noai_raw(&["tag", fs.0.to_str().unwrap()]);
    assert_eq!(code(&human), 2);
    assert!(
        String::from_utf8_lossy(&human.stdout)
            .lines()
            .any(|l| l.starts_with("error") && l.contains("z-big.ogg")),
        "{}",
        text(&human)
    );
    assert_eq!(sha256_hex(&bytes(&big)), before);
    assert!(leftovers(&fs.0).is_empty(), "{:?}", leftovers(&fs.0));
}

// ---------------------------------------------------------------------------------------------
// permissions

#[test]
fn read_only_files_and_folders_are_errors_and_unchanged() {
    let d = tempdir();
    let ro_dir = d.path().join("locked");
    std::fs::create_dir(&ro_dir).unwrap();
    let in_ro_dir = copy_as(&ro_dir, "flac-pad.flac", "in-locked.flac");
    let in_ro_dir2 = copy_as(&ro_dir, "flac-nopad.flac", "rewrite-in-locked.flac");
    let ro_file = copy_as(d.path(), "mp3-v23-pad.mp3", "readonly.mp3");
    let ok = copy_as(d.path(), "opus.opus", "ok.opus");
    let ok2 = copy_as(d.path(), "vorbis.ogg", "ok.ogg");
    std::fs::set_permissions(&ro_file, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&ro_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before: Vec<Vec<u8>> = [&in_ro_dir, &in_ro_dir2, &ro_file]
        .iter()
        .map(|p| bytes(p))
        .collect();
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    std::fs::set_permissions(&ro_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    let doc = json(&o);
    for (name, want) in [
        ("in-locked.flac", "read-only folder"),
        ("rewrite-in-locked.flac", "read-only folder"),
        ("readonly.mp3", "read-only file"),
    ] {
        let e = file_entry(&doc, name);
        assert_eq!(e["status"], "error", "{e:#}");
        let msg = e["error"].as_str().unwrap_or_default();
        assert!(msg.contains(want), "{name}: unclear error {msg:?}");
    }
    let after: Vec<Vec<u8>> = [&in_ro_dir, &in_ro_dir2, &ro_file]
        .iter()
        .map(|p| bytes(p))
        .collect();
    assert!(
        before == after,
        "a read-only file or a file in a read-only folder changed"
    );
    assert_eq!(
        std::fs::metadata(&ro_file).unwrap().mode() & 0o7777,
        0o444,
        "the read-only file was chmod'ed"
    );
    assert_all_tagged(&[ok, ok2]);
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
}

// ---------------------------------------------------------------------------------------------
// security

#[test]
fn a_symlink_out_of_the_tree_is_neither_followed_nor_written() {
    let outside = tempdir();
    let target = copy_as(outside.path(), "flac-pad.flac", "outside.flac");
    let before = sha256_hex(&bytes(&target));
    let d = tempdir();
    let inside = copy_as(d.path(), "flac-nopad.flac", "inside.flac");
    std::os::unix::fs::symlink(&target, d.path().join("link.flac")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.path().join("linked-dir")).unwrap();
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let doc = json(&o);
    assert_eq!(doc["summary"]["files"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["skipped"]["symlink"], 1, "{doc:#}");
    assert_eq!(
        sha256_hex(&bytes(&target)),
        before,
        "the file behind the link was written"
    );
    assert!(
        std::fs::symlink_metadata(d.path().join("link.flac"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        1,
        "files appeared outside"
    );
    assert_all_tagged(&[inside]);
}

#[test]
fn hostile_file_names_are_escaped_for_terminals_and_exact_in_json() {
    let d = tempdir();
    let evil = "red\x1b[31mname\nline2.flac";
    let p = copy_as(d.path(), "flac-nopad.flac", evil);
    let latin1 = OsStr::from_bytes(b"caf\xe9.flac");
    let q = copy_as(d.path(), "flac-pad.flac", latin1);
    let dir = d.path().to_str().unwrap();

    let o = noai_raw(&["tag", "-v", dir]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    for stream in [&o.stdout, &o.stderr] {
        assert!(
            !stream.contains(&0x1b),
            "a raw ESC reached the terminal: {}",
            text(&o)
        );
        assert!(
            !stream.contains(&0xe9),
            "an invalid UTF-8 byte reached the terminal"
        );
    }
    let out = String::from_utf8(o.stdout.clone()).expect("human output is UTF-8");
    assert!(
        out.lines()
            .any(|l| l.contains("red\\u{1b}[31mname\\u{a}line2.flac")),
        "escaped name not found:\n{out}"
    );
    assert!(
        out.contains("caf\\xe9.flac"),
        "escaped latin-1 name not found:\n{out}"
    );

    let j = noai_raw(&["verify", "--format", "json", dir]);
    assert_eq!(code(&j), 0, "{}", text(&j));
    let doc = json(&j);
    let files = doc["files"].as_array().unwrap();
    let exact = files
        .iter()
        .find(|f| f["path"].as_str() == p.to_str())
        .unwrap_or_else(|| panic!("no entry with the exact path {p:?}: {doc:#}"));
    assert!(
        exact.get("path_hex").is_none(),
        "path_hex for a valid UTF-8 name"
    );
    let hex: String = q
        .as_os_str()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let e = files
        .iter()
        .find(|f| f["path_hex"].as_str() == Some(hex.as_str()))
        .unwrap_or_else(|| panic!("no entry with path_hex {hex}: {doc:#}"));
    assert_eq!(e["status"], "tagged");
    assert_all_tagged(&[p, q]);
}

/// A file another program changes after noai read it (and staged its write) is detected and left
/// as the other program made it, for both strategies. Uses the debug-build hook
/// `NOAI_TEST_PAUSE_MS`, which holds the run between staging and applying.
#[test]
fn a_file_changed_behind_our_back_is_left_alone() {
    for sample in ["flac-pad.flac", "flac-nopad.flac"] {
        let d = tempdir();
        let p = copy_as(d.path(), sample, sample);
        let child = Command::new(env!("CARGO_BIN_EXE_noai"))
            .args(["tag", "--format", "json", p.to_str().unwrap()])
            .env("NOAI_TEST_PAUSE_MS", "1500")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let mut changed = bytes(&p);
        changed.extend_from_slice(b"appended by another program");
        std::fs::write(&p, &changed).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{sample}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let err = doc["files"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            err.contains("changed while it was being processed"),
            "{sample}: {err}"
        );
        assert_eq!(
            bytes(&p),
            changed,
            "{sample}: the other program's change was overwritten"
        );
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            1,
            "{sample}: journal or temp file left: {names:?}"
        );
    }
}
