//! Reflink rewrites (issue 11): on XFS (`reflink=1`) and btrfs images this test creates and
//! loop-mounts (root only; CI runs it as root), tagging files that all need a rewrite clones
//! their audio instead of copying it: the summary counts every rewrite as cloned, the tagged
//! files share their audio extents with a reflinked backup made before (`filefrag -v`), the
//! device writes a fraction of the audio's size, and ffmpeg's audio MD5 and every other tag
//! mutagen reads are unchanged. Where cloning is refused (ext4; XFS without reflink, which
//! looks like a file system that clones until the first clone fails) the same run copies.
//! A clone is proven by the block maps rather than read back; a byte written into it after the
//! clone must still be caught.

mod common;
use common::loopfs::{LoopFs, extents, has_shared_extent};
use common::system;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{audio_md5, code, mutagen, noai, others, ours, output_within};
use serde_json::Value;

/// Loop devices are attached one test at a time.
static LOOP: Mutex<()> = Mutex::new(());

/// Five files that need a rewrite, each with a title a tag must keep: an MP3 whose ID3v2 tag
/// has no padding, a FLAC without a PADDING block, a faststart M4A (moov before the audio), an
/// Ogg Vorbis file (no padding after the framing bit) whose 120 KB comment packet spans two
/// pages: the audio pages keep their numbers and are cloned, and so are the comment pages
/// before the one that changes; and an Ogg FLAC file without a PADDING block (ffmpeg's), which
/// gets one on its comment page, so its audio pages are cloned too. And a WAV file, tagged in
/// place by appending an ID3 chunk (it has no other tags), whose 8 KiB of padding is left as a
/// hole.
fn make_library(dir: &Path) -> Vec<PathBuf> {
    let make = |name: &str, codec: &[&str]| {
        let p = dir.join(name);
        // The WAV gets no RIFF INFO, which `tag` would copy into its new ID3 chunk.
        let meta = match name.ends_with(".wav") {
            true => &[][..],
            false => &[
                "-metadata",
                "title=Reflink test",
                "-metadata",
                "artist=noai",
            ],
        };
        system::run_ok(
            Command::new("ffmpeg")
                .args(["-loglevel", "error", "-y", "-f", "lavfi"])
                .args(["-i", "sine=frequency=440:duration=180"])
                .args(codec)
                .args(meta)
                .arg(&p),
        );
        p
    };
    let flac = make("b.flac", &["-c:a", "flac"]);
    system::run_ok(
        Command::new("metaflac")
            .args(["--remove", "--block-type=PADDING", "--dont-use-padding"])
            .arg(&flac),
    );
    let notes: String = (0..120_000u32)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    let notes = format!("comment={notes}");
    vec![
        make("a.mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]),
        flac,
        make(
            "c.m4a",
            &["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"],
        ),
        make("d.ogg", &["-c:a", "libvorbis", "-metadata", &notes]),
        make("e.oga", &["-c:a", "flac", "-f", "ogg"]),
        make("f.wav", &[]),
    ]
}

struct Before {
    md5: String,
    others: Value,
}

/// Tags a fresh library on `fs`; returns the JSON summary, per file whether it shares extents
/// with its reflinked backup (on file systems that clone), the bytes the device wrote and read
/// during the run, and the size of the files.
fn tag_library(fs: &LoopFs, reflink_backup: bool) -> (Value, Vec<bool>, u64, u64, u64) {
    let src = tempfile::tempdir().unwrap();
    let made = make_library(src.path());
    let lib = fs.mnt.join("lib");
    std::fs::create_dir(&lib).unwrap();
    let mut files = Vec::new();
    let mut before = Vec::new();
    let mut audio = 0;
    for m in &made {
        let p = lib.join(m.file_name().unwrap());
        std::fs::copy(m, &p).unwrap();
        audio += std::fs::metadata(&p).unwrap().len();
        before.push(Before {
            md5: audio_md5(&p),
            others: others(&mutagen(&p)),
        });
        files.push(p);
    }
    if reflink_backup {
        system::run_ok(
            Command::new("cp")
                .args(["-r", "--reflink=always"])
                .arg(&lib)
                .arg(fs.mnt.join("backup")),
        );
    }
    let start = fs.bytes_written();
    let read = fs.bytes_read();
    let run = noai(&["tag", "--format", "json", lib.to_str().unwrap()]).expect(0);
    let read = fs.bytes_read() - read;
    let written = fs.bytes_written() - start;
    for (p, b) in files.iter().zip(&before) {
        assert_eq!(audio_md5(p), b.md5, "{}: the audio changed", p.display());
        let dump = mutagen(p);
        assert_eq!(
            others(&dump),
            b.others,
            "{}: other tags changed",
            p.display()
        );
        assert_eq!(
            ours(&dump).get("TDM-RESERVATION").map(String::as_str),
            Some("1"),
            "{}: not tagged",
            p.display()
        );
    }
    let shared = files.iter().map(|p| has_shared_extent(p)).collect();
    (run.json()["summary"].clone(), shared, written, read, audio)
}

fn count(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key}: {summary:#}"))
}

/// Every rewrite cloned, the audio extents shared up to the end of the file, the rewrites'
/// padding left as holes, and far fewer bytes written than the audio.
fn clones_on(test: &str, mkfs: &[&str]) {
    if !system::is_root(test) {
        return;
    }
    let _one = LOOP.lock().unwrap_or_else(|e| e.into_inner());
    let fs = LoopFs::with(mkfs, 400);
    let (summary, shared, written, read, audio) = tag_library(&fs, true);
    assert_eq!(count(&summary, "rewritten"), 5, "{summary:#}");
    assert_eq!(count(&summary, "cloned"), 5, "{summary:#}");
    assert!(shared.iter().all(|s| *s), "extents not shared: {shared:?}");
    let lib = fs.mnt.join("lib");
    for name in ["a.mp3", "b.flac", "d.ogg", "e.oga"] {
        let e = extents(&lib.join(name));
        assert!(
            e.last().is_some_and(|x| x.2),
            "{name}: the last block was copied: {e:?}"
        );
    }
    // The Ogg files' padding is what their last header page had room for, not a whole block.
    for name in ["a.mp3", "b.flac", "f.wav"] {
        let e = extents(&lib.join(name));
        let hole = e.windows(2).any(|w| w[1].0 > w[0].1 + 1);
        assert!(
            hole,
            "{name}: the padding was written, not left as a hole: {e:?}"
        );
    }
    // Its first comment page changes only in block 0 (the comment count), so the blocks
    // after it are the same bytes at the same offset, and cloned.
    let e = extents(&lib.join("d.ogg"));
    assert!(
        e.iter().any(|&(a, b, shared)| shared && a <= 1 && b >= 1),
        "d.ogg: block 1 (inside the unchanged comment page) was written: {e:?}"
    );
    assert!(
        written * 4 < audio,
        "the device wrote {written} bytes for {audio} bytes of files"
    );
    // The clones are proven by the block maps, not read back: reading them would fetch them
    // from the device (the originals are still in the page cache from their copy).
    assert!(
        read * 4 < audio,
        "the device read {read} bytes for {audio} bytes of files: clones read back?"
    );
}

/// Cloning refused: every rewrite copies, and the files are tagged all the same.
fn copies_on(test: &str, mkfs: &[&str]) {
    if !system::is_root(test) {
        return;
    }
    let _one = LOOP.lock().unwrap_or_else(|e| e.into_inner());
    let fs = LoopFs::with(mkfs, 400);
    let (summary, shared, _, _, _) = tag_library(&fs, false);
    assert_eq!(count(&summary, "rewritten"), 5, "{summary:#}");
    assert_eq!(count(&summary, "cloned"), 0, "{summary:#}");
    assert!(shared.iter().all(|s| !*s), "shared extents: {shared:?}");
}

#[test]
fn xfs_rewrites_clone_the_audio() {
    clones_on(
        "xfs_rewrites_clone_the_audio",
        &["mkfs.xfs", "-q", "-m", "reflink=1"],
    );
}

#[test]
fn btrfs_rewrites_clone_the_audio() {
    clones_on("btrfs_rewrites_clone_the_audio", &["mkfs.btrfs", "-q"]);
}

#[test]
fn ext4_rewrites_copy() {
    copies_on("ext4_rewrites_copy", &["mkfs.ext4", "-q", "-F"]);
}

/// XFS without reflink is a file system that may clone until its first clone fails
/// (EOPNOTSUPP): that rewrite and every later one fall back to copying.
#[test]
fn xfs_without_reflink_falls_back_to_copying() {
    copies_on(
        "xfs_without_reflink_falls_back_to_copying",
        &["mkfs.xfs", "-q", "-m", "reflink=0"],
    );
}

/// A byte written into a cloned range after the clone, as a bug of ours might (the debug-only
/// `NOAI_TEST_SCRIBBLE_CLONE` hook), is not vouched for by the block maps: copy-on-write moves
/// that block at write-back, so it is compared byte by byte, and every rewrite is refused and
/// left as it was, with no temp file beside it. (The WAV is tagged in place, untouched by it.)
fn scribble_caught_on(test: &str, mkfs: &[&str]) {
    if !system::is_root(test) {
        return;
    }
    let _one = LOOP.lock().unwrap_or_else(|e| e.into_inner());
    let fs = LoopFs::with(mkfs, 400);
    let src = tempfile::tempdir().unwrap();
    let lib = fs.mnt.join("lib");
    std::fs::create_dir(&lib).unwrap();
    let mut files = Vec::new();
    for m in make_library(src.path()) {
        let p = lib.join(m.file_name().unwrap());
        std::fs::copy(&m, &p).unwrap();
        files.push((p.clone(), std::fs::read(&p).unwrap()));
    }
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_noai"))
            .args(["tag", "--format", "json"])
            .arg(&lib)
            .env("NO_COLOR", "1")
            .env("NOAI_TEST_SCRIBBLE_CLONE", "1"),
        Duration::from_secs(60),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(code(&out), 2, "{doc:#}");
    assert_eq!(count(&doc["summary"], "rewritten"), 0, "{doc:#}");
    assert_eq!(count(&doc["summary"], "written_in_place"), 1, "{doc:#}");
    for (p, before) in &files {
        if p.extension().is_some_and(|e| e == "wav") {
            continue;
        }
        let says = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str() == p.to_str())
            .map(|f| f.to_string())
            .unwrap_or_default();
        assert!(
            says.contains("audio data would change"),
            "{}: {says}",
            p.display()
        );
        assert!(
            std::fs::read(p).unwrap() == *before,
            "{}: changed",
            p.display()
        );
    }
    let left: Vec<_> = std::fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left beside the files: {left:?}");
}

#[test]
fn xfs_a_write_into_a_clone_is_caught() {
    scribble_caught_on(
        "xfs_a_write_into_a_clone_is_caught",
        &["mkfs.xfs", "-q", "-m", "reflink=1"],
    );
}

#[test]
fn btrfs_a_write_into_a_clone_is_caught() {
    scribble_caught_on(
        "btrfs_a_write_into_a_clone_is_caught",
        &["mkfs.btrfs", "-q"],
    );
}
