//! Journals that cannot be misused, and a clean Ctrl-C. An undo journal is replayed only when it
//! is ours (a regular file of the running user, of a sane size, of our format version) and only
//! over a torn write; a file another program edited after an interrupted run keeps that edit.
//! SIGINT at any moment of a run leaves every file as it was or fully tagged, and nothing beside
//! it. mutagen and ffmpeg judge the files, not noai.

mod common;
use common::interrupted;
use common::pause::Pause;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use interrupted::*;
use serde_json::Value;

/// `noai tag --format json DIR`: exit 2, the file's error names `journal` and says `says`; the
/// file and the journal (read through a link if it is one) are unchanged.
fn assert_left_alone(dir: &Path, p: &Path, journal: &Path, why: &str, says: &str) {
    let (file, jbytes) = (bytes(p), std::fs::read(journal).ok());
    let doc = noai(&["tag", "--format", "json", dir.to_str().unwrap()])
        .expect(2)
        .json();
    let name = p.file_name().unwrap().to_str().unwrap();
    let e = file_entry(&doc, name);
    let msg = e["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains(journal.to_str().unwrap()),
        "{why}: the error does not name the journal {}: {e:#}",
        journal.display()
    );
    assert!(
        msg.contains(says),
        "{why}: the error does not say {says:?}: {msg}"
    );
    assert_eq!(bytes(p), file, "{why}: the file was changed");
    assert!(
        std::fs::symlink_metadata(journal).is_ok(),
        "{why}: the journal was deleted"
    );
    assert_eq!(
        std::fs::read(journal).ok(),
        jbytes,
        "{why}: the journal changed"
    );
}

/// The primary group of a user.
fn uid_group(uid: u32) -> u32 {
    let o = tool(Command::new("id").args(["-g", &uid.to_string()]));
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("id -g")
}

