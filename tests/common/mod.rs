//! Shared helpers for the integration tests: copy a committed sample into a temp dir, run the
//! built `noai` (with a timeout), parse its JSON, and ask independent tools (mutagen, ffmpeg,
//! ffprobe) what is in a file. A missing tool fails the test loudly; a skip would look like a pass.
#![allow(dead_code)]

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio");
pub const DMI: &str = "http://ns.useplus.org/ldf/vocab/";
const MUTAGEN_DUMP: &str = include_str!("mutagen_dump.py");

/// Every policy with the exact values SPEC §2 says it writes.
pub const POLICIES: [(&str, &str, &str); 6] = [
    ("no-ai-training", "1", "DMI-PROHIBITED-AIMLTRAINING"),
    ("no-genai-training", "1", "DMI-PROHIBITED-GENAIMLTRAINING"),
    (
        "no-tdm-except-search",
        "1",
        "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    ),
    ("no-tdm", "1", "DMI-PROHIBITED"),
    ("license", "1", "DMI-PROHIBITED-SEECONSTRAINT"),
    ("allow", "0", "DMI-ALLOWED"),
];

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temp dir")
}

/// Copies `sample-audio/<name>` to `<dir>/<as_name>` and returns the new path.
pub fn copy_as(dir: &Path, name: &str, as_name: &str) -> PathBuf {
    let dst = dir.join(as_name);
    std::fs::copy(Path::new(SAMPLES).join(name), &dst)
        .unwrap_or_else(|e| panic!("cannot copy sample {name}: {e}"));
    dst
}

pub fn copy_sample(dir: &Path, name: &str) -> PathBuf {
    copy_as(dir, name, name)
}

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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
    cmd.args(args).env("NO_COLOR", "1");
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let out = output_within(&mut cmd, Duration::from_secs(60));
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

/// `noai <args> --format json`, the exit code asserted, the document returned.
pub fn noai_json(args: &[&str], code: i32) -> Value {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--format", "json"]);
    noai(&a).expect(code).json()
}

/// The JSON object for the file whose path ends with `name`.
pub fn file_entry<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["files"]
        .as_array()
        .expect("no files array")
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no entry for {name} in {doc:#}"))
}

/// `(type, strategy)` of a file's `action` in a JSON report.
pub fn action(doc: &Value, name: &str) -> (String, String) {
    let a = &file_entry(doc, name)["action"];
    (
        a["type"].as_str().unwrap_or("").to_string(),
        a["strategy"].as_str().unwrap_or("").to_string(),
    )
}

fn missing(tool: &str, e: impl std::fmt::Display) -> ! {
    panic!(
        "`{tool}` is required by this test but could not be run ({e}): install it with scripts/test (scripts/test installs the readers too)"
    )
}

/// Runs an external tool; a tool that cannot start is a loud failure, not a skip.
pub fn tool(cmd: &mut Command) -> Output {
    let name = cmd.get_program().to_string_lossy().into_owned();
    match cmd.stdin(Stdio::null()).output() {
        Ok(o) => o,
        Err(e) => missing(&name, e),
    }
}

fn tool_ok(cmd: &mut Command) -> String {
    let out = tool(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// mutagen's kind for a file name.
pub fn kind_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "mp3" => "mp3",
        "wav" => "wav",
        "aiff" | "aif" | "aifc" => "aiff",
        "flac" => "flac",
        "ogg" => "ogg",
        "opus" => "opus",
        "spx" => "spx",
        "m4a" | "m4b" | "mp4" => "mp4",
        e => panic!("no mutagen kind for .{e}"),
    }
}

/// Everything mutagen sees in a file (see mutagen_dump.py): `ours` = the SPEC fields as
/// `[key, value, encoding]`, the rest = every other tag, picture and chapter.
pub fn mutagen(path: &Path) -> Value {
    let out = tool(
        Command::new("python3")
            .args(["-c", MUTAGEN_DUMP])
            .arg(path)
            .arg(kind_of(path)),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("No module named 'mutagen'") {
        missing("mutagen (Python module)", "python3 cannot import it");
    }
    assert!(
        out.status.success(),
        "mutagen could not read {}: {err}",
        path.display()
    );
    serde_json::from_slice(&out.stdout).expect("mutagen dump is not JSON")
}

/// The SPEC fields mutagen reads, as `key -> value`.
pub fn ours(dump: &Value) -> std::collections::BTreeMap<String, String> {
    dump["ours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f[0].as_str().unwrap().to_string(),
                f[1].as_str().unwrap_or("<not one string>").to_string(),
            )
        })
        .collect()
}

/// The dump without our fields and without the ID3 version: what must survive a tag.
pub fn others(dump: &Value) -> Value {
    let mut d = dump.clone();
    let o = d.as_object_mut().unwrap();
    o.remove("ours");
    for k in ["id3", "id3_prefix"] {
        if let Some(t) = o.get_mut(k) {
            if t.is_null() {
                *t = serde_json::json!({ "frames": {} });
            }
            t.as_object_mut().unwrap().remove("version");
        }
    }
    d
}

