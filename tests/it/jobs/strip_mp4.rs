//! `strip` as an exact undo of `tag` for MP4: `tag` appends its XMP `uuid` box at the end of the
//! file, and `strip` cuts the file back before it (a crash-safe truncation through the write
//! layer: the cut tail is in the undo journal). Checked here: every M4A/M4B sample comes back
//! with its original SHA-256, hard links stay one file, and a `strip` killed at any point of its
//! write (after the journal is durable) is rolled back to the tagged file by the next run, cut
//! tail included, or kept when it had finished: each point of one file's write built by hand
//! from the real journal, and real SIGKILLs at random moments of a run over 120 files (before,
//! during and after its writes and cuts).

use crate::common;
use crate::common::interrupted;
use crate::common::pause::Pause;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const MP4: [&str; 4] = [
    "m4a-aac-faststart.m4a",
    "m4a-aac-moovend.m4a",
    "m4a-alac.m4a",
    "m4b-book.m4b",
];

/// `noai <job> --format json <file>`: the file's action type and strategy.
fn run(job: &str, f: &Path) -> (String, String) {
    let doc = noai_json(&[job, p(f)], 0);
    action(&doc, f.file_name().unwrap().to_str().unwrap())
}

#[test]
fn tag_then_strip_gives_back_every_mp4_sample_exactly() {
    let dir = tempdir();
    for name in MP4 {
        let f = copy_sample(dir.path(), name);
        let orig = bytes(&f);
        let (written, how) = run("tag", &f);
        assert_eq!(
            (written.as_str(), how.as_str()),
            ("written", "in-place"),
            "{name}"
        );
        assert!(bytes(&f).len() > orig.len(), "{name}: tag appended no box");
        assert_eq!(run("strip", &f).1, "in-place", "{name}");
        assert_eq!(
            sha256_hex(&bytes(&f)),
            sha256_hex(&orig),
            "{name}: not the original bytes"
        );
        // An independent reader agrees nothing of ours is left (the bytes say so already;
        // this guards the sample list against a sample that tag leaves alone).
        assert!(ours(&mutagen(&f)).is_empty(), "{name}");
        noai(&["verify", p(&f)]).expect(1);
    }
}

#[test]
fn a_cut_keeps_hard_links_one_file_and_the_mtime_when_asked() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempdir();
    let f = copy_sample(dir.path(), "m4a-alac.m4a");
    let link = dir.path().join("link.m4a");
    std::fs::hard_link(&f, &link).unwrap();
    let orig = bytes(&f);
    run("tag", &f);
    let then = std::time::UNIX_EPOCH + Duration::new(981_173_106, 123_456_789);
    let times = std::fs::FileTimes::new().set_modified(then);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_times(times)
        .unwrap();
    let doc = noai_json(&["strip", "--preserve-mtime", p(&f)], 0);
    assert_eq!(action(&doc, "m4a-alac.m4a").1, "in-place");
    assert_eq!(bytes(&link), orig, "the other link sees the original bytes");
    let meta = std::fs::metadata(&link).unwrap();
    assert_eq!(meta.nlink(), 2);
    assert_eq!(
        (meta.mtime(), meta.mtime_nsec()),
        (981_173_106, 123_456_789)
    );
}

/// Runs `noai strip` on `f` until it holds in the pause between staging and applying, then
/// SIGKILLs it; returns the journal's bytes (the file is still the tagged one).
fn stage_strip_and_kill(f: &Path) -> Vec<u8> {
    let before = bytes(f);
    let pause = Pause::new();
    let mut child = pause
        .on(Command::new(env!("CARGO_BIN_EXE_noai")).args(["strip", p(f)]))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start noai");
    pause.wait(&mut child); // written and synced: in the pause
    let journal = journal_of(f);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(bytes(f), before, "the file changed before the pause");
    let j = bytes(&journal);
    // 008 frames the records: the record starts after magic, count and length. A cut needs
    // record format 005 (007 is written only for an append that leaves holes).
    assert!(j.starts_with(b"NOAIJ008"), "the journal file format is 008");
    assert_eq!(
        &j[24..32],
        b"NOAIJ005",
        "a cut needs journal record format 005"
    );
    j
}

