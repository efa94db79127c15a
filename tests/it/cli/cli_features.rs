//! The features around the core jobs: noai.toml discovery and precedence, `--files-from` lists
//! (newline, NUL, stdin, odd names), `report --untagged-only -0 | xargs -0 noai tag`, the
//! `tag --evidence` log checked against independently computed SHA-256 hashes, the progress bar
//! (stderr only, only on a terminal), `noai site`, completions and help.

use crate::common;

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

const URL: &str = "https://licensing.example/terms";

/// A temp dir and its canonical path, so messages naming files under it can be matched.
fn canon_tempdir() -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let root = std::fs::canonicalize(d.path()).unwrap();
    (d, root)
}

fn mkdirs(p: &Path) -> &Path {
    std::fs::create_dir_all(p).unwrap();
    p
}

/// `noai show FILE`: the effective policy found in it ("none" when untagged).
fn effective(f: &Path) -> String {
    let doc = noai(&["show", p(f), "--format", "json"]).json();
    let found = doc["files"][0]["effective_policy"].as_str();
    found.unwrap_or("none").to_string()
}

/// Asserts the effective policy of `f`.
fn policy_is(f: &Path, want: &str) {
    assert_eq!(effective(f), want, "effective policy of {}", f.display());
}

/// Asserts `hay` contains `needle`, showing `hay` when not.
fn has(hay: &str, needle: &str) {
    assert!(hay.contains(needle), "missing {needle:?} in:\n{hay}");
}

/// Runs `noai args` with `input` (small: fits the pipe buffer) on standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap(); // closed when dropped
    child.wait_with_output().unwrap()
}

/// Three untagged MP3s with awkward names: a space, a newline, and byte 0xE9 (not UTF-8).
fn odd_names(dir: &Path) -> Vec<PathBuf> {
    let names: [&[u8]; 3] = [b"with space.mp3", b"new\nline.mp3", b"caf\xe9.mp3"];
    names
        .iter()
        .map(|n| {
            let dst = dir.join(OsStr::from_bytes(n));
            std::fs::copy(Path::new(SAMPLES).join("mp3-noid3.mp3"), &dst).unwrap();
            dst
        })
        .collect()
}

/// The JSON entry for exactly `f`: by `path` for UTF-8 names, by `path_hex` otherwise.
fn exact_entry<'a>(doc: &'a Value, f: &Path) -> &'a Value {
    let raw = f.as_os_str().as_bytes();
    let hits: Vec<&Value> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| match std::str::from_utf8(raw) {
            Ok(s) => e["path"] == s && e.get("path_hex").is_none(),
            Err(_) => e["path_hex"] == hex(raw),
        })
        .collect();
    assert_eq!(hits.len(), 1, "{f:?}: want exactly one entry in {doc:#}");
    hits[0]
}

// ---------------------------------------------------------------- noai.toml

#[test]
fn config_found_at_the_root_and_in_an_ancestor() {
    let (_d, root) = canon_tempdir();
    std::fs::write(root.join("noai.toml"), "policy = \"no-tdm\"\n").unwrap();
    let top = copy_sample(&root, "mp3-v23-pad.mp3");
    let deep = copy_sample(mkdirs(&root.join("a/b")), "flac-pad.flac");
    noai(&["tag", p(&root.join("a/b"))]).expect(0);
    policy_is(&deep, "no-tdm"); // noai.toml two levels up
    policy_is(&top, "none"); // outside a/b
    noai(&["tag", p(&root)]).expect(0);
    policy_is(&top, "no-tdm"); // noai.toml in the root
    noai(&["verify", p(&root)]).expect(0);
    noai(&["verify", p(&root.join("a"))]).expect(0);
    // verify expects the file's policy: a no-ai-training file is a mismatch.
    copy_sample(&root, "tagged-no-ai-training.mp3");
    let doc = noai_json(&["verify", p(&root)], 1);
    let st = |n| file_entry(&doc, n)["status"].clone();
    assert_eq!(st("tagged-no-ai-training.mp3"), "mismatch", "{doc:#}");
    assert_eq!(st("flac-pad.flac"), "tagged", "{doc:#}");
}

