//! docs/ci.md is run, not just read: every block between `# ci-doc:begin NAME` and
//! `# ci-doc:end` must fail on a `dist/` with an untagged file and pass once `noai tag dist/` has
//! run, and the JUnit report a block writes must show the failure, then none.
//!
//! Blocks run with `sh -e -c`, as CI runners do (GitHub's `run:` is `bash -e`, GitLab stops at
//! the first failing `script` line): a block whose first line fails never reaches the next one.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use quick_xml::events::Event;

const CI_MD: &str = include_str!("../../../docs/ci.md");

/// (name, shell text) of every marked block, YAML list prefixes and indentation removed.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in CI_MD.lines() {
        let l = line.trim_start();
        if let Some(name) = l.strip_prefix("# ci-doc:begin ") {
            assert!(current.is_none(), "nested ci-doc:begin {name}");
            current = Some((name.trim().to_string(), String::new()));
        } else if l.starts_with("# ci-doc:end") {
            out.push(current.take().expect("ci-doc:end without begin"));
        } else if let Some((_, text)) = &mut current {
            text.push_str(l.strip_prefix("- ").unwrap_or(l));
            text.push('\n');
        }
    }
    assert!(current.is_none(), "unterminated ci-doc block");
    out
}

/// A folder with `dist/`: one untagged MP3 and one non-audio file.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let dist = d.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    copy_as(&dist, "mp3-noid3.mp3", "song.mp3");
    std::fs::write(dist.join("cover.txt"), "not audio\n").unwrap();
    let root = d.path().to_path_buf();
    (d, root)
}

/// Runs the block in `dir`; its exit code and everything it printed.
fn run_block(dir: &Path, text: &str) -> (i32, String) {
    let mut cmd = Command::new("sh");
    with_noai_on_path(cmd.args(["-e", "-c", text]).current_dir(dir));
    let out = output_within(&mut cmd, Duration::from_secs(120));
    let log = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), log)
}

fn git(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("git");
    with_noai_on_path(cmd.args(args).current_dir(dir));
    let out = tool(&mut cmd);
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// The `-o FILE` of a `--format junit` command in the block, if any.
fn junit_output(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("--format junit"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words.iter().position(|w| *w == "-o")?;
    Some(words[i + 1].to_string())
}

/// (test cases, test cases with a `<failure>`, `<error>` elements) in a JUnit file.
fn junit_counts(path: &Path) -> (usize, usize, usize) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the block wrote no JUnit file {}: {e}", path.display()));
    let mut r = quick_xml::Reader::from_str(&text);
    let (mut cases, mut failed, mut errors, mut in_case) = (0, 0, 0, false);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == "testcase" => {
                cases += 1;
                in_case = true;
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == "failure" => {
                assert!(in_case, "<failure> outside a <testcase>:\n{text}");
                failed += 1;
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == "error" => {
                errors += 1;
            }
            Ok(Event::End(e)) if e.name().as_ref() == "testcase" => in_case = false,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit file is not XML ({e}):\n{text}"),
        }
    }
    (cases, failed, errors)
}

#[test]
fn ci_md_has_the_documented_blocks() {
    let names: Vec<String> = blocks().into_iter().map(|b| b.0).collect();
    for want in ["github", "gitlab", "pre-commit"] {
        assert!(
            names.iter().any(|n| n == want),
            "no block {want}: {names:?}"
        );
    }
}

#[test]
fn every_ci_block_fails_untagged_and_passes_tagged() {
    for (name, text) in blocks() {
        let (_d, dir) = fixture();
        let in_git = text.contains("git ");
        if in_git {
            git(&dir, &["init", "-q"]);
            git(&dir, &["add", "dist/"]);
        }
        let junit = junit_output(&text).map(|f| dir.join(f));

        let (code, log) = run_block(&dir, &text);
        assert_ne!(
            code, 0,
            "{name}: passed on an untagged dist/\n{text}\n{log}"
        );
        if let Some(j) = &junit {
            let (cases, failed, errors) = junit_counts(j);
            assert_eq!(
                (cases, failed, errors),
                (1, 1, 0),
                "{name}: JUnit before tagging"
            );
            std::fs::remove_file(j).unwrap();
        }

        noai_in(Some(&dir), &["tag", "dist/"]).expect(0);
        if in_git {
            git(&dir, &["add", "dist/"]);
        }
        let (code, log) = run_block(&dir, &text);
        assert_eq!(code, 0, "{name}: failed on a tagged dist/\n{text}\n{log}");
        if let Some(j) = &junit {
            let (cases, failed, errors) = junit_counts(j);
            assert_eq!(
                (cases, failed, errors),
                (1, 0, 0),
                "{name}: JUnit after tagging"
            );
        }
    }
}

/// The pre-commit hook checks the staged names only: an untagged file that is not staged does
/// not block a commit. (It reads each staged name from the working tree, see docs/ci.md.)
#[test]
fn pre_commit_block_ignores_unstaged_files() {
    let (_, text) = blocks()
        .into_iter()
        .find(|b| b.0 == "pre-commit")
        .expect("no pre-commit block");
    let (_d, dir) = fixture();
    git(&dir, &["init", "-q"]);
    noai_in(Some(&dir), &["tag", "dist/"]).expect(0);
    git(&dir, &["add", "dist/"]);
    copy_as(&dir.join("dist"), "mp3-noid3.mp3", "later.mp3");
    let (code, log) = run_block(&dir, &text);
    assert_eq!(
        code, 0,
        "an unstaged untagged file blocked the commit\n{log}"
    );
    git(&dir, &["add", "dist/later.mp3"]);
    let (code, log) = run_block(&dir, &text);
    assert_ne!(
        code, 0,
        "a staged untagged file did not block the commit\n{log}"
    );
}
