//! The one helper layer of the integration tests (tests/it/ and the separate binaries): copy a
//! committed sample into a temp dir, run the built `noai` (run.rs, with a timeout), parse its
//! JSON, and ask independent tools (mutagen, ffmpeg, ffprobe) what is in a file; files.rs and
//! layout.rs read files and their byte layout without noai's parsers. The reader matrix
//! (readers.rs, matrix.rs), interrupted runs, loop-mounted and FUSE file systems and users
//! (interrupted.rs, loopfs.rs, system.rs) are sub-modules. A missing tool fails the test
//! loudly; a skip would look like a pass.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub mod apev2;
pub mod c2pa;
pub mod c2pa_read;
pub mod dsd;
mod files;
pub mod interop_doc;
pub mod interrupted;
mod layout;
pub mod loopfs;
pub mod matrix;
pub mod matrix_layouts;
pub mod mkv;
pub mod oggflac;
pub mod pause;
pub mod planning;
pub mod readers;
mod run;
pub mod s3;
pub mod system;
mod verdict;

pub use files::*;
pub use layout::*;
pub use run::*;

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio");
pub const BIN: &str = env!("CARGO_BIN_EXE_noai");
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
pub fn copy_as(dir: &Path, name: &str, as_name: impl AsRef<Path>) -> PathBuf {
    let dst = dir.join(as_name);
    std::fs::copy(Path::new(SAMPLES).join(name), &dst)
        .unwrap_or_else(|e| panic!("cannot copy sample {name}: {e}"));
    dst
}

pub fn copy_sample(dir: &Path, name: &str) -> PathBuf {
    copy_as(dir, name, name)
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

/// `ffmpeg -nostdin -v error -y -f lavfi -i INPUT`: a generated source (`sine=d=1`,
/// `color=s=16x16`), to go on with codec options and the output path.
pub fn lavfi(input: &str) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", input]);
    cmd
}

/// Runs an external tool that must succeed; its stdout as text.
pub fn tool_ok(cmd: &mut Command) -> String {
    let out = tool(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({:?}): {}",
        out.status.code(),
        text(&out)
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
        "oga" => "oga",
        "m4a" | "m4b" | "mp4" => "mp4",
        "wv" | "ape" | "mpc" | "tta" => "ape",
        "wma" | "asf" => "asf",
        "dsf" | "dff" => "dsd",
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

/// Every tag through mutagen's generic API: key (Vorbis comment keys lowercased, MP4 atom names)
/// -> values as text (bytes decoded as UTF-8).
pub fn mutagen_tags(path: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let script = "import sys, json, mutagen\n\
        f = mutagen.File(sys.argv[1])\n\
        d = lambda v: bytes(v).decode('utf-8', 'replace') if isinstance(v, bytes) else str(v)\n\
        l = lambda vs: vs if isinstance(vs, list) else [vs]\n\
        print(json.dumps({k: [d(v) for v in l(vs)] for k, vs in (f.tags or {}).items()}))";
    let out = tool_ok(Command::new("python3").args(["-c", script]).arg(path));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("mutagen output {out:?}: {e}"))
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

/// A path as the `&str` argument noai takes.
pub fn p(f: &Path) -> &str {
    f.to_str().unwrap()
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

/// mutagen reads exactly the fields of the default policy (no-ai-training) from `file`.
pub fn assert_tagged(file: &Path) {
    assert_eq!(
        ours(&mutagen(file)),
        want("no-ai-training", None, None),
        "{} is not tagged",
        file.display()
    );
}
