//! Running the built `noai` and reading what it printed: with a time limit (a hang fails the
//! test), as a `Run` of text or as raw bytes, its JSON document and the entry of one file in it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::BIN;

/// Runs a command to completion, killing it (and failing the test) after `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait failed") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}: killed (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// The result of one `noai` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "noai {:?}: stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, printing the whole run when it differs.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "noai {:?}: exit {} (want {code})\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }
}

pub fn noai_in<S: AsRef<std::ffi::OsStr>>(cwd: Option<&Path>, args: &[S]) -> Run {
    let out = noai_output(cwd, args);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect(),
    }
}

pub fn noai<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    noai_in(None, args)
}

/// The built `noai` (NO_COLOR, killed after 60 s) as raw bytes, for tests that look at them.
pub fn noai_output<S: AsRef<std::ffi::OsStr>>(cwd: Option<&Path>, args: &[S]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("NO_COLOR", "1");
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    output_within(&mut cmd, Duration::from_secs(60))
}

/// `noai_output` without a working directory.
pub fn noai_raw<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    noai_output(None, args)
}

/// The exit code of a run; a run killed by a signal fails the test.
pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {:?}", o.status))
}

/// stdout then stderr as text: for failure messages, and for tools that print to either.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout parsed as one JSON document.
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("output is not one JSON document ({e}):\n{}", text(o)))
}

/// `noai <args> --format json`, the exit code asserted, the document returned.
pub fn noai_json(args: &[&str], code: i32) -> Value {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--format", "json"]);
    noai(&a).expect(code).json()
}

/// The JSON object of the one file whose path is `name` or ends with `/name`.
pub fn file_entry<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let hits: Vec<&Value> = doc["files"]
        .as_array()
        .expect("no files array")
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p == name || p.ends_with(&format!("/{name}")))
        })
        .collect();
    assert_eq!(hits.len(), 1, "expected one entry for {name} in {doc:#}");
    hits[0]
}

/// `(type, strategy)` of a file's `action` in a JSON report.
pub fn action(doc: &Value, name: &str) -> (String, String) {
    let a = &file_entry(doc, name)["action"];
    (
        a["type"].as_str().unwrap_or("").to_string(),
        a["strategy"].as_str().unwrap_or("").to_string(),
    )
}

/// `cmd` with the built `noai` first on PATH, no colour, and git kept off the user's
/// configuration (the CI recipe and hook tests run real shell and git commands).
pub fn with_noai_on_path(cmd: &mut Command) -> &mut Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_noai")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
}

/// `noai tag -j 2` over `dir`, holding the damaged copies `originals` (name, bytes): each one is
/// an error (one clear line, a code, no caught panic) that left it byte for byte as it was, or a
/// write that `verify` accepts. Nothing on stderr. Returns the names that were written.
pub fn tag_damaged(dir: &Path, originals: &[(String, Vec<u8>)]) -> Vec<String> {
    let run = noai(&["tag", dir.to_str().unwrap(), "--format", "json", "-j", "2"]);
    assert!(
        matches!(run.code, 0..=2),
        "exit {}:\n{}",
        run.code,
        run.stderr
    );
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
    let doc = run.json();
    let mut written = Vec::new();
    for (name, orig) in originals {
        let e = file_entry(&doc, name);
        let now = std::fs::read(dir.join(name)).unwrap();
        if e["status"] == "error" {
            let msg = e["error"].as_str().unwrap_or("");
            assert!(
                !msg.is_empty() && !msg.contains('\n'),
                "{name}: unclear error {msg:?}"
            );
            assert!(
                !msg.contains("internal error"),
                "{name}: a panic was caught: {msg}"
            );
            assert!(e["error_code"].is_string(), "{name}: {e}");
            assert!(now == *orig, "{name}: reported as an error but changed");
        } else if now != *orig {
            let p = dir.join(name);
            noai(&["verify", p.to_str().unwrap()]).expect(0);
            written.push(name.clone());
        }
    }
    written
}
