//! What `tag` and `verify` promise beyond one write: idempotence, dry runs, conflicts and
//! --force, expected policies, non-canonical input, content over extension, --preserve-mtime,
//! and a stable, sorted JSON document whatever the thread count. (Policies, constraints and
//! strip: tests/it/jobs/policies.rs.)

use crate::common;

use std::path::{Path, PathBuf};

use common::*;

#[test]
fn second_tag_writes_nothing() {
    for name in [
        "flac-pad.flac",
        "mp3-v24-nopad.mp3",
        "opus.opus",
        "m4a-aac-moovend.m4a",
        "wav-plain.wav",
    ] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        noai(&["tag", p(&f)]).expect(0);
        age(&f);
        let before = state(&f);
        let doc = noai_json(&["tag", p(&f)], 0);
        assert_eq!(
            action(&doc, name).0,
            "unchanged",
            "{name}: second run: {doc:#}"
        );
        assert_eq!(doc["summary"]["bytes_written"], 0, "{name}");
        assert!(
            state(&f) == before,
            "{name}: second tag run changed bytes or mtime"
        );
    }
}

#[test]
fn already_tagged_fixture_is_not_written() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "tagged-no-ai-training.mp3");
    let before = state(&f);
    // The fixture carries the plain fields only: with --no-xmp it is exactly as wanted.
    let doc = noai_json(&["tag", p(&f), "--policy", "no-ai-training", "--no-xmp"], 0);
    assert_eq!(
        action(&doc, "tagged-no-ai-training.mp3").0,
        "unchanged",
        "{doc:#}"
    );
    assert!(
        state(&f) == before,
        "a file already carrying exactly the wanted fields was written"
    );
    // With XMP (the default) the packet is added once, then nothing changes any more.
    let doc = noai_json(&["tag", p(&f)], 0);
    assert_eq!(
        action(&doc, "tagged-no-ai-training.mp3").0,
        "written",
        "{doc:#}"
    );
    let after = state(&f);
    let doc = noai_json(&["tag", p(&f)], 0);
    assert_eq!(
        action(&doc, "tagged-no-ai-training.mp3").0,
        "unchanged",
        "{doc:#}"
    );
    assert!(state(&f) == after, "second run wrote again");
}

#[test]
fn dry_run_writes_nothing_and_exits_1_when_something_would_change() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-nopad.flac");
    let before = state(&f);
    let doc = noai_json(&["tag", p(&f), "--dry-run"], 1);
    assert_eq!(action(&doc, "flac-nopad.flac").0, "would-write", "{doc:#}");
    assert!(state(&f) == before, "--dry-run wrote to the file");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "--dry-run left files behind: {names:?}");

    noai(&["tag", p(&f)]).expect(0);
    let before = state(&f);
    noai(&["tag", p(&f), "--dry-run"]).expect(0);
    assert!(
        state(&f) == before,
        "--dry-run on a tagged file wrote to it"
    );
    // strip --dry-run: would remove, exits 1, writes nothing.
    noai(&["strip", p(&f), "--dry-run"]).expect(1);
    assert!(state(&f) == before, "strip --dry-run wrote to the file");
}

#[test]
fn conflicting_files_are_left_alone_unless_forced() {
    for name in ["tagged-allow.mp3", "conflict-allow-vs-prohibited.flac"] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        let before = state(&f);
        let doc = noai_json(&["tag", p(&f)], 1);
        assert_eq!(action(&doc, name).0, "refused", "{name}: {doc:#}");
        assert!(
            state(&f) == before,
            "{name}: a conflicting file was written without --force"
        );

        noai(&["tag", p(&f), "--force"]).expect(0);
        noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
        assert_eq!(
            ours(&mutagen(&f)),
            want("no-ai-training", None, None),
            "{name}: after --force"
        );
    }
}

/// Leaving `license` by force replaces the whole set: a stale TDM-POLICY would be a policy URL
/// without `license` (SPEC §1: TDM-POLICY "only with license").
#[test]
fn forcing_another_policy_drops_the_license_url() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "tagged-license.ogg");
    noai(&["tag", p(&f), "--policy", "no-tdm", "--force"]).expect(0);
    let got = ours(&mutagen(&f));
    assert_eq!(
        got.get("DATAMINING").map(String::as_str),
        Some(&*format!("{DMI}DMI-PROHIBITED")),
        "{got:?}"
    );
    assert!(
        !got.contains_key("TDM-POLICY"),
        "TDM-POLICY left behind after --policy no-tdm --force: {got:?}"
    );
}

