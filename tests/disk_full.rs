//! Nearly full disks (issue 16), on a small ext4 image this test creates and loop-mounts (root
//! only; CI runs it as root): 40 MP3s that all need a rewrite are tagged one byte-bounded batch
//! at a time without ever filling the disk, and on a disk filled to the last block every file
//! is either unchanged (bytes and mtime) or tagged, each error is one line that says how much
//! space is needed and free, and a run after space is freed finishes the job.

mod common;
use common::loopfs;
use common::system;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Run, age, leftovers, noai, ours, state};
use loopfs::LoopFs;
use serde_json::Value;

const FILES: usize = 40;

/// One MP3 of about 3 MB with no ID3 tag at all (so tagging it is a rewrite), made by ffmpeg.
fn make_mp3(dir: &Path) -> PathBuf {
    let p = dir.join("source.mp3");
    system::run_ok(
        Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-f", "lavfi"])
            .args(["-i", "sine=frequency=440:duration=190"])
            .args(["-c:a", "libmp3lame", "-b:a", "128k"])
            .args(["-id3v2_version", "0", "-write_xing", "0"])
            .arg(&p),
    );
    assert!(!common::bytes(&p).starts_with(b"ID3"), "ffmpeg wrote a tag");
    p
}

/// `FILES` copies of `src` in `dir`, aged so an unchanged mtime is visible.
fn library(src: &Path, dir: &Path) -> Vec<PathBuf> {
    (0..FILES)
        .map(|i| {
            let p = dir.join(format!("song-{i:02}.mp3"));
            std::fs::copy(src, &p).unwrap();
            age(&p);
            p
        })
        .collect()
}

fn tag(dir: &Path) -> (Run, Duration) {
    let t = Instant::now();
    let run = noai(&["tag", "--format", "json", dir.to_str().unwrap()]);
    (run, t.elapsed())
}

fn summary(doc: &Value, key: &str) -> u64 {
    doc["summary"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key}: {doc:#}"))
}

/// Samples the free space of `fs` every few milliseconds until dropped; keeps the lowest.
struct Sampler {
    low: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(mnt: &Path) -> Sampler {
        let (low, stop) = (
            Arc::new(AtomicU64::new(u64::MAX)),
            Arc::new(AtomicBool::new(false)),
        );
        let (l, s, m) = (low.clone(), stop.clone(), mnt.to_path_buf());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                l.fetch_min(loopfs::free_bytes(&m), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Sampler {
            low,
            stop,
            thread: Some(thread),
        }
    }

    fn lowest(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.low.load(Ordering::Relaxed)
    }
}

/// True when running as root. Otherwise: under `CI=true` the test fails (CI runs as root, so a
/// skip there would hide a regression); elsewhere it says why it skips.
fn can_mount(test: &str) -> bool {
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test} needs root: it creates an ext4 image and mounts it on a loop device; CI runs the tests as root"
    );
    eprintln!("{test}: skipped: needs root to loop-mount an ext4 image (CI runs it as root)");
    false
}

#[test]
fn a_nearly_full_disk_is_tagged_in_batches_that_fit() {
    if !can_mount("a_nearly_full_disk_is_tagged_in_batches_that_fit") {
        return;
    }
    let work = common::tempdir();
    let src = make_mp3(work.path());
    let size = std::fs::metadata(&src).unwrap().len();
    // The same run with plenty of space, for the time it takes.
    let roomy = work.path().join("roomy");
    std::fs::create_dir(&roomy).unwrap();
    library(&src, &roomy);
    let (run, roomy_time) = tag(&roomy);
    let roomy_doc = run.expect(0).json();
    assert_eq!(summary(&roomy_doc, "rewritten"), FILES as u64);

    let fs = LoopFs::new(FILES as u64 * size / (1 << 20) + 64);
    let files = library(&src, &fs.mnt);
    fs.fill_to(3 * size);
    let free = fs.free();
    assert!(
        free <= 3 * size && free > 2 * size,
        "free {free}, file {size}"
    );
    let dry = noai(&[
        "tag",
        "--dry-run",
        "--format",
        "json",
        fs.mnt.to_str().unwrap(),
    ]);
    let dry = dry.expect(1).json();
    let need = summary(&dry, "peak_extra_bytes");
    assert!(
        need >= size && need <= free / 2 + size,
        "--dry-run says {need} bytes at once; one file is {size}, {free} are free"
    );
    let sampler = Sampler::start(&fs.mnt);
    let (run, full_time) = tag(&fs.mnt);
    let lowest = sampler.lowest();
    let doc = run.expect(0).json();
    assert_eq!(summary(&doc, "rewritten"), FILES as u64, "{doc:#}");
    assert!(lowest > 0, "the disk filled up during the run");
    assert!(leftovers(&fs.mnt).is_empty(), "{:?}", leftovers(&fs.mnt));
    for f in [&files[0], &files[FILES / 2], &files[FILES - 1]] {
        let seen = ours(&common::mutagen(f));
        assert!(
            !seen.is_empty(),
            "mutagen finds no reservation in {}",
            f.display()
        );
    }
    let peak = summary(&doc, "peak_extra_bytes");
    eprintln!(
        "disk_full numbers: {FILES} files of {size} bytes, {free} free before; tagged {}; \
         peak extra space {peak} bytes (dry run said {need}); lowest free during the run {lowest}; \
         time {:.2}s against {:.2}s with plenty of space",
        summary(&doc, "rewritten"),
        full_time.as_secs_f64(),
        roomy_time.as_secs_f64()
    );
}

