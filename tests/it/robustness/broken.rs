//! Files the tool must not damage: broken samples, non-audio content behind an audio name,
//! read-only files, hard links, symlinks and FIFOs. Each broken file is reported on one line
//! with a reason and left byte-identical, and the good files beside it are still tagged.

use crate::common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const GOOD: [&str; 2] = ["flac-pad.flac", "mp3-v24-nopad.mp3"];

fn good_files(dir: &Path) {
    for g in GOOD {
        copy_sample(dir, g);
    }
}

fn good_files_tagged(dir: &Path) {
    for g in GOOD {
        noai(&["verify", p(&dir.join(g)), "--policy", "no-ai-training"]).expect(0);
    }
}

/// `noai tag` on a folder holding `file` (already there) and good files: exit 2, exactly one
/// output line names `file` and gives `reason`, the file is byte-identical, the good files tagged.
fn refused_among_good(dir: &Path, file: &str, reason: &str, extra: &[&str]) {
    good_files(dir);
    let f = dir.join(file);
    let orig = bytes(&f);
    let mut args = vec!["tag", p(dir)];
    args.extend_from_slice(extra);
    let r = noai(&args).expect(2);
    let all = format!("{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = all.lines().filter(|l| l.contains(file)).collect();
    assert_eq!(
        lines.len(),
        1,
        "{file}: want one line naming it, got:\n{all}"
    );
    assert!(
        lines[0].starts_with("error"),
        "{file}: line should say error: {}",
        lines[0]
    );
    assert!(
        lines[0].to_lowercase().contains(&reason.to_lowercase()),
        "{file}: reason should mention {reason:?}: {}",
        lines[0]
    );
    assert_eq!(bytes(&f), orig, "{file}: bytes changed");
    good_files_tagged(dir);

    let mut args = vec!["verify", p(&f), "--format", "json"];
    args.extend_from_slice(extra);
    let doc = noai(&args).expect(2).json();
    let e = file_entry(&doc, file);
    assert_eq!(e["status"], "error", "{e:#}");
    assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e:#}");
    assert_eq!(bytes(&f), orig, "{file}: bytes changed by verify");
}

fn broken_sample(name: &str, reason: &str) {
    let dir = tempdir();
    copy_sample(dir.path(), name);
    refused_among_good(dir.path(), name, reason, &[]);
}

#[test]
fn broken_truncated_flac() {
    broken_sample("broken-truncated.flac", "truncated");
}

#[test]
fn broken_truncated_mp3() {
    broken_sample("broken-truncated.mp3", "truncated");
}

#[test]
fn broken_truncated_m4a() {
    broken_sample("broken-truncated.m4a", "truncated");
}

#[test]
fn broken_text_flac() {
    broken_sample("broken-text.flac", "text");
}

#[test]
fn broken_empty_mp3() {
    broken_sample("broken-empty.mp3", "empty");
}

#[test]
fn zero_length_m4a() {
    let dir = tempdir();
    std::fs::write(dir.path().join("zero.m4a"), b"").unwrap();
    refused_among_good(dir.path(), "zero.m4a", "empty", &[]);
}

#[test]
fn jpeg_named_m4a() {
    let dir = tempdir();
    let mut jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    jpeg.extend(std::iter::repeat_n(0x55u8, 200));
    jpeg.extend(b"\xFF\xD9");
    std::fs::write(dir.path().join("cover.m4a"), &jpeg).unwrap();
    refused_among_good(dir.path(), "cover.m4a", "JPEG", &[]);
}

/// A macOS AppleDouble companion (`._x.mp3`): magic 0x00051607, a Finder-info entry.
#[test]
fn appledouble_with_hidden() {
    let dir = tempdir();
    let mut b = vec![0, 5, 0x16, 7, 0, 2, 0, 0];
    b.extend(b"Mac OS X        ");
    b.extend([0, 2]);
    b.extend([
        0, 0, 0, 9, 0, 0, 0, 50, 0, 0, 0, 32, 0, 0, 0, 2, 0, 0, 0, 82, 0, 0, 0, 0,
    ]);
    b.extend([0u8; 32]);
    std::fs::write(dir.path().join("._x.mp3"), &b).unwrap();
    refused_among_good(dir.path(), "._x.mp3", "AppleDouble", &["--hidden"]);
}

/// Read-only by mode bits, both for an in-place and a rewrite candidate; also as root.
#[test]
fn read_only_files_are_errors_and_unchanged() {
    for name in ["flac-pad.flac", "flac-nopad.flac"] {
        let dir = tempdir();
        let sub = dir.path().join("ro");
        std::fs::create_dir(&sub).unwrap();
        let f = copy_sample(&sub, name);
        chmod(&f, 0o444);
        let orig = bytes(&f);
        let r = noai(&["tag", p(&sub)]).expect(2);
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains(name) && l.contains("read-only")),
            "{name}: no read-only error line:\n{r:?}"
        );
        assert_eq!(bytes(&f), orig, "{name}: a read-only file was written");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
            0o444,
            "{name}: mode changed"
        );
        let names = std::fs::read_dir(&sub).unwrap().count();
        assert_eq!(names, 1, "{name}: temp files left behind");
    }
}

#[test]
fn hard_link_needing_a_rewrite_is_refused() {
    let dir = tempdir();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let f = copy_sample(&a, "flac-nopad.flac");
    std::fs::hard_link(&f, b.join("other.flac")).unwrap();
    let orig = bytes(&f);
    let r = noai(&["tag", p(&a)]).expect(2);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("flac-nopad.flac") && l.contains("hard link")),
        "no hard-link message:\n{r:?}"
    );
    assert_eq!(bytes(&f), orig, "hard-linked file written");
    assert_eq!(
        std::fs::metadata(&f).unwrap().nlink(),
        2,
        "the hard link was split"
    );
}

