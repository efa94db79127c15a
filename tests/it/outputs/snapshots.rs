//! The bytes each output format prints, pinned as `insta` snapshots: `verify` in every format
//! (human, JSON, JSONL, JUnit, GitHub, CSV, HTML) and `report` in human, JSON, CSV and HTML, on
//! one fixed library of samples (every status, an unreadable file, a skipped non-audio file, and
//! names with markup, quotes, `,` `:` `%` and bytes that are not UTF-8) copied to a temp dir.
//! The temp dir, times, durations, rates and the version are filtered, as ruff does, so only a
//! change of what noai says fails. Snapshots live in tests/snapshots/ (set explicitly, so moving
//! this file keeps them). After an intended change of the output, rewrite them and review:
//! `INSTA_UPDATE=always cargo test --test it outputs::snapshots`, then `git diff tests/snapshots`.
//! Under `CI=true` a mismatch or a missing snapshot fails and nothing is written.

use crate::common;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;

/// The samples in two folders, as `noai` sees them from inside the temp dir.
fn library() -> tempfile::TempDir {
    let d = tempdir();
    // An empty noai.toml: a stray one in a folder above the temp dir cannot change the output.
    std::fs::write(d.path().join("noai.toml"), "").unwrap();
    let album = d.path().join("album");
    let odd = d.path().join("odd");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::create_dir_all(&odd).unwrap();
    for s in [
        "mp3-noid3.mp3",
        "flac-pad.flac",
        "m4a-aac-faststart.m4a",
        "tagged-no-ai-training.mp3",
        "tagged-no-tdm.opus",
        "tagged-allow.mp3",
        "conflict-allow-vs-prohibited.flac",
        "invalid-value.mp3",
        "broken-truncated.mp3",
        "notes.txt",
    ] {
        copy_sample(&album, s);
    }
    copy_as(&odd, "mp3-noid3.mp3", "<i>it's & \"live\".mp3");
    copy_as(&odd, "flac-nopad.flac", "a,b: 100%.flac");
    copy_sample(&odd, "tagged-no-ai-training.mp3");
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.flac");
    std::fs::copy(Path::new(SAMPLES).join("flac-pad.flac"), odd.join(latin1)).unwrap();
    d
}

/// `text` as a regular expression that matches it literally.
fn literal(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = c.is_ascii_punctuation() && !matches!(c, '/' | '_' | '-' | ',');
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Runs `noai COMMAND album odd --format FORMAT` in a fresh library, checks the exit code and
/// compares its standard output with the snapshot `COMMAND_FORMAT`.
fn check(command: &str, format: &str, code: i32) {
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    let update = std::env::var("INSTA_UPDATE").unwrap_or_default();
    assert!(
        !ci || !matches!(update.as_str(), "always" | "unseen" | "new"),
        "INSTA_UPDATE={update} under CI=true would accept any output: unset it"
    );
    let lib = library();
    let run = noai_in(
        Some(lib.path()),
        &[command, "album", "odd", "--format", format],
    )
    .expect(code);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let tmp = lib.path().canonicalize().unwrap();
    settings.add_filter(&literal(&tmp.to_string_lossy()), "[TMP]");
    settings.add_filter(&literal(&lib.path().to_string_lossy()), "[TMP]");
    settings.add_filter(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\dZ?", "[TIME]");
    settings.add_filter(r#"time="\d+(\.\d+)?""#, r#"time="[SECONDS]""#);
    settings.add_filter(r"[\d,]+ files/s", "[RATE] files/s");
    settings.add_filter(&literal(env!("CARGO_PKG_VERSION")), "[VERSION]");
    settings.bind(|| {
        insta::assert_snapshot!(format!("{command}_{format}"), run.stdout);
    });
}

#[test]
fn verify_human() {
    check("verify", "human", 2);
}

#[test]
fn verify_json() {
    check("verify", "json", 2);
}

#[test]
fn verify_jsonl() {
    check("verify", "jsonl", 2);
}

#[test]
fn verify_junit() {
    check("verify", "junit", 2);
}

#[test]
fn verify_github() {
    check("verify", "github", 2);
}

#[test]
fn verify_csv() {
    check("verify", "csv", 2);
}

#[test]
fn verify_html() {
    check("verify", "html", 2);
}

#[test]
fn report_human() {
    check("report", "human", 2);
}

#[test]
fn report_json() {
    check("report", "json", 2);
}

#[test]
fn report_csv() {
    check("report", "csv", 2);
}

#[test]
fn report_html() {
    check("report", "html", 2);
}
