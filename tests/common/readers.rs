//! The independent readers of tests/it/interop/independent_readers.rs, each reduced to the `(key, value)` pairs it shows,
//! plus the verdict of one matrix cell. Every reader runs through `common::tool`, so a reader that
//! is not installed fails the test loudly (scripts/test installs them all).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{DMI, decode_errors, kind_of, mutagen, p, text, tool, tool_ok};

pub type Fields = Vec<(String, String)>;
pub type Want = BTreeMap<String, String>;

pub use super::verdict::*;

const EXTRA: &str = include_str!("mutagen_extra.py");
pub const KEYS: [&str; 4] = [
    "TDM-RESERVATION",
    "DATAMINING",
    "TDM-POLICY",
    "OTHERCONSTRAINTS",
];

/// Checks that every reader starts (a missing one fails here, with the package to install) and
/// returns `(reader, version)` for the document.
pub fn reader_versions() -> Vec<(&'static str, String)> {
    let first = |s: String| s.lines().next().unwrap_or("").trim().to_string();
    let deb = |pkg: &str| {
        Command::new("dpkg-query")
            .args(["-W", "-f", "${Version}", pkg])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|| "(version not reported)".into())
    };
    let check = |prog: &str, args: &[&str], pkg: &str| {
        let out = Command::new(prog).args(args).output().unwrap_or_else(|e| {
            panic!("reader `{prog}` is missing ({e}): install the Debian package `{pkg}` (scripts/test does)")
        });
        let s = text(&out);
        first(s)
    };
    let exif = check("exiftool", &["-ver"], "libimage-exiftool-perl");
    let muta = check(
        "python3",
        &["-c", "import mutagen; print(mutagen.version_string)"],
        "python3-mutagen",
    );
    assert!(
        muta.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "reader mutagen is missing ({muta}): pip install mutagen (scripts/test does)"
    );
    let ffp = check("ffprobe", &["-version"], "ffmpeg");
    check("ffmpeg", &["-version"], "ffmpeg");
    let kid3 = check("kid3-cli", &["--help"], "kid3-cli");
    let mfl = check("metaflac", &["--version"], "flac");
    check("flac", &["--version"], "flac");
    check("AtomicParsley", &["--version"], "atomicparsley");
    vec![
        ("ExifTool", exif),
        ("mutagen", muta),
        ("ffprobe", word(&ffp, "version ")),
        ("kid3-cli", word(&kid3, "kid3-cli ")),
        ("metaflac", word(&mfl, "metaflac ")),
        ("AtomicParsley", format!("Debian {}", deb("atomicparsley"))),
    ]
}

/// The word after `prefix` in `s` (a version number in a banner line).
fn word(s: &str, prefix: &str) -> String {
    let rest = s.split_once(prefix).map_or(s, |(_, r)| r);
    rest.split_whitespace().next().unwrap_or("").to_string()
}

pub fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// ExifTool's JSON for one file (family-1 groups, duplicates numbered `Copy1`… by family 4).
pub fn exiftool(path: &Path) -> serde_json::Map<String, Value> {
    let s = tool_ok(
        Command::new("exiftool")
            .args([
                "-j",
                "-a",
                "-G1:4",
                "-File:FileType",
                "-XMP-plus:DataMining",
                "-XMP-tdm:all",
            ])
            .args([
                "-XMP-plus:OtherConstraints",
                "-UserDefinedText",
                "-ItemList:all",
                "-iTunes:all",
            ])
            .args(["-Vorbis:all", "-AIFF:ApplicationData"])
            .arg(path),
    );
    let v: Value = serde_json::from_str(&s).expect("exiftool -j is not JSON");
    v[0].as_object().cloned().expect("exiftool -j: no object")
}

/// `(group, tag name, value)` of ExifTool's JSON, the `CopyN` family-4 group dropped.
fn exif_items(j: &serde_json::Map<String, Value>) -> Vec<(String, String, String)> {
    j.iter()
        .filter_map(|(k, v)| {
            let parts: Vec<&str> = k.split(':').collect();
            (parts.len() >= 2).then(|| (parts[0].into(), parts[parts.len() - 1].into(), scalar(v)))
        })
        .collect()
}

/// The plain tags ExifTool shows: ID3 `UserDefinedText` "(KEY) value", `Vorbis:Key`, and MP4
/// freeform atoms in the `iTunes` group (not `ItemList`, which holds the standard atoms).
pub fn exif_tags(j: &serde_json::Map<String, Value>) -> Fields {
    let mut out = Fields::new();
    for (group, name, v) in exif_items(j) {
        if name == "UserDefinedText" {
            if let Some((k, val)) = v.strip_prefix('(').and_then(|r| r.split_once(") ")) {
                out.push((k.into(), val.into()));
            }
        } else if group == "Vorbis" || group == "iTunes" {
            out.push((name, v));
        }
    }
    out
}

