//! Reliability of writes under hostile conditions, checked from outside with the built binary and
//! independent readers (python3 + mutagen for the fields, ffmpeg for the audio): two `noai tag`
//! runs at once, a file size limit (EFBIG), a full file system (ENOSPC on a small tmpfs),
//! read-only files and folders, a symlink out of the tree, and file names that try to inject
//! terminal escapes (a torn in-place write left with its undo journal: `torn_write.rs`). Each
//! test works in its own temp dir. A missing tool (python3, mutagen, ffmpeg, prlimit, mount)
//! fails the test; it never skips.
//!
//! Not covered here: a file changed by another program between noai's read and its write. The
//! guard (`Snapshot::check_unchanged` before `apply`) cannot be hit deterministically from
//! outside the process without a test hook, and a timing-based test would pass by luck.

use crate::common;
use common::lavfi;
use common::pause::Pause;
use common::{
    BIN, SAMPLES, audio_md5, bytes, code, copy_as, file_entry, json, leftovers, noai_raw,
    output_within, sha256_hex, tempdir, text, tool_ok,
};

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::torn_write::Change;

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

pub(super) fn assert_all_tagged(paths: &[PathBuf]) {
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
    let c = Change::flac();
    let (d, p, journal, j) = c.song_with(|p| c.journal(p));
    let lock = Flock::take(&p);
    let o = noai_raw(&["tag", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let doc = json(&o);
    let e = file_entry(&doc, "song.flac");
    assert_eq!(e["status"], "error", "{e:#}");
    assert_eq!(bytes(&p), c.old, "a busy file was changed");
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
        let pause = Pause::new();
        let mut child = pause
            .on(Command::new(env!("CARGO_BIN_EXE_noai")).args([
                "tag",
                "--format",
                "json",
                p.to_str().unwrap(),
            ]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        pause.wait(&mut child);
        let mut changed = bytes(&p);
        changed.extend_from_slice(b"appended by another program");
        std::fs::write(&p, &changed).unwrap();
        pause.resume();
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