use std::os::unix::fs::MetadataExt;

#[test]
fn hard_link_fitting_in_place_is_written_for_both_names() {
    let dir = tempdir();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let f = copy_sample(&a, "flac-pad.flac");
    let other = b.join("other.flac");
    std::fs::hard_link(&f, &other).unwrap();
    let doc = noai_json(&["tag", p(&a)], 0);
    assert_eq!(
        action(&doc, "flac-pad.flac"),
        ("written".into(), "in-place".into()),
        "{doc:#}"
    );
    assert_eq!(
        std::fs::metadata(&f).unwrap().ino(),
        std::fs::metadata(&other).unwrap().ino(),
        "link split"
    );
    noai(&["verify", p(&other), "--policy", "no-ai-training"]).expect(0);
    assert_eq!(bytes(&other), bytes(&f));
}

/// A link to a file outside the walked folder: skipped (the target untouched) unless -L, which
/// tags the target and keeps the link a link.
fn symlink_skipped_then_followed(name: &str) {
    {
        let dir = tempdir();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let target = copy_sample(&a, name);
        let link = b.join("link.flac");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let orig = bytes(&target);

        let doc = noai_json(&["tag", p(&b)], 0);
        assert_eq!(doc["summary"]["skipped"]["symlink"], 1, "{name}: {doc:#}");
        assert_eq!(
            bytes(&target),
            orig,
            "{name}: written through a symlink without -L"
        );

        let r = noai(&["tag", p(&b), "-L"]);
        assert_eq!(r.code, 0, "{name}: tag -L through a symlink: {r:?}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the link was replaced by a file"
        );
        noai(&["verify", p(&target), "--policy", "no-ai-training"]).expect(0);
    }
}

/// The target has room: an in-place write through the link.
#[test]
fn symlink_to_in_place_file_skipped_then_followed_with_l() {
    symlink_skipped_then_followed("flac-pad.flac");
}

/// The target needs a rewrite: the new file must replace the target, not the link.
#[test]
fn symlink_to_rewrite_file_skipped_then_followed_with_l() {
    symlink_skipped_then_followed("flac-nopad.flac");
}

/// A FIFO named like audio must not block the run (opening it for reading would wait for a
/// writer forever). Killed after 20 s = fail.
#[test]
fn fifo_does_not_hang() {
    let dir = tempdir();
    good_files(dir.path());
    let fifo = dir.path().join("x.mp3");
    let out = tool(Command::new("mkfifo").arg(&fifo));
    assert!(
        out.status.success(),
        "mkfifo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        vec!["tag", p(dir.path())],
        vec!["tag", p(dir.path()), "-L"],
        vec!["verify", p(&fifo)],
    ] {
        let o = output_within(
            Command::new(env!("CARGO_BIN_EXE_noai")).args(&args),
            Duration::from_secs(60),
        );
        assert!(o.status.code().is_some(), "{args:?}: killed by a signal");
        assert_ne!(o.status.code(), Some(101), "{args:?}: panicked");
    }
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    good_files_tagged(dir.path());
    let doc = noai_json(&["tag", p(dir.path())], 0);
    assert_eq!(
        doc["summary"]["skipped"]["not-a-regular-file"], 1,
        "{doc:#}"
    );
}

/// WAVs whose length players disagree on: `ffmpeg … -f wav pipe:` output (sizes 0xFFFFFFFF) and a
/// recorder's unfinalized file (data size 0, samples after it). ffmpeg reads both to the end of
/// the file, so an appended chunk would be played as audio: refused with the fix, bytes and
/// mtime unchanged.
#[test]
fn unfinalized_wavs_are_refused() {
    let dir = tempdir();
    let piped = dir.path().join("piped.wav");
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=d=0.3",
            "-f",
            "wav",
            "pipe:1",
        ])
        .output()
        .expect("ffmpeg is required (scripts/test installs it)");
    assert!(out.status.success(), "ffmpeg failed");
    assert_eq!(
        &out.stdout[4..8],
        &[0xFF; 4],
        "ffmpeg's pipe WAV has no RIFF size"
    );
    std::fs::write(&piped, &out.stdout).unwrap();
    // The same audio as a recorder leaves it: RIFF and data sizes never filled in (0).
    // The RIFF size counts the headers up to the data chunk's, whose size is 0.
    let mut zero = out.stdout.clone();
    let data = zero.windows(4).position(|w| w == b"data").unwrap();
    zero[4..8].copy_from_slice(&(data as u32).to_le_bytes());
    zero[data + 4..data + 8].copy_from_slice(&[0; 4]);
    let unfinished = dir.path().join("unfinished.wav");
    std::fs::write(&unfinished, &zero).unwrap();
    for f in [&piped, &unfinished] {
        let (orig, mtime) = (bytes(f), std::fs::metadata(f).unwrap().modified().unwrap());
        let r = noai(&["tag", p(f)]).expect(2);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("unfinalized or streamed WAV"), "{all}");
        assert!(all.contains("ffmpeg -i in.wav -c copy out.wav"), "{all}");
        assert_eq!(bytes(f), orig, "{}: bytes changed", f.display());
        assert_eq!(std::fs::metadata(f).unwrap().modified().unwrap(), mtime);
    }
}