/// `ffmpeg -map 0:a -c copy -f md5`: the hash of the audio packets.
pub fn audio_md5(path: &Path) -> String {
    let s = tool_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args(["-map", "0:a", "-c", "copy", "-f", "md5", "-"]),
    );
    assert!(s.starts_with("MD5="), "unexpected ffmpeg md5 output {s:?}");
    s.trim().to_string()
}

/// What ffmpeg complains about when decoding the whole file (empty = clean).
pub fn decode_errors(path: &Path) -> String {
    let out = tool(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            .args(["-f", "null", "-"]),
    );
    let mut s = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        s += &format!("\n(ffmpeg exit {:?})", out.status.code());
    }
    s
}

/// ffprobe's chapters (start, end, title) as JSON.
pub fn chapters(path: &Path) -> Value {
    let s = tool_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-show_chapters", "-of", "json"])
            .arg(path),
    );
    let v: Value = serde_json::from_str(&s).expect("ffprobe json");
    let list = v["chapters"].as_array().cloned().unwrap_or_default();
    Value::Array(
        list.iter()
            .map(|c| serde_json::json!([c["start_time"], c["end_time"], c["tags"]["title"]]))
            .collect(),
    )
}

pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// (inode, size, mtime seconds, mtime nanoseconds)
pub fn stat(path: &Path) -> (u64, u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

/// Sets a file's mtime to an old, fixed value so "unchanged" is visible.
pub fn age(path: &Path) {
    let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

/// FLAC metadata blocks after `fLaC` (an ID3v2 prefix skipped): (type, raw body).
pub fn flac_blocks(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut p = 0;
    if b.starts_with(b"ID3") {
        let n = b[6..10].iter().fold(0usize, |a, &x| (a << 7) | x as usize);
        p = 10 + n + if b[5] & 0x10 != 0 { 10 } else { 0 };
    }
    assert_eq!(&b[p..p + 4], b"fLaC", "no fLaC marker");
    p += 4;
    let mut out = Vec::new();
    loop {
        let h = b[p];
        let n = u32::from_be_bytes([0, b[p + 1], b[p + 2], b[p + 3]]) as usize;
        out.push((h & 0x7f, b[p + 4..p + 4 + n].to_vec()));
        p += 4 + n;
        if h & 0x80 != 0 {
            return out;
        }
    }
}

/// Ogg pages: (granule position, serial number) of each.
pub fn ogg_pages(b: &[u8]) -> Vec<(u64, u32)> {
    let mut p = 0;
    let mut out = Vec::new();
    while p + 27 <= b.len() {
        assert_eq!(&b[p..p + 4], b"OggS", "lost Ogg page sync at byte {p}");
        let granule = u64::from_le_bytes(b[p + 6..p + 14].try_into().unwrap());
        let serial = u32::from_le_bytes(b[p + 14..p + 18].try_into().unwrap());
        let nseg = b[p + 26] as usize;
        let body: usize = b[p + 27..p + 27 + nseg].iter().map(|&x| x as usize).sum();
        out.push((granule, serial));
        p += 27 + nseg + body;
    }
    assert_eq!(p, b.len(), "trailing bytes after the last Ogg page");
    out
}

/// RIFF/FORM chunks: (id, body). Also asserts the outer size field matches the file.
pub fn iff_chunks(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let le = &b[..4] == b"RIFF";
    let rd = |x: &[u8]| {
        let a: [u8; 4] = x.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(
        rd(&b[4..8]) as usize,
        b.len() - 8,
        "RIFF/FORM size field does not match the file length"
    );
    let mut p = 12;
    let mut out = Vec::new();
    while p + 8 <= b.len() {
        let id: [u8; 4] = b[p..p + 4].try_into().unwrap();
        let n = rd(&b[p + 4..p + 8]) as usize;
        assert!(
            p + 8 + n <= b.len(),
            "chunk {:?} runs past the end",
            String::from_utf8_lossy(&id)
        );
        out.push((id, b[p + 8..p + 8 + n].to_vec()));
        p += 8 + n + (n & 1);
    }
    assert_eq!(p, b.len(), "chunk walk does not end at the end of the file");
    out
}

/// An ID3v2 tag at the start of `b`: (major version, flags).
pub fn id3_header(b: &[u8]) -> Option<(u8, u8)> {
    b.starts_with(b"ID3").then(|| (b[3], b[5]))
}

/// A path as the `&str` argument noai takes.
pub fn p(f: &Path) -> &str {
    f.to_str().unwrap()
}

/// (bytes, mtime): what "nothing was written" compares.
pub fn state(f: &Path) -> (Vec<u8>, (i64, i64)) {
    let (_, _, s, ns) = stat(f);
    (bytes(f), (s, ns))
}

/// The SPEC fields a policy writes (SPEC §2), as mutagen reports them.
pub fn want(
    policy: &str,
    url: Option<&str>,
    constraints: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let (_, res, dmi) = POLICIES.iter().find(|x| x.0 == policy).unwrap();
    let mut m = std::collections::BTreeMap::from([
        ("TDM-RESERVATION".to_string(), res.to_string()),
        ("DATAMINING".to_string(), format!("{DMI}{dmi}")),
    ]);
    if let Some(u) = url {
        m.insert("TDM-POLICY".into(), u.into());
    }
    if let Some(c) = constraints {
        m.insert("OTHERCONSTRAINTS".into(), c.into());
    }
    m
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