/// The uid of a system user made for this test (created with `useradd` when missing).
fn other_user() -> u32 {
    const NAME: &str = "noai-journal-test";
    let id = |n: &str| {
        let o = tool(Command::new("id").args(["-u", n]));
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).trim().parse().unwrap())
    };
    if let Some(uid) = id(NAME) {
        return uid;
    }
    let o = tool(Command::new("useradd").args(["--system", "--no-create-home", NAME]));
    // Another test process may have created it at the same moment.
    id(NAME).unwrap_or_else(|| panic!("useradd failed: {}", String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn a_journal_owned_by_another_user_is_not_replayed() {
    if !common::system::is_root("a_journal_owned_by_another_user_is_not_replayed") {
        return;
    }
    let d = tempdir();
    let (p, journal) = torn_copy(d.path(), "flac-pad.flac");
    let uid = other_user();
    std::os::unix::fs::chown(&journal, Some(uid), None).unwrap();
    assert_left_alone(
        d.path(),
        &p,
        &journal,
        "journal of another user",
        "belongs to user",
    );
    // That user running noai on their own file does not trust a journal root left there.
    let d2 = tempdir();
    let (p2, journal2) = torn_copy(d2.path(), "flac-pad.flac");
    std::fs::set_permissions(
        d2.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    std::os::unix::fs::chown(&p2, Some(uid), Some(uid_group(uid))).unwrap();
    let readable = std::os::unix::fs::PermissionsExt::from_mode(0o644);
    std::fs::set_permissions(&journal2, readable).unwrap();
    let (torn, jbytes) = (bytes(&p2), bytes(&journal2));
    let out = tool(
        Command::new("setpriv")
            .args([
                format!("--reuid={uid}"),
                format!("--regid={}", uid_group(uid)),
            ])
            .args(["--clear-groups", env!("CARGO_BIN_EXE_noai"), "tag"])
            .arg(d2.path()),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "as user {uid}: {text}");
    assert!(text.contains("belongs to user 0"), "as user {uid}: {text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "reported twice: {text}"
    );
    assert_eq!(
        (bytes(&p2), bytes(&journal2)),
        (torn, jbytes),
        "as user {uid}: changed"
    );
    // When that user owns the file too, it is their own noai's journal, which root replays:
    // the refusal was about the owner.
    std::os::unix::fs::chown(&p, Some(uid), None).unwrap();
    noai(&["tag", d.path().to_str().unwrap()]).expect(0);
    assert!(!journal.exists(), "the journal is left after recovery");
    assert_eq!(bytes(&p), tagged_bytes("flac-pad.flac"));
}

#[test]
fn links_oversized_and_unknown_version_journals_are_not_replayed_nor_deleted() {
    // A link to a journal (kept outside the folder).
    let d = tempdir();
    let away = tempdir();
    let (p, journal) = torn_copy(d.path(), "flac-pad.flac");
    let real = away.path().join("journal");
    std::fs::rename(&journal, &real).unwrap();
    std::os::unix::fs::symlink(&real, &journal).unwrap();
    assert_left_alone(d.path(), &p, &journal, "symlinked journal", "symbolic link");
    assert!(journal.is_symlink() && real.exists());

    // Larger than any journal of ours (64 MiB): sparse, so cheap.
    let d = tempdir();
    let (p, journal) = torn_copy(d.path(), "mp3-v23-pad.mp3");
    let f = std::fs::File::options()
        .append(true)
        .open(&journal)
        .unwrap();
    f.set_len((64 << 20) + 1).unwrap();
    assert_left_alone(
        d.path(),
        &p,
        &journal,
        "oversized journal",
        "more than any noai journal",
    );

    // Our signature, another format version.
    let d = tempdir();
    let (p, journal) = torn_copy(d.path(), "flac-pad.flac");
    let mut rec = bytes(&journal);
    assert!(rec.starts_with(b"NOAIJ"), "not our journal signature");
    rec[5..8].copy_from_slice(b"999");
    std::fs::write(&journal, &rec).unwrap();
    assert_left_alone(
        d.path(),
        &p,
        &journal,
        "unknown journal version",
        "format version 999",
    );
}

/// Sets the title with mutagen (an in-place save: the tags keep fitting their padding).
fn mutagen_set_title(p: &Path, title: &str) {
    let script = r#"
import sys, mutagen
from mutagen.id3 import ID3FileType, TIT2
f = mutagen.File(sys.argv[1])
if isinstance(f, ID3FileType):
    f.tags.add(TIT2(encoding=3, text=[sys.argv[2]]))
elif type(f).__name__ == "MP4":
    f.tags["\xa9nam"] = [sys.argv[2]]
else:
    f.tags["title"] = [sys.argv[2]]
f.save()
"#;
    let o = tool(
        Command::new("python3")
            .args(["-c", script])
            .arg(p)
            .arg(title),
    );
    assert!(
        o.status.success(),
        "mutagen: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn mutagen_title(p: &Path) -> String {
    let script = r#"
import sys, mutagen
f = mutagen.File(sys.argv[1])
t = f.tags.get("TIT2") if hasattr(f.tags, "getall") else None
if t is None:
    t = f.tags.get("\xa9nam") if type(f).__name__ == "MP4" else f.tags.get("title")
print(t[0] if t else "")
"#;
    let o = tool(Command::new("python3").args(["-c", script]).arg(p));
    assert!(
        o.status.success(),
        "mutagen: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim_end().to_string()
}

#[test]
fn an_edit_made_after_an_interrupted_run_survives_the_next_run() {
    // The reproduced bug: the old journal rolled "Edited elsewhere" back to "Edited el".
    const TITLE: &str = "Edited elsewhere";
    for (sample, editor) in [
        ("flac-pad.flac", "mutagen"),
        ("flac-pad.flac", "metaflac"),
        ("mp3-v23-pad.mp3", "mutagen"),
        ("m4a-aac-faststart.m4a", "mutagen"),
        ("opus.opus", "mutagen"),
    ] {
        let case = format!("{sample} edited by {editor}");
        let d = tempdir();
        let p = copy_sample(d.path(), sample);
        let journal = stage_and_kill(&p);
        match editor {
            "metaflac" => {
                let o = tool(
                    Command::new("metaflac")
                        .args(["--remove-tag=TITLE", &format!("--set-tag=TITLE={TITLE}")])
                        .arg(&p),
                );
                assert!(
                    o.status.success(),
                    "{case}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            _ => mutagen_set_title(&p, TITLE),
        }
        assert_eq!(mutagen_title(&p), TITLE, "{case}: the edit did not take");
        assert_left_alone(d.path(), &p, &journal, &case, "changed by another program");
        assert_eq!(mutagen_title(&p), TITLE, "{case}: the other edit was lost");
        // The way out the report gives: delete the journal; the next run tags the edited file.
        std::fs::remove_file(&journal).unwrap();
        noai(&["tag", d.path().to_str().unwrap()]).expect(0);
        assert_eq!(
            mutagen_title(&p),
            TITLE,
            "{case}: lost when tagged afterwards"
        );
        assert_eq!(
            ours(&mutagen(&p))
                .get("TDM-RESERVATION")
                .map(String::as_str),
            Some("1"),
            "{case}: not tagged"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C

#[test]
fn sigint_at_any_moment_leaves_every_file_old_or_tagged_and_nothing_behind() {
    let pristine = tempdir();
    let files = make_library(pristine.path());
    let mut audio = HashMap::new();
    // How long a whole run takes, to spread the interruptions over it.
    let calib = tempdir();
    copy_tree(pristine.path(), calib.path());
    let start = Instant::now();
    noai(&["tag", "-j", "2", calib.path().to_str().unwrap()]).expect(0);
    let full = start.elapsed().as_millis() as u64;
    assert_eq!(
        check_library(calib.path(), &files, &mut audio, "calibration"),
        files.len()
    );

    let mut rng = Lcg(0x5eed);
    let (mut interrupted, mut partial, mut none) = (0, 0, 0);
    for i in 0..14 {
        // Runs 0-7 and 12-13: a random moment of the run (12-13: two signals in a row); 8-9:
        // as soon as the first chunk's writes show (so the run stops part way); 10-11: in the
        // pause between staging and applying. Odd runs 7-11 get SIGTERM instead of SIGINT.
        let sig = match i {
            7 | 9 | 11 => libc::SIGTERM,
            _ => libc::SIGINT,
        };
        let pause = Pause::new();
        let paused = matches!(i, 10 | 11).then_some(&pause);
        let delay = rng.below(full + full / 4);
        let run = format!("run {i} (signal {sig} after {delay} ms of ~{full} ms)");
        let lib = tempdir();
        copy_tree(pristine.path(), lib.path());
        let mut child = spawn_tag(
            &["-j", "2", "--format", "json", lib.path().to_str().unwrap()],
            paused,
        );
        match i {
            8 | 9 => wait_for_first_writes(lib.path(), &files, &run),
            10 | 11 => pause.wait(&mut child),
            _ => std::thread::sleep(Duration::from_millis(delay)),
        }
        signal(&child, sig);
        if i >= 12 {
            std::thread::sleep(Duration::from_millis(rng.below(20)));
            signal(&child, sig);
        }
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        let changed = check_library(lib.path(), &files, &mut audio, &run);
        match code {
            Some(130) => {
                interrupted += 1;
                let doc: Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{run}: no summary after Ctrl-C ({e})"));
                assert!(doc["summary"].is_object(), "{run}: no summary: {doc:#}");
                if changed > 0 && changed < files.len() {
                    partial += 1;
                }
                none += usize::from(changed == 0);
            }
            Some(0) => assert_eq!(changed, files.len(), "{run}: exit 0 but not all tagged"),
            // SIGINT before the handler was installed: nothing may have been touched.
            None => assert_eq!(changed, 0, "{run}: killed by the signal after writing"),
            other => panic!(
                "{run}: exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        if paused.is_some() {
            assert_eq!(
                (code, changed),
                (Some(130), 0),
                "{run}: Ctrl-C in the pause must undo all"
            );
        }
    }
    eprintln!(
        "14 runs: {interrupted} interrupted (exit 130): {none} before any write, {partial} part way; a run takes ~{full} ms"
    );
    assert!(
        interrupted >= 4,
        "too few runs were really interrupted: {interrupted}"
    );
}
