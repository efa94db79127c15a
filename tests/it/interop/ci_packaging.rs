//! What CI ecosystems consume directly, checked with their own tools where they exist here:
//! `.pre-commit-hooks.yaml` is run by the real `pre-commit` framework (from PyPI; scripts/test
//! installs it) in a scratch repository, where an untagged audio file blocks the commit and a
//! tagged one passes. `action.yml` is parsed as YAML and checked against the composite-action
//! rules GitHub applies, and its verify step's script is run as the runner would run it.
//! docs/ci.md must show both.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CI_MD: &str = include_str!("../../../docs/ci.md");

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join(name))
        .unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// `with_noai_on_path`, and a git identity and pre-commit cache of the test's own.
fn env<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    with_noai_on_path(cmd)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env_remove("PRE_COMMIT")
}

fn run_in(dir: &Path, home: &Path, prog: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(prog);
    env(cmd.args(args).current_dir(dir), home);
    let out = output_within(&mut cmd, Duration::from_secs(300));
    if out.status.code().is_none() {
        panic!("{prog} {args:?} was killed: {out:?}");
    }
    out
}

fn ok_in(dir: &Path, home: &Path, prog: &str, args: &[&str]) -> String {
    let out = run_in(dir, home, prog, args);
    assert!(out.status.success(), "{prog} {args:?}: {}", text(&out));
    text(&out)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `pre-commit` itself (run as `python3 -m pre_commit`, wherever pip put its script), or a loud
/// failure naming how to get it.
fn pre_commit_available() {
    let out = Command::new("python3")
        .args(["-m", "pre_commit", "--version"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        other => panic!(
            "`pre-commit` is required by this test but could not be run ({other:?}): \
             scripts/test installs it (python3 -m pip install pre-commit)"
        ),
    }
}

#[test]
fn hook_manifest_is_valid_and_matches_the_audio_extensions() {
    pre_commit_available();
    let d = tempdir();
    ok_in(
        Path::new(ROOT),
        d.path(),
        "python3",
        &[
            "-m",
            "pre_commit",
            "validate-manifest",
            ".pre-commit-hooks.yaml",
        ],
    );
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = &hooks[0];
    assert_eq!(hook["id"], "noai-verify");
    let want = format!("(?i)\\.({})$", noai::walk::AUDIO_EXTENSIONS.join("|"));
    assert_eq!(hook["files"], want.as_str(), "the hook's files pattern");
}

/// The transcript is printed (`cargo test --test it interop::ci_packaging -- --nocapture`).
#[test]
fn pre_commit_blocks_an_untagged_file_and_passes_a_tagged_one() {
    pre_commit_available();
    let d = tempdir();
    let home = d.path();
    // A repository holding exactly the hook file this repository ships, as `repo:` points to.
    let hooks = home.join("noai-hooks");
    std::fs::create_dir(&hooks).unwrap();
    std::fs::copy(
        Path::new(ROOT).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    ok_in(&hooks, home, "git", &["init", "-q"]);
    ok_in(&hooks, home, "git", &["add", "."]);
    ok_in(&hooks, home, "git", &["commit", "-qm", "hooks"]);
    let rev = ok_in(&hooks, home, "git", &["rev-parse", "HEAD"]);

    let proj = home.join("project");
    std::fs::create_dir(&proj).unwrap();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: noai-verify\n",
        hooks.display(),
        rev.trim()
    );
    std::fs::write(proj.join(".pre-commit-config.yaml"), config).unwrap();
    ok_in(&proj, home, "git", &["init", "-q"]);
    ok_in(&proj, home, "python3", &["-m", "pre_commit", "install"]);
    ok_in(&proj, home, "git", &["add", ".pre-commit-config.yaml"]);
    let r = ok_in(&proj, home, "git", &["commit", "-m", "config"]);
    eprintln!("$ git commit -m config   # no audio staged\n{r}");

    copy_as(&proj, "mp3-noid3.mp3", "song.mp3");
    std::fs::write(proj.join("notes.txt"), "liner notes\n").unwrap();
    ok_in(&proj, home, "git", &["add", "song.mp3", "notes.txt"]);
    let blocked = run_in(&proj, home, "git", &["commit", "-m", "add song"]);
    let t = text(&blocked);
    eprintln!(
        "$ git commit -m 'add song'   # untagged\n{t}exit {:?}",
        blocked.status.code()
    );
    assert!(
        !blocked.status.success(),
        "an untagged file was committed:\n{t}"
    );
    assert!(t.contains("noai verify") && t.contains("Failed"), "{t}");
    assert!(t.contains("untagged") && t.contains("song.mp3"), "{t}");
    assert!(
        !t.contains("notes.txt"),
        "a non-audio file reached noai:\n{t}"
    );
    let log = run_in(&proj, home, "git", &["log", "--oneline"]);
    assert_eq!(text(&log).lines().count(), 1, "the commit happened");

    let tagged = ok_in(&proj, home, "noai", &["tag", "song.mp3"]);
    eprintln!("$ noai tag song.mp3\n{tagged}");
    ok_in(&proj, home, "git", &["add", "song.mp3"]);
    let passed = run_in(&proj, home, "git", &["commit", "-m", "add song"]);
    let t = text(&passed);
    eprintln!(
        "$ git commit -m 'add song'   # tagged\n{t}exit {:?}",
        passed.status.code()
    );
    assert!(passed.status.success(), "a tagged file was refused:\n{t}");
    assert!(t.contains("noai verify") && t.contains("Passed"), "{t}");
}

/// `${{ inputs.NAME }}` references in a text.
fn input_refs(s: &str) -> Vec<String> {
    s.split("${{")
        .skip(1)
        .map(|rest| {
            let expr = rest.split("}}").next().unwrap_or("").trim();
            let name = expr.strip_prefix("inputs.");
            let name = name.unwrap_or_else(|| panic!("an expression that is not an input: {expr}"));
            name.to_string()
        })
        .collect()
}

#[test]
fn action_yml_is_a_valid_composite_action() {
    let a = yaml("action.yml");
    for key in ["name", "description"] {
        assert!(a[key].as_str().is_some_and(|s| !s.is_empty()), "no {key}");
    }
    assert_eq!(a["runs"]["using"], "composite");
    let inputs = a["inputs"].as_object().expect("inputs");
    for (name, i) in inputs {
        assert!(
            i["description"].is_string(),
            "input {name} has no description"
        );
        assert!(
            CI_MD.contains(&format!("{name}:")),
            "docs/ci.md does not show input {name}"
        );
    }
    let steps = a["runs"]["steps"].as_array().expect("runs.steps");
    assert!(!steps.is_empty());
    for s in steps {
        if let Some(script) = s["run"].as_str() {
            assert!(s["shell"].is_string(), "a run step without shell: {s}");
            // Inputs reach scripts through `env:`, never pasted into the script (injection).
            assert!(
                !script.contains("${{"),
                "an expression inside run: {script}"
            );
            let check = Command::new("bash")
                .args(["-n", "-c", script])
                .output()
                .unwrap();
            assert!(check.status.success(), "bash -n: {}", text(&check));
        } else {
            assert!(
                s["uses"].is_string(),
                "a step with neither run nor uses: {s}"
            );
        }
        for v in s["env"].as_object().into_iter().flat_map(|e| e.values()) {
            for name in input_refs(v.as_str().unwrap_or("")) {
                assert!(inputs.contains_key(&name), "unknown input {name}");
            }
        }
    }
    let install = steps[0]["run"].as_str().unwrap();
    assert!(install.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\""));
    assert!(CI_MD.contains("uses: ") && CI_MD.contains("id: noai-verify"));
}

/// The verify step as the runner runs it (`bash -e`, inputs through `env:`, defaults filled in):
/// exit 1 and a JUnit failure on an untagged file, exit 0 once tagged.
#[test]
fn action_verify_step_fails_untagged_and_passes_tagged() {
    let a = yaml("action.yml");
    let step = a["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("noai verify")))
        .expect("no verify step")
        .clone();
    let d = tempdir();
    let dist = d.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    copy_as(&dist, "mp3-noid3.mp3", "song.mp3");
    let mut given: BTreeMap<&str, &str> = BTreeMap::new();
    given.insert("paths", "dist");
    given.insert("junit", "reports/noai.xml");
    std::fs::create_dir(d.path().join("reports")).unwrap();
    let input = |name: &str| -> String {
        given.get(name).map(|s| s.to_string()).unwrap_or_else(|| {
            a["inputs"][name]["default"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
    };
    let run = || {
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(step["run"].as_str().unwrap())
            .current_dir(d.path());
        for (k, v) in step["env"].as_object().unwrap() {
            let v = v.as_str().unwrap();
            let value = match input_refs(v).as_slice() {
                [name] => input(name),
                _ => v.to_string(),
            };
            cmd.env(k, value);
        }
        env(&mut cmd, d.path());
        output_within(&mut cmd, Duration::from_secs(60))
    };
    let junit = d.path().join("reports/noai.xml");
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("::error file=dist/song.mp3"),
        "{}",
        text(&out)
    );
    let xml = std::fs::read_to_string(&junit).expect("the step wrote no JUnit file");
    assert!(xml.contains("<failure"), "{xml}");
    noai_in(Some(d.path()), &["tag", "dist"]).expect(0);
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        !xml.contains("<failure") && xml.contains("tests=\"1\""),
        "{xml}"
    );
}