#[test]
fn verify_with_an_expected_policy() {
    let dir = tempdir();
    let genai = copy_sample(dir.path(), "tagged-no-genai-training.flac");
    let ai = copy_sample(dir.path(), "tagged-no-ai-training.mp3");
    noai(&["verify", p(&genai), "--policy", "no-genai-training"]).expect(0);
    let doc = noai_json(&["verify", p(&ai), "--policy", "no-genai-training"], 1);
    assert_eq!(
        file_entry(&doc, "tagged-no-ai-training.mp3")["status"],
        "mismatch",
        "{doc:#}"
    );
    // Without an expected policy both reserve rights: pass.
    noai(&["verify", dir.path().to_str().unwrap()]).expect(0);
    // The committed tagged fixtures, each with its own policy.
    for (name, policy) in [
        ("tagged-no-tdm-except-search.m4a", "no-tdm-except-search"),
        ("tagged-no-tdm.opus", "no-tdm"),
    ] {
        let f = copy_sample(dir.path(), name);
        let doc = noai_json(&["verify", p(&f), "--policy", policy], 0);
        assert_eq!(
            file_entry(&doc, name)["effective_policy"],
            policy,
            "{doc:#}"
        );
    }
    let lic = copy_sample(dir.path(), "tagged-license.ogg");
    noai(&[
        "verify",
        p(&lic),
        "--policy",
        "license",
        "--policy-url",
        "https://example.org/tdm-policy.json",
    ])
    .expect(0);
    let allow = copy_sample(dir.path(), "tagged-allow.mp3");
    let doc = noai_json(&["verify", p(&allow)], 1);
    assert_eq!(
        file_entry(&doc, "tagged-allow.mp3")["status"],
        "mismatch",
        "{doc:#}"
    );
}

#[test]
fn noncanonical_keys_verify_with_notes_and_tag_canonicalises() {
    let name = "noncanonical-lowercase.flac";
    let dir = tempdir();
    let f = copy_sample(dir.path(), name);
    let doc = noai_json(&["verify", p(&f)], 0);
    let e = file_entry(&doc, name);
    assert_eq!(e["status"], "tagged", "{e:#}");
    assert_eq!(e["effective_policy"], "no-ai-training", "{e:#}");
    assert!(
        !e["notes"].as_array().unwrap().is_empty(),
        "non-canonical spelling must be noted: {e:#}"
    );

    let before = mutagen(&f);
    let doc = noai_json(&["tag", p(&f)], 0);
    assert_eq!(
        action(&doc, name).0,
        "written",
        "tag must canonicalise: {doc:#}"
    );
    let after = mutagen(&f);
    assert_eq!(ours(&after), want("no-ai-training", None, None), "{after}");
    assert_eq!(
        after["ours"].as_array().unwrap().len(),
        2,
        "lowercase duplicates left: {after}"
    );
    assert_eq!(others(&after), others(&before));
    let doc = noai_json(&["verify", p(&f)], 0);
    assert_eq!(
        file_entry(&doc, name)["notes"],
        serde_json::json!([]),
        "{doc:#}"
    );
}

#[test]
fn preserve_mtime_keeps_the_modification_time() {
    // In place, rewrite, and strip.
    for (name, cmd) in [
        ("flac-pad.flac", "tag"),
        ("flac-nopad.flac", "tag"),
        ("tagged-no-tdm.opus", "strip"),
    ] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        age(&f);
        let (b0, m0) = state(&f);
        noai(&[cmd, p(&f), "--preserve-mtime"]).expect(0);
        let (b1, m1) = state(&f);
        assert_ne!(b1, b0, "{name}: {cmd} did not write");
        assert_eq!(m1, m0, "{name}: {cmd} --preserve-mtime changed the mtime");
    }
    // And without it the mtime moves.
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-pad.flac");
    age(&f);
    let (_, m0) = state(&f);
    noai(&["tag", p(&f)]).expect(0);
    assert_ne!(
        state(&f).1,
        m0,
        "a write without --preserve-mtime should update the mtime"
    );
}

