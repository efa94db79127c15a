//! The reader matrix of tests/it/interop/reader_matrix.rs: six independent readers, each reduced to the set
//! of `name=value` fields it shows (technical entries such as sizes and dates of the file left
//! out), with the reservation's own fields told apart; and the layouts, each made by real tools
//! (lame, ffmpeg, flac, mutagen) in a temp dir. A reader that is missing fails loudly.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::readers::scalar;
use crate::common::{bytes, lavfi, tool, tool_ok};

pub type Seen = BTreeSet<String>;

pub const READERS: [&str; 6] = [
    "TagLib",
    "ffprobe",
    "mutagen",
    "ExifTool",
    "kid3-cli",
    "MediaInfo",
];
const DUMP: &str = include_str!("matrix_dump.py");
/// Debian's python3-taglib imports only under the system interpreter.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";
pub const DATAMINING: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn py(python: &str, args: &[&str], path: &Path) -> String {
    tool_ok(
        Command::new(python)
            .args(["-c", DUMP])
            .arg(args[0])
            .arg(path)
            .args(&args[1..]),
    )
}

/// What `reader` shows for `path`.
pub fn read(reader: &str, path: &Path) -> Seen {
    match reader {
        "TagLib" => {
            let probe = tool(Command::new(SYSTEM_PYTHON).args(["-c", "import taglib"]));
            assert!(
                probe.status.success(),
                "TagLib is required: `{SYSTEM_PYTHON} -c 'import taglib'` failed; install the \
                 Debian package python3-taglib (scripts/test does): {}",
                String::from_utf8_lossy(&probe.stderr)
            );
            json_list(&py(SYSTEM_PYTHON, &["taglib"], path))
        }
        "mutagen" => json_list(&py("python3", &["mutagen"], path)),
        "ffprobe" => ffprobe(path),
        "ExifTool" => exiftool(path),
        "kid3-cli" => kid3(path),
        "MediaInfo" => mediainfo(path),
        _ => unreachable!("unknown reader {reader}"),
    }
}

fn json_list(s: &str) -> Seen {
    let v: Vec<String> = serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"));
    v.into_iter().collect()
}

/// ffprobe's format and stream tags.
fn ffprobe(path: &Path) -> Seen {
    let s = tool_ok(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format_tags:stream_tags",
                "-of",
                "json",
            ])
            .arg(path),
    );
    let v: Value = serde_json::from_str(&s).expect("ffprobe json");
    let mut out = Seen::new();
    let mut add = |t: &Value| {
        for (k, v) in t.as_object().into_iter().flatten() {
            out.insert(format!("{k}={}", scalar(v)));
        }
    };
    add(&v["format"]["tags"]);
    for st in v["streams"].as_array().into_iter().flatten() {
        add(&st["tags"]);
    }
    out
}

/// ExifTool's tags by name, its group dropped: the same field in ID3v1 and ID3v2 is one field
/// (ExifTool shows every tag of the file, each under its own group). Groups about the file and
/// the run, and the estimated duration (it follows the file size), are left out.
fn exiftool(path: &Path) -> Seen {
    let s = tool_ok(
        Command::new("exiftool")
            .args(["-j", "-a", "-G1:4", "-s"])
            .arg(path),
    );
    let v: Value = serde_json::from_str(&s).expect("exiftool -j is not JSON");
    let skip_groups = ["System", "File", "ExifTool", "Composite"];
    let mut out = Seen::new();
    for (k, v) in v[0].as_object().into_iter().flatten() {
        let mut parts: Vec<&str> = k.split(':').collect();
        if k == "SourceFile" || skip_groups.contains(&parts[0]) {
            continue;
        }
        let name = parts.pop().unwrap_or_default();
        // Sizes of the tags themselves are no fields.
        if matches!(name, "ID3Size" | "ID3v2Size") {
            continue;
        }
        out.insert(format!("{name}={}", scalar(v)));
    }
    out
}

/// `kid3-cli -c 'get all'`: every tag's frames as `name=value`, the tag number dropped (kid3
/// lists ID3v1, ID3v2 and RIFF INFO as tags 1, 2, 3).
fn kid3(path: &Path) -> Seen {
    let s = tool_ok(Command::new("kid3-cli").args(["-c", "get all"]).arg(path));
    let mut out = Seen::new();
    let mut in_tag = false;
    for l in s.lines() {
        if l.starts_with("Tag ") {
            in_tag = true;
        } else if l.starts_with("File:") {
            in_tag = false;
        } else if in_tag && let Some((k, v)) = l.trim().split_once("  ") {
            out.insert(format!("{k}={}", v.trim()));
        }
    }
    out
}

/// MediaInfo's General track, without what describes the file rather than its tags.
fn mediainfo(path: &Path) -> Seen {
    let s = tool_ok(Command::new("mediainfo").arg("--Output=JSON").arg(path));
    let v: Value = serde_json::from_str(&s).expect("mediainfo json");
    let technical = [
        "@type",
        "FileSize",
        "StreamSize",
        "Duration",
        "OverallBitRate",
        "OverallBitRate_Mode",
        "File_Modified_Date",
        "File_Modified_Date_Local",
        "HeaderSize",
        "DataSize",
        "FooterSize",
        "IsStreamable",
        "FrameCount",
        "FrameRate",
        "StreamOrder",
    ];
    let mut out = Seen::new();
    let general = &v["media"]["track"][0];
    for (k, v) in general.as_object().into_iter().flatten() {
        if technical.contains(&k.as_str()) {
            continue;
        }
        if k == "extra" {
            for (ek, ev) in v.as_object().into_iter().flatten() {
                out.insert(format!("extra:{ek}={}", scalar(ev)));
            }
        } else {
            out.insert(format!("{k}={}", scalar(v)));
        }
    }
    out
}