#[test]
fn a_full_disk_leaves_files_as_they_were_and_a_second_run_finishes() {
    if !can_mount("a_full_disk_leaves_files_as_they_were_and_a_second_run_finishes") {
        return;
    }
    let work = common::tempdir();
    let src = make_mp3(work.path());
    let size = std::fs::metadata(&src).unwrap().len();
    let fs = LoopFs::new(FILES as u64 * size / (1 << 20) + 64);
    let mut files = library(&src, &fs.mnt);
    // In-place candidates too: their undo journal needs a block of its own.
    for i in 0..4 {
        let p = common::copy_as(&fs.mnt, "mp3-v23-pad.mp3", format!("pad-{i}.mp3"));
        age(&p);
        files.push(p);
    }
    let before: Vec<_> = files.iter().map(|f| state(f)).collect();
    fs.fill_to(0);
    let run = noai(&["tag", "--format", "json", fs.mnt.to_str().unwrap()]);
    let doc = run.expect(2).json();
    let mut errors = 0;
    for (f, was) in files.iter().zip(&before) {
        let name = f.file_name().unwrap().to_str().unwrap();
        let entry = common::file_entry(&doc, name);
        if entry["status"] == "error" {
            errors += 1;
            let msg = entry["error"].as_str().unwrap();
            assert!(!msg.contains('\n'), "{name}: a multi-line error: {msg}");
            assert!(
                msg.contains("not enough free space") && msg.contains("is free"),
                "{name}: unclear error: {msg}"
            );
            assert!(
                state(f) == *was,
                "{name}: failed, but its bytes or mtime changed"
            );
        } else {
            assert_eq!(entry["status"], "tagged", "{name}: {entry:#}");
        }
    }
    assert!(errors > 0, "the disk was full, yet nothing failed: {doc:#}");
    assert!(leftovers(&fs.mnt).is_empty(), "{:?}", leftovers(&fs.mnt));
    let human = noai(&["tag", fs.mnt.to_str().unwrap()]);
    let lines: Vec<&str> = human
        .stdout
        .lines()
        .filter(|l| l.contains("free space"))
        .collect();
    assert!(!lines.is_empty(), "no error line in: {}", human.stdout);
    for l in lines {
        assert!(l.contains(".mp3"), "an error line without its file: {l}");
    }
    fs.unfill();
    let doc = noai(&["tag", "--format", "json", fs.mnt.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(summary(&doc, "errors"), 0, "{doc:#}");
    let again = noai(&["verify", "--format", "json", fs.mnt.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(summary(&again, "files"), files.len() as u64);
    assert!(leftovers(&fs.mnt).is_empty(), "{:?}", leftovers(&fs.mnt));
}

/// In-place appends (a WAV grows by its new chunks) on a disk with room for a few of them: the
/// writes that hit the full disk are rolled back with their mtime, the rest are tagged.
#[test]
fn appends_that_hit_a_full_disk_are_rolled_back_with_their_mtime() {
    if !can_mount("appends_that_hit_a_full_disk_are_rolled_back_with_their_mtime") {
        return;
    }
    let fs = LoopFs::new(64);
    let files: Vec<PathBuf> = (0..200)
        .map(|i| {
            let p = common::copy_as(&fs.mnt, "wav-plain.wav", format!("take-{i:03}.wav"));
            age(&p);
            p
        })
        .collect();
    let before: Vec<_> = files.iter().map(|f| state(f)).collect();
    fs.fill_to(200 << 10);
    let doc = noai(&["tag", "--format", "json", fs.mnt.to_str().unwrap()]).json();
    let (mut tagged, mut errors) = (0, 0);
    for (f, was) in files.iter().zip(&before) {
        let name = f.file_name().unwrap().to_str().unwrap();
        let entry = common::file_entry(&doc, name);
        if entry["status"] == "error" {
            errors += 1;
            let msg = entry["error"].as_str().unwrap();
            assert!(msg.contains("not enough free space"), "{name}: {msg}");
            assert!(
                state(f) == *was,
                "{name}: rolled back, but its bytes or mtime changed"
            );
        } else {
            tagged += 1;
            assert_eq!(entry["status"], "tagged", "{name}: {entry:#}");
        }
    }
    eprintln!("disk_full appends: {tagged} tagged, {errors} rolled back");
    assert!(tagged > 0 && errors > 0, "{tagged} tagged, {errors} errors");
    assert!(leftovers(&fs.mnt).is_empty(), "{:?}", leftovers(&fs.mnt));
    fs.unfill();
    let doc = noai(&["tag", "--format", "json", fs.mnt.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(summary(&doc, "errors"), 0, "{doc:#}");
}