/// Copies every sample (not the README or the generator) into `dir/sub` trees, in an order
/// unlike the sorted one, so sorting is the tool's work.
fn catalogue(dir: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(SAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.reverse();
    for (i, n) in names
        .iter()
        .filter(|n| n.contains('.') && *n != "README.md")
        .enumerate()
    {
        let sub = dir.join(["", "b", "a", "a/z"][i % 4]);
        std::fs::create_dir_all(&sub).unwrap();
        copy_sample(&sub, n);
    }
}

#[test]
fn json_is_versioned_sorted_and_independent_of_threads() {
    let (d1, d8) = (tempdir(), tempdir());
    catalogue(d1.path());
    catalogue(d8.path());
    let run = |d: &Path, cmd: &str, j: &str| {
        noai_in(Some(d), &[cmd, ".", "-j", j, "--format", "json"])
            .expect(2)
            .json()
    };
    for cmd in ["verify", "tag", "verify"] {
        let (a, b) = (run(d1.path(), cmd, "1"), run(d8.path(), cmd, "8"));
        assert_eq!(a["schema_version"], 2, "{cmd}");
        assert_eq!(a["command"], cmd);
        let paths: Vec<PathBuf> = a["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| PathBuf::from(f["path"].as_str().unwrap()))
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted, "{cmd}: files not sorted by path");
        assert!(
            paths.len() >= 30,
            "{cmd}: only {} files listed",
            paths.len()
        );
        // One vocabulary for containers: each file's name is a key of the summary's counts.
        for f in a["files"].as_array().unwrap() {
            if let Some(c) = f["container"].as_str() {
                assert!(
                    a["summary"]["by_container"].get(c).is_some(),
                    "{cmd}: file {} has container {c:?}, not a key of summary.by_container {}",
                    f["path"],
                    a["summary"]["by_container"]
                );
            }
        }
        assert_eq!(a["files"], b["files"], "{cmd}: -j 1 and -j 8 disagree");
        assert_eq!(
            a["summary"], b["summary"],
            "{cmd}: -j 1 and -j 8 summaries disagree"
        );
    }
}

/// SPEC §4: the container is decided by content, so `song.flac` holding MP3 data is tagged as
/// MP3 (an ID3v2 tag, audio untouched) and reported as such.
#[test]
fn content_decides_the_container() {
    let dir = tempdir();
    let f = copy_as(dir.path(), "mp3-v23-pad.mp3", "song.flac");
    let md5 = audio_md5(&f);
    let doc = noai_json(&["tag", p(&f)], 0);
    let e = file_entry(&doc, "song.flac");
    assert_eq!(e["container"], "mp3", "{e:#}");
    assert_eq!(doc["summary"]["by_container"]["mp3"], 1, "{doc:#}");
    noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
    let as_mp3 = copy_as(dir.path(), "mp3-v23-pad.mp3", "check.mp3");
    std::fs::copy(&f, &as_mp3).unwrap();
    assert_eq!(ours(&mutagen(&as_mp3)), want("no-ai-training", None, None));
    assert_eq!(audio_md5(&f), md5, "audio changed");
}

/// A low limit on open files (1024 is common, 256 on some systems; here 80, soft and hard)
/// does not fail files with "Too many open files": chunks are sized to the limit. 300 files,
/// half rewritten (temp files), half written in place (journals), all tagged.
#[test]
fn a_low_open_file_limit_shrinks_the_chunks_instead_of_failing_files() {
    let dir = tempdir();
    for i in 0..150 {
        copy_as(dir.path(), "mp3-v24-nopad.mp3", format!("{i:03}.mp3"));
        copy_as(dir.path(), "flac-pad.flac", format!("{i:03}.flac"));
    }
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            "ulimit -Sn 80 && ulimit -Hn 80 && exec \"$0\" tag -q \"$1\"",
        ])
        .arg(env!("CARGO_BIN_EXE_noai"))
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("300 tagged"), "{text}");
    noai(&["verify", "-q", dir.path().to_str().unwrap()]).expect(0);
}

/// Reading is not using: `verify`, `report`, `show` and `tag` (in place, and a file already tagged)
/// leave each file's access time as it was (O_NOATIME; the owner's files). A control copy read
/// the usual way shows that this mount would have moved it.
#[test]
fn reading_leaves_the_access_time_alone() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempdir();
    let at = |f: &Path| std::fs::metadata(f).unwrap().atime();
    // An access time older than the modification time: `relatime` updates it on the next read.
    let old = |f: &Path| {
        let t = |s| std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let times = std::fs::FileTimes::new()
            .set_accessed(t(1_000_000_000))
            .set_modified(t(1_600_000_000));
        let file = std::fs::File::options().write(true).open(f).unwrap();
        file.set_times(times).unwrap();
        f.to_path_buf()
    };
    let control = old(&copy_as(dir.path(), "flac-pad.flac", "control.flac"));
    let tagged = old(&copy_sample(dir.path(), "tagged-no-ai-training.mp3"));
    let patched = old(&copy_sample(dir.path(), "flac-pad.flac"));
    std::fs::read(&control).unwrap();
    assert_ne!(
        at(&control),
        1_000_000_000,
        "this mount does not update access times on reads (noatime?), so the test cannot tell; run it on a relatime or strictatime mount"
    );
    for args in [
        ["verify", p(&tagged)],
        ["report", p(&tagged)],
        ["show", p(&tagged)],
        ["tag", p(&tagged)],
    ] {
        noai(&args).expect(0);
        assert_eq!(at(&tagged), 1_000_000_000, "{args:?} moved the access time");
    }
    noai(&["tag", p(&patched)]).expect(0);
    assert_eq!(at(&patched), 1_000_000_000, "tag moved the access time");
    assert_tagged(&patched);
}