#[test]
fn config_flag_wins_over_discovery_and_flags_win_over_the_file() {
    let (_d, root) = canon_tempdir();
    let dist = mkdirs(&root.join("dist")).to_path_buf();
    std::fs::write(dist.join("noai.toml"), "policy = \"no-tdm\"\n").unwrap();
    let other = root.join("other.toml");
    std::fs::write(&other, "policy = \"no-genai-training\"\n").unwrap();
    let f = copy_sample(&dist, "flac-pad.flac");
    noai(&["tag", p(&dist), "--config", p(&other)]).expect(0);
    policy_is(&f, "no-genai-training");
    noai(&["verify", p(&dist)]).expect(1);
    noai(&["verify", p(&dist), "--config", p(&other)]).expect(0);
    // Flags override the file, for tag and for verify.
    noai(&["tag", p(&dist), "--policy", "allow", "--force"]).expect(0);
    policy_is(&f, "allow");
    noai(&["verify", p(&dist), "--policy", "allow"]).expect(0);
    noai(&["verify", p(&dist)]).expect(1);
    let g = copy_sample(&root, "mp3-v23-pad.mp3");
    noai(&["tag", p(&g), "--config", p(&other), "--policy", "no-tdm"]).expect(0);
    policy_is(&g, "no-tdm");
}

#[test]
fn config_exclude_and_hidden_keys() {
    let (_d, root) = canon_tempdir();
    copy_sample(mkdirs(&root.join("demos")), "mp3-noid3.mp3");
    copy_sample(mkdirs(&root.join(".hid")), "flac-pad.flac");
    copy_sample(&root, "vorbis.ogg");
    let listed = || -> Vec<String> {
        let doc = noai_json(&["verify", p(&root)], 1);
        let r = format!("{}/", root.display());
        let files = doc["files"].as_array().unwrap().iter();
        files
            .map(|f| f["path"].as_str().unwrap().replace(&r, ""))
            .collect()
    };
    assert_eq!(listed(), ["demos/mp3-noid3.mp3", "vorbis.ogg"]);
    let toml = "exclude = [\"demos/**\"]\nhidden = true\n";
    std::fs::write(root.join("noai.toml"), toml).unwrap();
    assert_eq!(listed(), [".hid/flac-pad.flac", "vorbis.ogg"]);
}

#[test]
fn config_errors_name_the_key_and_the_file() {
    let cases = [
        ("polcy = \"no-tdm\"\n", "polcy"),
        ("policy = \"no-ai\"\n", "policy"),
        ("hidden = \"yes\"\n", "hidden"),
        ("exclude = \"demos\"\n", "exclude"),
        ("policy = \"license\"\n", "policy-url"),
    ];
    for (text, key) in cases {
        let (_d, root) = canon_tempdir();
        let cfg = root.join("noai.toml");
        std::fs::write(&cfg, text).unwrap();
        let f = copy_sample(&root, "flac-pad.flac");
        let before = state(&f);
        for cmd in ["tag", "verify"] {
            let r = noai(&[cmd, p(&root)]).expect(2);
            has(&r.stderr, key);
            has(&r.stderr, p(&cfg));
        }
        // The same file given with --config, from elsewhere.
        let r = noai(&["verify", SAMPLES, "--config", p(&cfg)]).expect(2);
        has(&r.stderr, p(&cfg));
        assert!(state(&f) == before, "{text:?}: a file was changed");
    }
}

// ---------------------------------------------------------------- --files-from