/// The XMP properties ExifTool shows (`XMP-plus:DataMining`, `XMP-tdm:Reservation`, …).
pub fn exif_xmp(j: &serde_json::Map<String, Value>) -> Fields {
    let key = |n: &str| match n {
        "DataMining" => Some("DATAMINING"),
        "Reservation" => Some("TDM-RESERVATION"),
        "Policy" => Some("TDM-POLICY"),
        "OtherConstraints" => Some("OTHERCONSTRAINTS"),
        _ => None,
    };
    exif_items(j)
        .into_iter()
        .filter(|(g, ..)| g.starts_with("XMP-"))
        .filter_map(|(_, n, v)| key(&n).map(|k| (k.to_string(), v)))
        .collect()
}

/// Our properties found by plain text search in a raw XMP packet (as ffprobe or ExifTool show the
/// bytes of a carrier they do not parse). Element form, as noai writes.
pub fn raw_xmp_fields(raw: &str) -> Fields {
    let raw = raw.replace("\\x0a", "\n");
    let props = [
        ("TDM-RESERVATION", "tdm:reservation"),
        ("DATAMINING", "plus:DataMining"),
        ("TDM-POLICY", "tdm:policy"),
        ("OTHERCONSTRAINTS", "plus:OtherConstraints"),
    ];
    let mut out = Fields::new();
    for (key, el) in props {
        let (open, close) = (format!("<{el}>"), format!("</{el}>"));
        if let Some(inner) = raw
            .split_once(&open)
            .and_then(|(_, r)| r.split_once(&close))
        {
            let mut v = String::new();
            let mut in_tag = false;
            for c in inner.0.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => v.push(c),
                    _ => {}
                }
            }
            out.push((key.into(), v.trim().replace("&amp;", "&")));
        }
    }
    out
}

