//! Matroska/WebM fixtures and readers we did not write: ffmpeg makes the files (with tags and,
//! in .mka, a cover attachment), mkvmerge remuxes them into mkvtoolnix's layout, and
//! mkvtoolnix (`mkvextract tags`, `mkvmerge -J`) and ffprobe say what a file holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{lavfi, tool_ok};

/// SPEC keys as ffprobe and mkvextract print them (TagName as written).
pub const SPEC_NAMES: [&str; 4] = [
    "TDM-RESERVATION",
    "DATAMINING",
    "TDM-POLICY",
    "OTHERCONSTRAINTS",
];

/// A 16x16 PNG to attach as cover art.
pub fn cover(dir: &Path) -> PathBuf {
    let path = dir.join("cover.png");
    tool_ok(
        lavfi("color=c=red:s=16x16:d=1")
            .args(["-frames:v", "1"])
            .arg(&path),
    );
    path
}

/// One second of a sine in `codec`, with an artist and a title, at `dir/name` (the extension
/// picks the muxer); `.mka` files get a PNG attachment.
pub fn encode(dir: &Path, name: &str, codec: &str) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = lavfi("sine=f=440:d=1");
    cmd.args([
        "-c:a",
        codec,
        "-metadata",
        "artist=Somebody",
        "-metadata",
        "title=A song",
    ]);
    if name.ends_with(".mka") {
        cmd.arg("-attach")
            .arg(cover(dir))
            .args(["-metadata:s:t", "mimetype=image/png"]);
    }
    tool_ok(cmd.arg(&path));
    path
}

/// An .mka with the cover as ffmpeg writes an attached picture there: a one-frame video track
/// (`V_MS/VFW/FOURCC`, `MPNG`), not an attachment.
pub fn encode_cover_track(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    tool_ok(
        lavfi("sine=f=440:d=1")
            .args(["-i"])
            .arg(cover(dir))
            .args(["-map", "0", "-map", "1", "-c:a", "flac", "-c:v", "copy"])
            .args([
                "-disposition:v",
                "attached_pic",
                "-metadata",
                "artist=Somebody",
            ])
            .arg(&path),
    );
    path
}

/// `from` remuxed by mkvmerge (its own layout: no Void after the SeekHead, Tags at the end...).
pub fn mkvmerge(from: &Path, to: &Path) -> PathBuf {
    tool_ok(
        Command::new("mkvmerge")
            .arg("-q")
            .arg("-o")
            .arg(to)
            .arg(from),
    );
    to.to_path_buf()
}

/// `mkvextract tags` as `(target, name, value)`: every SimpleTag, the target being the Tag's
/// Targets text (empty for the whole file).
pub fn mkvextract_tags(path: &Path) -> Vec<(String, String, String)> {
    let xml = tool_ok(Command::new("mkvextract").arg(path).args(["tags", "-"]));
    let mut out = Vec::new();
    let mut target = String::new();
    let mut in_targets = false;
    let mut name = String::new();
    let inner = |l: &str| {
        let a = l.find('>').map_or(0, |i| i + 1);
        let b = l.rfind("</").unwrap_or(l.len());
        l.get(a..b).unwrap_or("").to_string()
    };
    for line in xml.lines().map(str::trim) {
        if line.starts_with("<Targets>") {
            in_targets = true;
            target.clear();
        } else if line.starts_with("<Targets />") {
            target.clear();
        } else if line.starts_with("</Targets>") {
            in_targets = false;
        } else if in_targets {
            target.push_str(line);
        } else if line.starts_with("<Name>") {
            name = inner(line);
        } else if line.starts_with("<String>") {
            out.push((target.clone(), name.clone(), inner(line)));
        }
    }
    out
}

/// `mkvmerge -J`: its identification of the file (tracks, attachments, chapters, errors).
pub fn identify(path: &Path) -> Value {
    let s = tool_ok(Command::new("mkvmerge").arg("-J").arg(path));
    serde_json::from_str(&s).expect("mkvmerge -J is not JSON")
}

/// What an edit must keep: tracks, attachments, chapters and container properties, as
/// `mkvmerge -J` reports them (the global tag count changes with our fields).
pub fn kept_items(path: &Path) -> Value {
    let j = identify(path);
    assert_eq!(j["errors"], Value::Array(vec![]), "mkvmerge errors: {j}");
    serde_json::json!({
        "tracks": j["tracks"],
        "attachments": j["attachments"],
        "chapters": j["chapters"],
        "container": j["container"]["properties"],
        "track_tags": j["track_tags"],
    })
}

/// The SimpleTags that are not SPEC keys.
pub fn without_ours(tags: &[(String, String, String)]) -> Vec<(String, String, String)> {
    tags.iter()
        .filter(|(_, n, _)| !SPEC_NAMES.contains(&n.as_str()))
        .cloned()
        .collect()
}
