//! Runs interrupted on purpose: `noai tag` killed in its pause between staging and applying (a
//! real journal, an untouched file), a torn copy, a library of a few hundred copied samples, and
//! the check that each file after an interrupted run is its original or tagged with its audio
//! unchanged, with no journal or temp file left (noai verify says "tagged"; ffmpeg hashes the
//! audio).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::pause::Pause;
use crate::common::{
    SAMPLES, audio_md5, bytes, copy_sample, journal_of, leftovers, noai, sha256_hex, tempdir,
};

/// Samples `tag` writes (in place or by rewrite), every container.
pub const WRITABLE: [&str; 22] = [
    "aifc.aifc",
    "aiff-id3.aiff",
    "aiff-plain.aiff",
    "flac-id3prefix.flac",
    "flac-nopad.flac",
    "flac-pad.flac",
    "m4a-aac-faststart.m4a",
    "m4a-aac-moovend.m4a",
    "m4a-alac.m4a",
    "m4b-book.m4b",
    "mp3-id3v1-only.mp3",
    "mp3-noid3.mp3",
    "mp3-v22.mp3",
    "mp3-v23-pad.mp3",
    "mp3-v24-nopad.mp3",
    "noncanonical-lowercase.flac",
    "opus.opus",
    "speex.spx",
    "tagged-no-ai-training.mp3",
    "vorbis.ogg",
    "wav-id3.wav",
    "wav-plain.wav",
];
pub const FOLDERS: usize = 28; // 28 x 22 = 616 files: two chunks of the run

/// A library of copies: `<dir>/NN/<sample>`; returns (relative path, sample) pairs.
pub fn make_library(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut files = Vec::new();
    for n in 0..FOLDERS {
        let sub = PathBuf::from(format!("{n:02}"));
        std::fs::create_dir_all(dir.join(&sub)).unwrap();
        for s in WRITABLE {
            copy_sample(&dir.join(&sub), s);
            files.push((sub.join(s), s));
        }
    }
    files
}

/// Checks a library after an interrupted run: no helper file, every file its original bytes or
/// tagged (noai verify) with the original audio (ffmpeg, cached by content).
pub fn check_library(
    lib: &Path,
    files: &[(PathBuf, &str)],
    audio: &mut HashMap<String, String>,
    run: &str,
) -> usize {
    let left = leftovers(lib);
    assert!(left.is_empty(), "{run}: left behind: {left:?}");
    let doc: Value = noai(&["verify", "--format", "json", lib.to_str().unwrap()]).json();
    let status: HashMap<String, String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut changed = 0;
    for (rel, sample) in files {
        let p = lib.join(rel);
        let now = bytes(&p);
        let orig = bytes(&Path::new(SAMPLES).join(sample));
        if now == orig {
            continue;
        }
        changed += 1;
        let st = status.get(p.to_str().unwrap()).map(String::as_str);
        assert_eq!(
            st,
            Some("tagged"),
            "{run}: {} is neither its original nor tagged",
            rel.display()
        );
        let mut md5 = |b: &[u8], path: &Path| {
            audio
                .entry(sha256_hex(b))
                .or_insert_with(|| audio_md5(path))
                .clone()
        };
        let want = md5(&orig, &Path::new(SAMPLES).join(sample));
        assert_eq!(
            md5(&now, &p),
            want,
            "{run}: {}: audio changed",
            rel.display()
        );
    }
    changed
}

/// A small deterministic generator, so a failing delay can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Starts `noai tag` with `args`; with `pause`, the run holds between staging and applying
/// until the test resumes, interrupts or kills it.
pub fn spawn_tag(args: &[&str], pause: Option<&Pause>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
    cmd.arg("tag").args(args).env("NO_COLOR", "1");
    if let Some(pause) = pause {
        pause.on(&mut cmd);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start noai")
}

/// Runs `noai tag` on `p` until it holds in the pause between staging and applying, then
/// SIGKILLs it: the journal is durable and the file untouched, as after a crash or a kill.
pub fn stage_and_kill(p: &Path) -> PathBuf {
    let before = bytes(p);
    let pause = Pause::new();
    let mut child = spawn_tag(&[p.to_str().unwrap()], Some(&pause));
    pause.wait(&mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(bytes(p), before, "the file changed before the pause");
    let journal = journal_of(p);
    assert!(journal.exists(), "no journal for {}", p.display());
    journal
}

/// What `tag` writes into `sample` (learned on a copy): the tagged bytes.
pub fn tagged_bytes(sample: &str) -> Vec<u8> {
    let d = tempdir();
    let p = copy_sample(d.path(), sample);
    noai(&["tag", p.to_str().unwrap()]).expect(0);
    bytes(&p)
}

/// A copy of `sample` in `dir` torn half way through its in-place write, with its real journal.
pub fn torn_copy(dir: &Path, sample: &str) -> (PathBuf, PathBuf) {
    let new = tagged_bytes(sample);
    let p = copy_sample(dir, sample);
    let journal = stage_and_kill(&p);
    let old = bytes(&p);
    assert_eq!(
        old.len(),
        new.len(),
        "{sample} is not tagged in place any more"
    );
    let lo = (0..old.len()).find(|&i| old[i] != new[i]).unwrap();
    let hi = (0..old.len()).rfind(|&i| old[i] != new[i]).unwrap() + 1;
    let mid = lo + (hi - lo) / 2;
    assert!(mid > lo, "the change is too small to tear");
    let mut torn = old.clone();
    torn[lo..mid].copy_from_slice(&new[lo..mid]);
    std::fs::write(&p, &torn).unwrap();
    (p, journal)
}

/// Waits until the first file of the library (in the first chunk) is written.
pub fn wait_for_first_writes(lib: &Path, files: &[(PathBuf, &str)], run: &str) {
    let (rel, sample) = &files[0];
    let orig = bytes(&Path::new(SAMPLES).join(sample));
    let start = Instant::now();
    while bytes(&lib.join(rel)) == orig {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{run}: nothing written"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill on the pid of a child we have not reaped yet.
    unsafe { libc::kill(child.id() as i32, sig) };
}