#[test]
fn files_from_newline_list_and_stdin() {
    let (_d, root) = canon_tempdir();
    let a = copy_sample(&root, "mp3-noid3.mp3");
    let b = copy_sample(&root, "flac-pad.flac");
    let txt = copy_sample(&root, "notes.txt");
    copy_sample(&root, "vorbis.ogg"); // not listed: not processed
    let list = format!("{}\n{}\r\n\n{}\n", p(&a), p(&b), p(&txt));
    std::fs::write(root.join("list"), &list).unwrap();
    // A listed path is named explicitly: one that is not audio is an error naming it (exit 2).
    let check = |doc: &Value| {
        let n = doc["files"].as_array().unwrap().len();
        assert_eq!(n, 3, "{doc:#}");
        assert_eq!(exact_entry(doc, &a)["status"], "untagged");
        assert_eq!(exact_entry(doc, &b)["status"], "untagged");
        let t = exact_entry(doc, &txt);
        assert_eq!(t["status"], "error", "{doc:#}");
        assert!(
            t["error"]
                .as_str()
                .unwrap()
                .contains("not a supported audio file")
        );
    };
    let list_file = root.join("list");
    check(&noai_json(&["verify", "--files-from", p(&list_file)], 2));
    let args = ["verify", "--files-from", "-", "--format", "json"];
    let out = with_stdin(&args, list.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    check(&serde_json::from_slice(&out.stdout).expect("json"));
    let r = noai(&["verify", "--files-from", p(&root.join("missing.list"))]).expect(2);
    has(&r.stdout, "cannot read the path list");
}

#[test]
fn files_from_nul_list_keeps_odd_names_exact() {
    let (_d, root) = canon_tempdir();
    let odd = odd_names(&root);
    let txt = copy_sample(&root, "notes.txt");
    let entry = |f: &PathBuf| [f.as_os_str().as_bytes(), b"\0"].concat();
    let list: Vec<u8> = odd.iter().chain([&txt]).flat_map(entry).collect();
    let l0 = root.join("list0");
    std::fs::write(&l0, &list).unwrap();
    let doc = noai_json(&["verify", "--files-from", p(&l0), "-0"], 2);
    assert_eq!(doc["files"].as_array().unwrap().len(), 4, "{doc:#}");
    for f in &odd {
        assert_eq!(exact_entry(&doc, f)["status"], "untagged", "{f:?}");
    }
    assert_eq!(exact_entry(&doc, &txt)["status"], "error", "{doc:#}");
    // Tagging through the list (here from stdin) reaches each file by its exact name.
    let args = ["tag", "--files-from", "-", "-0", "--format", "json"];
    let audio: Vec<u8> = odd.iter().flat_map(entry).collect();
    let out = with_stdin(&args, &audio);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in &odd {
        assert_eq!(exact_entry(&doc, f)["action"]["type"], "written", "{f:?}");
        let r = noai(&[OsStr::new("verify"), f.as_os_str()]);
        assert_eq!(r.code, 0, "{f:?} not tagged: {r:?}");
    }
}

// ---------------------------------------------------------------- report --untagged-only

#[test]
fn report_untagged_only_null_feeds_xargs_tag() {
    let (_d, root) = canon_tempdir();
    let mut untagged = odd_names(&root);
    untagged.push(copy_sample(mkdirs(&root.join("sub dir")), "flac-pad.flac"));
    copy_sample(&root, "tagged-no-ai-training.mp3");
    copy_sample(&root, "notes.txt");
    copy_sample(&root, "broken-empty.mp3"); // an error, not "untagged"
    let report = || {
        let mut c = Command::new(BIN);
        c.args([OsStr::new("report"), root.as_os_str()])
            .args(["--untagged-only", "-0"]);
        c
    };
    let out = output_within(&mut report(), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "the broken file is an error");
    let mut listed: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
    assert_eq!(listed.pop(), Some(&b""[..]), "list does not end with NUL");
    let mut want: Vec<&[u8]> = untagged.iter().map(|f| f.as_os_str().as_bytes()).collect();
    listed.sort();
    want.sort();
    assert_eq!(listed, want, "the listed paths are not the untagged ones");

    // Without -0: one escaped line per file, no raw control or invalid bytes.
    let r = noai(&["report", p(&root), "--untagged-only"]);
    assert_eq!(r.stdout.lines().count(), 4, "{}", r.stdout);
    has(&r.stdout, "/new\\u{a}line.mp3\n");
    has(&r.stdout, "/caf\\xe9.mp3\n");
    assert!(!r.stdout.contains('\u{fffd}'), "{}", r.stdout);

    // The real pipe: report … -0 | xargs -0 noai tag
    let mut rep = report().stdout(Stdio::piped()).spawn().unwrap();
    let xargs = Command::new("xargs")
        .args(["-0", BIN, "tag"])
        .stdin(Stdio::from(rep.stdout.take().unwrap()))
        .output()
        .expect("xargs");
    rep.wait().unwrap();
    assert!(xargs.status.success(), "xargs -0 noai tag: {xargs:?}");
    let doc = noai_json(&["verify", p(&root)], 2); // the broken file, nothing else
    let want = serde_json::json!({"tagged": 5, "error": 1});
    assert_eq!(doc["summary"]["by_status"], want, "{doc:#}");
    noai(&["verify", p(&root), "--exclude", "broken-empty.mp3"]).expect(0);
    let out = output_within(&mut report(), Duration::from_secs(60));
    assert!(out.stdout.is_empty(), "still listed: {:?}", out.stdout);
}

// ---------------------------------------------------------------- tag --evidence

/// Seconds since the epoch of a strict `YYYY-MM-DDTHH:MM:SSZ`.
fn parse_utc(t: &str) -> i64 {
    let b = t.as_bytes();
    let shape = b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T';
    let shape = shape && b[13] == b':' && b[16] == b':' && b[19] == b'Z';
    assert!(shape, "{t:?}");
    let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{t:?}");
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d - 1 - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// SHA-256 of an MP3's bytes after its ID3v2 tag: the audio payload.
fn mp3_payload_sha(b: &[u8]) -> String {
    let mut p = 0;
    if b.starts_with(b"ID3") {
        let n = b[6..10].iter().fold(0usize, |a, &x| (a << 7) | x as usize);
        p = 10 + n + if b[5] & 0x10 != 0 { 10 } else { 0 };
    }
    sha256_hex(&b[p..])
}

fn fields(l: &Value) -> std::collections::BTreeMap<String, String> {
    serde_json::from_value(l["fields"].clone()).expect("fields is not a string map")
}

fn evidence_lines(f: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(f).unwrap();
    assert!(text.ends_with('\n'), "last line not terminated");
    let line = |l: &str| serde_json::from_str(l).expect(l);
    text.lines().map(line).collect()
}

#[test]
fn evidence_log_records_each_write_with_verifiable_hashes() {
    let (_d, root) = canon_tempdir();
    let dist = mkdirs(&root.join("dist")).to_path_buf();
    let names = ["mp3-v23-pad.mp3", "mp3-noid3.mp3"];
    let files: Vec<PathBuf> = names.iter().map(|n| copy_sample(&dist, n)).collect();
    let originals: Vec<Vec<u8>> = files.iter().map(|f| bytes(f)).collect();
    copy_sample(&dist, "notes.txt");
    let ev = root.join("ev.jsonl");
    std::fs::write(&ev, "{\"earlier\":true}\n").unwrap();
    let now = || std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64;
    let t0 = now();
    let doc = noai_json(&["tag", p(&dist), "--evidence", p(&ev)], 0);
    let t1 = now();
    let lines = evidence_lines(&ev);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(lines[0], serde_json::json!({"earlier": true}));
    let mut strategies = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let l = lines[1..]
            .iter()
            .find(|l| l["path"] == p(f))
            .unwrap_or_else(|| panic!("no line for {}: {lines:#?}", f.display()));
        let now_bytes = bytes(f);
        let strategy = action(&doc, names[i]).1;
        assert_eq!(l["strategy"], strategy.as_str(), "{l}");
        assert_eq!(l["sha256_before"], sha256_hex(&originals[i]), "{l}");
        assert_eq!(l["sha256_after"], sha256_hex(&now_bytes), "{l}");
        assert_ne!(l["sha256_before"], l["sha256_after"], "{l}");
        // The payload is untouched: same hash in the original and in the file now.
        assert_eq!(l["audio_sha256"], mp3_payload_sha(&originals[i]), "{l}");
        assert_eq!(l["audio_sha256"], mp3_payload_sha(&now_bytes), "{l}");
        let t = parse_utc(l["time"].as_str().unwrap());
        assert!(t0 - 1 <= t && t <= t1 + 1, "{t} not in [{t0}, {t1}]");
        assert_eq!(l["policy"], "no-ai-training");
        assert_eq!(fields(l), want("no-ai-training", None, None), "{l}");
        strategies.push(strategy);
    }
    strategies.sort();
    assert_eq!(strategies, ["in-place", "rewrite"], "one of each strategy");

    // Nothing written, nothing logged; earlier lines are kept.
    noai(&["tag", p(&dist), "--evidence", p(&ev)]).expect(0);
    assert_eq!(
        evidence_lines(&ev),
        lines,
        "a run that wrote nothing logged"
    );

    // A licence with constraints: all four fields, as SPEC §2 writes them.
    let g = copy_sample(&root, "flac-pad.flac");
    let lic = format!("--policy license --policy-url {URL} --constraints ask");
    let mut args = vec!["tag", p(&g), "--evidence", p(&ev)];
    args.extend(lic.split(' '));
    noai(&args).expect(0);
    let lines = evidence_lines(&ev);
    assert_eq!(lines.len(), 4);
    let l = &lines[3];
    assert_eq!(
        (&l["path"], &l["policy"]),
        (&p(&g).into(), &"license".into())
    );
    assert_eq!(fields(l), want("license", Some(URL), Some("ask")), "{l}");
    assert_eq!(l["sha256_after"], sha256_hex(&bytes(&g)), "{l}");
}

// ---------------------------------------------------------------- progress

#[test]
fn no_progress_output_when_stderr_is_a_pipe() {
    let dir = tempdir();
    for n in ["flac-pad.flac", "mp3-noid3.mp3", "vorbis.ogg"] {
        copy_sample(dir.path(), n);
    }
    let d = p(dir.path());
    for cmd in ["tag", "verify", "report", "show"] {
        let r = noai(&[cmd, d, "--format", "json"]).expect(0);
        assert_eq!(r.stderr, "", "{cmd}: stderr not empty");
        r.json();
    }
}

/// Runs `sh -c script` under a pseudo-terminal (util-linux `script`); the terminal's bytes.
fn under_pty(cmd: &str, no_progress: bool) -> String {
    let mut c = Command::new("script");
    c.args(["-qec", cmd, "/dev/null"]).env("NO_COLOR", "1");
    if no_progress {
        c.env("NOAI_NO_PROGRESS", "1");
    } else {
        c.env_remove("NOAI_NO_PROGRESS");
    }
    let out = match c.stdin(Stdio::null()).output() {
        Ok(o) => o,
        Err(e) => panic!("util-linux `script` is required ({e}): apt-get install bsdutils"),
    };
    assert!(out.status.success(), "script -qec {cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_goes_to_stderr_only() {
    let dir = tempdir();
    for i in 0..12 {
        copy_as(dir.path(), "flac-pad.flac", format!("t{i:02}.flac"));
    }
    let d = dir.path();
    noai(&["tag", p(d)]).expect(0); // so that verify exits 0 under `script -e`
    let out = d.join("out.json");
    let run = |args: &str, no_progress: bool| {
        let cmd = format!("'{BIN}' verify '{}' --format json {args}", d.display());
        under_pty(&cmd, no_progress)
    };
    let o = out.display();
    let json_ok = || -> Value {
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text}");
        serde_json::from_str(&text).expect("stdout is not valid JSON")
    };
    // Counts and a rounded rate, as in the summary ("files/s", never "1000.3123/s").
    let bar = |t: &str| t.contains("/12 files") && t.contains(" files/s");
    // stdout to a file, stderr on the terminal: the bar shows, the JSON stays clean.
    let tty = run(&format!("> '{o}'"), false);
    assert!(bar(&tty), "no progress bar on the terminal: {tty:?}");
    assert_eq!(json_ok()["files"].as_array().unwrap().len(), 12);
    // -o FILE: same.
    let tty = run(&format!("-o '{o}'"), false);
    assert!(bar(&tty), "no progress bar with -o: {tty:?}");
    json_ok();
    // -q and NOAI_NO_PROGRESS: no bar at all.
    let tty = run(&format!("-q -o '{o}'"), false);
    assert_eq!(tty, "", "-q still shows a bar");
    let tty = run(&format!("-o '{o}'"), true);
    assert_eq!(tty, "", "NOAI_NO_PROGRESS still shows a bar");
    json_ok();
}

// ---------------------------------------------------------------- site, completions, help

/// The tdmrep.json block of `noai site`: from the line `[` to the line `]`.
fn tdmrep(text: &str) -> Value {
    let start = text.find("\n[").expect("no JSON array") + 1;
    let end = start + text[start..].find("\n]").expect("unterminated array") + 2;
    serde_json::from_str(&text[start..end]).expect("tdmrep block is not JSON")
}

#[test]
fn site_states_the_policy_from_flags_or_noai_toml() {
    let r = noai(&["site", "--policy", "license", "--policy-url", URL]).expect(0);
    let rules = tdmrep(&r.stdout);
    let want = serde_json::json!([{"location": "/", "tdm-reservation": 1, "tdm-policy": URL}]);
    assert_eq!(rules, want, "{}", r.stdout);
    for line in [
        "tdm-reservation: 1".to_string(),
        format!("tdm-policy: {URL}"),
        "<meta name=\"tdm-reservation\" content=\"1\">".into(),
        format!("<meta name=\"tdm-policy\" content=\"{URL}\">"),
    ] {
        has(&r.stdout, &format!("\n{line}\n"));
    }
    let dir = tempdir();
    std::fs::write(dir.path().join("noai.toml"), "policy = \"allow\"\n").unwrap();
    let r = noai_in(Some(dir.path()), &["site"]).expect(0);
    let want = serde_json::json!([{"location": "/", "tdm-reservation": 0}]);
    assert_eq!(tdmrep(&r.stdout), want);
    has(&r.stdout, "# Policy: allow");
    let toml = format!("policy = \"license\"\npolicy-url = \"{URL}\"\n");
    std::fs::write(dir.path().join("noai.toml"), toml).unwrap();
    let r = noai_in(Some(dir.path()), &["site"]).expect(0);
    assert_eq!(tdmrep(&r.stdout)[0]["tdm-policy"], URL, "{}", r.stdout);
    let url2 = "https://b.example/";
    let r = noai_in(Some(dir.path()), &["site", "--policy-url", url2]).expect(0);
    assert_eq!(tdmrep(&r.stdout)[0]["tdm-policy"], url2);
    // Flags override the file.
    std::fs::write(dir.path().join("noai.toml"), "policy = \"allow\"\n").unwrap();
    let r = noai_in(Some(dir.path()), &["site", "--policy", "no-tdm"]).expect(0);
    has(&r.stdout, "# Policy: no-tdm");
}

/// A `--policy` flag replaces the file's policy, and with it the file's licence URL: a
/// repository whose noai.toml says `license` can still be checked for another policy.
#[test]
fn policy_flag_overrides_a_licence_in_noai_toml() {
    let dir = tempdir();
    let d = dir.path();
    let toml = format!("policy = \"license\"\npolicy-url = \"{URL}\"\n");
    std::fs::write(d.join("noai.toml"), toml).unwrap();
    let f = copy_sample(d, "flac-pad.flac");
    noai(&["tag", p(d)]).expect(0);
    policy_is(&f, "license");
    noai(&["tag", p(d), "--policy", "no-tdm", "--force"]).expect(0);
    policy_is(&f, "no-tdm");
    noai(&["verify", p(d), "--policy", "no-tdm"]).expect(0);
    let r = noai_in(Some(d), &["site", "--policy", "no-tdm"]).expect(0);
    has(&r.stdout, "# Policy: no-tdm");
}

#[test]
fn completions_and_help() {
    for shell in ["bash", "zsh", "fish"] {
        let r = noai(&["completions", shell]).expect(0);
        has(&r.stdout, "verify");
    }
    let subs = "tag verify report show strip site completions";
    for sub in subs.split(' ') {
        let r = noai(&[sub, "--help"]).expect(0);
        has(&r.stdout, &format!("Usage: noai {sub}"));
    }
    let r = noai(&["--help"]).expect(0);
    for ex in [
        "noai tag ~/Music/release",
        "noai verify dist/ --policy no-ai-training",
        "noai report /srv/catalogue",
        "noai show song.flac",
        "noai strip album/",
    ] {
        has(&r.stdout, ex);
    }
}
