//! Files of the APEv2 family for the tests, made without noai: WavPack and TTA encoded by ffmpeg
//! (no tags: `-map_metadata -1`, bitexact), Monkey's Audio and Musepack as a minimal header plus
//! noise (their headers as mutagen and lofty read them; no decoder needed), then tagged by
//! mutagen (apev2.py: a Unicode text item, a multi-value item, a binary cover) and, where asked,
//! given an ID3v1 tag. `dump` is mutagen's view: every APE item and every ID3v2 frame.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::lavfi;

use serde_json::Value;

use super::tool_ok;

const SCRIPT: &str = include_str!("apev2.py");

/// The four containers: (extension, how the file is made).
pub const KINDS: [&str; 4] = ["wv", "tta", "ape", "mpc"];

/// An untagged file of `ext` in `dir`; its bytes are the audio payload.
pub fn untagged(dir: &Path, ext: &str) -> PathBuf {
    let path = dir.join(format!("a.{ext}"));
    match ext {
        "wv" | "tta" => {
            tool_ok(
                lavfi("sine=d=0.3")
                    .args(["-map_metadata", "-1", "-fflags", "+bitexact"])
                    .args(["-flags:a", "+bitexact"])
                    .arg(&path),
            );
        }
        "ape" => std::fs::write(&path, [monkeys_header(), noise(3000)].concat()).unwrap(),
        "mpc" => std::fs::write(&path, [musepack_sv7_header(), noise(3000)].concat()).unwrap(),
        other => panic!("no maker for .{other}"),
    }
    path
}

/// Monkey's Audio 3.99 header as mutagen reads it: `MAC `, version, then at byte 56 blocks per
/// frame, final frame blocks, total frames, bits per sample, channels, sample rate.
fn monkeys_header() -> Vec<u8> {
    let mut h = b"MAC ".to_vec();
    h.extend(3990u16.to_le_bytes());
    h.resize(56, 0);
    for v in [73728u32, 1000, 1] {
        h.extend(v.to_le_bytes());
    }
    h.extend(16u16.to_le_bytes());
    h.extend(2u16.to_le_bytes());
    h.extend(44100u32.to_le_bytes());
    h
}

/// Musepack SV7 header: `MP+`, version 7, frame count, flags (44.1 kHz), gains, padding.
fn musepack_sv7_header() -> Vec<u8> {
    let mut h = b"MP+\x17".to_vec();
    h.extend(10u32.to_le_bytes());
    h.resize(32, 0);
    h
}

/// Deterministic bytes that look like compressed audio (and contain no tag signature).
fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 11) as u8
        })
        .collect()
}

fn mutagen(cmd: &str, path: &Path) -> String {
    tool_ok(Command::new("python3").args(["-c", SCRIPT, cmd]).arg(path))
}

/// mutagen adds its items (text, multi-value, binary cover) to the file's APEv2 tag.
pub fn add_items(path: &Path) {
    mutagen("add", path);
}

/// mutagen puts an ID3v2.3 tag at the head (TIT2, TXXX:OTHER), padded or (`padded` false) not.
pub fn add_id3v2(path: &Path, padded: bool) {
    mutagen(if padded { "id3" } else { "id3-nopad" }, path);
}

/// An ID3v1.1 tag appended (title, artist, track 7, genre 17).
pub fn add_id3v1(path: &Path) -> Vec<u8> {
    let mut t = b"TAG".to_vec();
    for (s, n) in [
        ("v1 title", 30),
        ("v1 artist", 30),
        ("v1 album", 30),
        ("1999", 4),
    ] {
        let mut f = s.as_bytes().to_vec();
        f.resize(n, 0);
        t.extend(f);
    }
    t.extend([0u8; 28]);
    t.extend([0, 7, 17]);
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(&t);
    std::fs::write(path, bytes).unwrap();
    t
}

/// mutagen's view: `{"ape": {key: [kind, value]}, "id3": {frame: text}}`.
pub fn dump(path: &Path) -> Value {
    serde_json::from_str(&mutagen("dump", path)).unwrap()
}

/// The dump without our four keys (any case), in the APE tag and in TXXX frames.
pub fn others(d: &Value) -> Value {
    let mut d = d.clone();
    let ours = |k: &str| {
        let k = k.strip_prefix("TXXX:").unwrap_or(k);
        noai::model::SPEC_KEYS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(k))
    };
    for part in ["ape", "id3"] {
        if let Some(m) = d[part].as_object_mut() {
            m.retain(|k, _| !ours(k));
        }
    }
    d
}