/// The file as a kill at each point of the strip's write leaves it: `tagged` (T) becomes
/// `orig` (O) by positioned writes below `O.len()`, then the cut to `O.len()`.
fn kill_points(tagged: &[u8], orig: &[u8]) -> Vec<(&'static str, Vec<u8>, bool)> {
    let n = orig.len();
    let diff: Vec<usize> = (0..n).filter(|&i| tagged[i] != orig[i]).collect();
    assert!(diff.len() > 2, "strip rewrites nothing before the cut");
    let half = diff[diff.len() / 2];
    let mut torn = tagged.to_vec();
    torn[..half].copy_from_slice(&orig[..half]);
    let mut written = orig.to_vec();
    written.extend_from_slice(&tagged[n..]);
    // (what, the file, whether the write had finished)
    vec![
        ("before any write", tagged.to_vec(), false),
        ("writes torn, not cut", torn.clone(), false),
        ("written, not cut", written, false),
        ("writes torn, then cut", torn[..n].to_vec(), false),
        ("written and cut", orig.to_vec(), true),
    ]
}

#[test]
fn a_strip_killed_anywhere_in_its_cut_is_rolled_back_or_kept() {
    let dir = tempdir();
    for name in ["m4a-aac-faststart.m4a", "m4a-alac.m4a"] {
        let f = copy_sample(dir.path(), name);
        let orig = bytes(&f);
        run("tag", &f);
        let tagged = bytes(&f);
        let journal = stage_strip_and_kill(&f);
        for (what, state, finished) in kill_points(&tagged, &orig) {
            std::fs::write(&f, &state).unwrap();
            std::fs::write(journal_of(&f), &journal).unwrap();
            // The next run recovers first: a torn cut goes back to the tagged file, tail and
            // all, so `tag` has nothing to do; a finished one is kept, so `tag` writes again.
            let (did, _) = run("tag", &f);
            let want = if finished { "written" } else { "unchanged" };
            assert_eq!(did, want, "{name}, {what}");
            assert_eq!(
                sha256_hex(&bytes(&f)),
                sha256_hex(&tagged),
                "{name}, {what}"
            );
            let left: Vec<PathBuf> = leftovers(dir.path());
            assert!(left.is_empty(), "{name}, {what}: left {left:?}");
        }
        run("strip", &f);
        assert_eq!(
            sha256_hex(&bytes(&f)),
            sha256_hex(&orig),
            "{name}: strip after recovery"
        );
    }
}

/// `<dir>/NN/<sample>` for 30 folders of the MP4 samples, tagged; returns (path, original,
/// tagged) per file.
fn tagged_library(dir: &Path) -> Vec<(PathBuf, Vec<u8>, Vec<u8>)> {
    let mut files = Vec::new();
    for n in 0..30 {
        let sub = dir.join(format!("{n:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for s in MP4 {
            let f = copy_sample(&sub, s);
            files.push((f.clone(), bytes(&f), Vec::new()));
        }
    }
    noai(&["tag", "-q", p(dir)]).expect(0);
    for (f, _, tagged) in &mut files {
        *tagged = bytes(f);
    }
    files
}

#[test]
fn strip_killed_at_random_moments_of_its_writes_leaves_each_mp4_tagged_or_original() {
    let root = tempdir();
    let pristine = root.path().join("pristine");
    let files = tagged_library(&pristine);
    let mut rng = interrupted::Lcg(12);
    // The run holds in its pause between staging (journals written and synced) and applying
    // until the test resumes it: a kill up to 50 ms before the resume, or up to 100 ms after
    // it, falls before, during or after the writes and cuts.
    for kill in 0..10 {
        let lib = root.path().join(format!("kill{kill}"));
        std::fs::create_dir_all(&lib).unwrap();
        interrupted::copy_tree(&pristine, &lib);
        let pause = Pause::new();
        let mut child = pause
            .on(Command::new(env!("CARGO_BIN_EXE_noai")).args(["strip", "-q", p(&lib)]))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        pause.wait(&mut child);
        assert_eq!(journalled(&lib).len(), files.len(), "not all staged");
        let at = rng.below(150);
        if at < 50 {
            std::thread::sleep(Duration::from_millis(at));
        } else {
            pause.resume();
            std::thread::sleep(Duration::from_millis(at - 50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        for (f, orig, tagged) in &files {
            let f = lib.join(f.strip_prefix(&pristine).unwrap());
            let now = bytes(&f);
            assert!(
                now == *orig || now == *tagged || journalled(&lib).contains(&f),
                "kill {kill}: {} is neither original nor tagged, with no journal",
                f.display()
            );
        }
        // The next run recovers what the kill left and finishes: every file is its original.
        noai(&["strip", "-q", p(&lib)]).expect(0);
        for (f, orig, _) in &files {
            let f = lib.join(f.strip_prefix(&pristine).unwrap());
            assert!(bytes(&f) == *orig, "kill {kill}: {}", f.display());
        }
        assert!(leftovers(&lib).is_empty(), "kill {kill}: helper files left");
    }
}