/// The SPEC fields mutagen reads (TXXX, Vorbis comment, MP4 freeform), as written.
pub fn mutagen_ours(path: &Path) -> Fields {
    let d = mutagen(path);
    d["ours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (scalar(&f[0]), scalar(&f[1])))
        .collect()
}

fn extra(args: &[&str], path: &Path) -> String {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", EXTRA, args[0]]).arg(path).args(&args[1..]);
    tool_ok(&mut cmd)
}

/// mutagen's ID3 `PRIV:XMP` frames: (number of packets, our properties parsed from them).
pub fn mutagen_xmp(path: &Path) -> (usize, Fields) {
    let v: Value = serde_json::from_str(&extra(&["xmp", kind_of(path)], path))
        .expect("mutagen_extra.py xmp: not JSON");
    let fields = v["fields"].as_object().unwrap();
    let f = fields.iter().map(|(k, v)| (k.clone(), scalar(v))).collect();
    (v["packets"].as_u64().unwrap() as usize, f)
}

/// Writes `key=value` pairs with mutagen, keys exactly as given (kind: mp3, flac, opus, mp4).
pub fn mutagen_write(path: &Path, kind: &str, pairs: &[&str]) {
    let mut args = vec!["write", kind];
    args.extend(pairs);
    extra(&args, path);
}

/// ffprobe's format tags and stream tags (all of them), and its warnings.
pub struct Probe {
    pub format: Fields,
    pub streams: Fields,
    pub stderr: String,
}

pub fn ffprobe(path: &Path) -> Probe {
    let out = tool(
        Command::new("ffprobe")
            .args([
                "-v",
                "warning",
                "-show_entries",
                "format_tags:stream_tags",
                "-of",
                "json",
            ])
            .arg(path),
    );
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let pairs = |t: &Value| -> Fields {
        t.as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
            .unwrap_or_default()
    };
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    Probe {
        format: pairs(&v["format"]["tags"]),
        streams: streams.iter().flat_map(|s| pairs(&s["tags"])).collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kid3-cli -c 'get all'`: the frames of its tag 2 (ID3v2, Vorbis comment or MP4), as
/// `(name, value)`; None when kid3-cli printed nothing at all (it did not open the file).
pub fn kid3(path: &Path) -> Option<Fields> {
    let s = tool_ok(Command::new("kid3-cli").args(["-c", "get all"]).arg(path));
    if s.trim().is_empty() {
        return None;
    }
    let tag2 = s.split_once("\nTag 2: ").map_or("", |(_, r)| r);
    Some(
        tag2.lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.trim().split_once(char::is_whitespace)?;
                Some((k.to_string(), v.trim().to_string()))
            })
            .collect(),
    )
}

/// `metaflac --export-tags-to=-`: every Vorbis comment `KEY=value`.
pub fn metaflac(path: &Path) -> Fields {
    tool_ok(Command::new("metaflac").arg("--export-tags-to=-").arg(path))
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.into(), v.into())))
        .collect()
}

/// `AtomicParsley F -t`: the freeform atoms `Atom "----" [mean;name] contains: value`.
pub fn atomicparsley(path: &Path) -> Fields {
    tool_ok(Command::new("AtomicParsley").arg(path).arg("-t"))
        .lines()
        .filter_map(|l| {
            let r = l
                .trim_start_matches('\u{feff}')
                .strip_prefix("Atom \"----\" [")?;
            let (name, v) = r.split_once("] contains: ")?;
            let name = name.strip_prefix("com.apple.iTunes;")?;
            Some((name.to_string(), v.to_string()))
        })
        .collect()
}

/// Whether `AtomicParsley F -T` lists the top-level XMP `uuid` box.
pub fn atomicparsley_lists_xmp_uuid(path: &Path) -> bool {
    tool_ok(Command::new("AtomicParsley").arg(path).args(["-T", "1"]))
        .lines()
        .any(|l| {
            l.trim_start_matches('\u{feff}')
                .starts_with("Atom uuid=be7acfcb-97a9-42e8-9c71-999491e3afac")
        })
}

/// ExifTool's raw `AIFF:ApplicationData` (the `APPL` chunk it does not parse as XMP) holds our
/// packet: it starts `XMP <?xpacket` and has every wanted value inside.
pub fn appl_raw_xmp(j: &serde_json::Map<String, Value>, want: &Want) -> Result<(), String> {
    let appl = j
        .get("AIFF:ApplicationData")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let start: String = appl.chars().take(40).collect();
    ensure(appl.starts_with("XMP <?xpacket"), || {
        format!("AIFF:ApplicationData is {start:?}")
    })?;
    judge(&raw_xmp_fields(appl), want)
}

impl Probe {
    /// Our properties in the MP3 XMP packet ffprobe exports as format tag `id3v2_priv.XMP`.
    pub fn priv_xmp(&self) -> Fields {
        let packets = self.format.iter().filter(|(k, _)| k == "id3v2_priv.XMP");
        packets.flat_map(|(_, v)| raw_xmp_fields(v)).collect()
    }

    /// Every tag value that holds an XMP packet.
    pub fn xmp_packets(&self) -> Vec<&String> {
        let all = self.format.iter().chain(&self.streams);
        all.map(|(_, v)| v)
            .filter(|v| v.contains("xpacket"))
            .collect()
    }
}

/// "decodes": `ffmpeg -v error -i F -f null -` prints nothing, and `flac -t` passes for FLAC.
pub fn decodes_cleanly(f: &Path, flac: bool) -> Cell {
    let mut problems = decode_errors(f);
    if flac {
        let out = tool(Command::new("flac").args(["-t", "-s"]).arg(f));
        if !out.status.success() {
            problems += &format!("flac -t: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    match problems.trim() {
        "" => Cell::Shows(if flac { "ffmpeg, flac -t" } else { "ffmpeg" }.into()),
        e => Cell::Fail(e.replace('\n', " / ")),
    }
}

pub fn notes(e: &serde_json::Value) -> String {
    e["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// ExifTool writes `XMP-plus:DataMining`. ExifTool 12.57 does not define that tag yet (later
/// versions do): it is then defined by the two-line user config those versions have built in.
/// Returns ExifTool's output and how it was called.
pub fn exiftool_writes_datamining(f: &Path) -> (std::process::Output, &'static str) {
    let run = |args: &[&str]| {
        tool(
            Command::new("exiftool")
                .args(args)
                .arg("-overwrite_original")
                .arg(f),
        )
    };
    let out = run(&["-XMP-plus:DataMining=Prohibited for AI/ML training"]);
    if !String::from_utf8_lossy(&out.stderr).contains("not defined") {
        return (
            out,
            "`-XMP-plus:DataMining=\"Prohibited for AI/ML training\"`",
        );
    }
    let cfg = f.with_extension("exiftool-config");
    let def = "%Image::ExifTool::UserDefined = (\n  'Image::ExifTool::PLUS::XMP' => { DataMining => { } },\n);\n1;\n";
    std::fs::write(&cfg, def).unwrap();
    let val = format!("-XMP-plus:DataMining={DMI}DMI-PROHIBITED-AIMLTRAINING");
    let out = run(&["-config", p(&cfg), &val]);
    (
        out,
        "`-XMP-plus:DataMining=…DMI-PROHIBITED-AIMLTRAINING` (12.57 needs a user config defining the tag; \"Prohibited for AI/ML training\" is refused as undefined)",
    )
}