/// True for a field of the reservation (or its XMP packet), however the reader names it.
pub fn is_ours(entry: &str) -> bool {
    let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
    let k = k.to_ascii_lowercase();
    let named = [
        "tdm",
        "datamining",
        "reservation",
        "userdefinedtext",
        "txxx",
        "xmp",
        "priv",
    ]
    .iter()
    .any(|n| k.contains(n));
    // ExifTool shows a TXXX as `(KEY) value`.
    let v = match v.strip_prefix('(').and_then(|r| r.split_once(") ")) {
        Some((_, rest)) => rest,
        None => v,
    };
    // An XMP packet shown raw (ExifTool's AIFF `ApplicationData`, ffprobe's `id3v2_priv.XMP`).
    let packet = v.contains("ns.useplus.org/ldf/xmp") || v.contains("w3.org/ns/tdmrep");
    packet || (named && (v == "1" || v == DATAMINING))
}

pub fn without_ours(s: &Seen) -> Seen {
    s.iter().filter(|e| !is_ours(e)).cloned().collect()
}

/// Runs a tool that makes a layout, failing when it fails.
pub fn make(cmd: &mut Command) {
    tool_ok(cmd);
}

/// mutagen (pip's, on PATH) writing with the helper script.
pub fn mutagen_write(args: &[&str], path: &Path) {
    py("python3", args, path);
}

/// A one-second sine as 16-bit WAV, the source of every layout.
pub fn base_wav(dir: &Path) -> PathBuf {
    let f = dir.join("base.wav");
    make(
        lavfi("sine=frequency=440:duration=1")
            .args(["-ar", "44100"])
            .arg(&f),
    );
    f
}

/// `lame` with `args` from the base WAV to `name`.
pub fn lame(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    make(
        Command::new("lame")
            .arg("--quiet")
            .args(args)
            .arg(dir.join("base.wav"))
            .arg(&out),
    );
    out
}

/// `ffmpeg -i base.wav ARGS name`.
pub fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    make(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(dir.join("base.wav"))
            .args(args)
            .arg(&out),
    );
    out
}

/// `path`'s bytes with the bytes of `extra` spliced in at `at`.
pub fn splice(path: &Path, at: usize, extra: &[u8]) {
    let mut b = bytes(path);
    b.splice(at..at, extra.iter().copied());
    std::fs::write(path, b).unwrap();
}

/// The heading of the matrix's section in docs/interop.md; tests/it/interop/independent_readers.rs keeps everything
/// from it on when it rewrites sections 1 and 2.
pub const SECTION: &str =
    "\n## 3. Every reader sees what it saw before (tests/it/interop/reader_matrix.rs)\n";

/// With `NOAI_INTEROP_MD` set, writes `table` as section 3 of that document (replacing the old
/// section 3, keeping sections 1 and 2).
pub fn publish(table: &str) {
    let Ok(path) = std::env::var("NOAI_INTEROP_MD") else {
        return;
    };
    let _file = crate::common::interop_doc::lock_file();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let keep = old.split_once(SECTION).map_or(old.as_str(), |(k, _)| k);
    let version = |pkg: &str| {
        let out = tool(Command::new("dpkg-query").args(["-W", "-f", "${Version}", pkg]));
        format!("{pkg} {}", String::from_utf8_lossy(&out.stdout))
    };
    let pkgs = [
        "libtag1v5",
        "python3-taglib",
        "mediainfo",
        "ffmpeg",
        "libimage-exiftool-perl",
    ];
    let versions: Vec<String> = pkgs.iter().map(|p| version(p)).collect();
    let doc = format!(
        "{}\n{SECTION}\nGenerated by `tests/it/interop/reader_matrix.rs`; regenerate with \
         `NOAI_INTEROP_MD=docs/interop.md cargo test --test it interop::reader_matrix`.\n\n\
         Each layout is made in the test by real tools (lame, ffmpeg `-metadata`, flac via ffmpeg, \
         mutagen), then `noai tag`, `noai verify`, `noai strip` run on it. A cell counts the \
         non-reservation fields the reader shows (`name=value`, technical entries such as file size \
         left out; ExifTool and kid3-cli by tag name, the group or tag number dropped) before `tag`, \
         after `tag` (our fields set aside), and after `strip`. `n → n → n`: the same fields each \
         time. `(+k)`: k more fields after `tag`, each with a value some reader showed before (the \
         copies carried into the new ID3v2 tag); `(−j +k)`: j fields shown with other values (note). \
         After `strip` every reader shows exactly what it showed before, and where `tag` created the \
         first ID3v2 tag or ID3 chunk the file is byte-identical to the original. \"refused\": \
         `tag --force` and `strip` refuse the file (a reservation in a carrier noai reads but never \
         writes), bytes unchanged. Packages: {}; mutagen and kid3-cli as in section 1.\n\n{table}",
        keep.trim_end(),
        versions.join(", ")
    );
    std::fs::write(&path, doc).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
}
