//! `scripts/make-library`, the generator of the kill campaign's, library check's and benchmarks'
//! libraries: the same arguments give the same bytes (from cached templates and from scratch),
//! every variant it names is in the tree with the layout its name promises (checked on the bytes
//! and by ffmpeg and mutagen), and every `_nasty/` entry of the manifest exists.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{audio_md5, bytes, decode_errors, flac_blocks, id3_header, iff_chunks, mutagen};
use serde_json::Value;

/// The generator's variants (`--list-variants`, narrowed by `extra`).
fn variants(extra: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/make-library"))
        .arg("--list-variants")
        .args(extra)
        .output()
        .expect("python3 is required (scripts/test installs the test tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Runs the generator into `dir`, one track per variant; returns the manifest lines.
fn generate(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = dir.with_extension("jsonl");
    let tracks = variants(&[]).len().to_string();
    let out = Command::new("python3")
        .arg(root.join("scripts/make-library"))
        .arg(dir)
        .args([
            "--tracks",
            &tracks,
            "--seconds",
            "1",
            "--seed",
            "11",
            "--manifest",
        ])
        .arg(&manifest)
        .args(extra)
        .output()
        .expect("python3 is required (scripts/test installs the test tools)");
    assert!(
        out.status.success(),
        "make-library failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn main_tree(manifest: &[Value]) -> BTreeMap<String, String> {
    manifest
        .iter()
        .filter(|m| m["note"] == "main library")
        .map(|m| {
            let path = m["path"].as_str().unwrap().to_string();
            (path, m["variant"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The layout a variant's name promises, read from the bytes.
fn check_layout(variant: &str, path: &Path) {
    let b = bytes(path);
    let has = |s: &str| variant.contains(s);
    let chunks = || -> Vec<String> {
        iff_chunks(&b)
            .iter()
            .map(|(id, _)| String::from_utf8_lossy(id).into_owned())
            .collect()
    };
    match variant.split('-').next().unwrap() {
        "mp3" => {
            let v2 = id3_header(&b).map(|(major, _)| major);
            let want = [
                ("id3v23", Some(3)),
                ("id3v24", Some(4)),
                ("id3v1-only", None),
            ];
            let want = want.iter().find(|(k, _)| has(k)).unwrap().1;
            assert_eq!(v2, want, "{variant}: ID3v2 version");
            let v1 = b.len() > 128 && &b[b.len() - 128..b.len() - 125] == b"TAG";
            assert_eq!(v1, has("v1"), "{variant}: ID3v1 trailer");
        }
        "flac" => {
            let types: Vec<u8> = flac_blocks(&b).iter().map(|(t, _)| *t).collect();
            assert_eq!(
                types.contains(&1),
                has("-pad"),
                "{variant}: PADDING in {types:?}"
            );
            assert_eq!(
                types.contains(&6),
                has("pic"),
                "{variant}: PICTURE in {types:?}"
            );
        }
        "rf64" => {
            assert!(b.starts_with(b"RF64"), "{variant}: not an RF64 form");
            let c: Vec<[u8; 4]> = common::dsd::rf64_chunks(&b)
                .into_iter()
                .map(|c| c.0)
                .collect();
            assert_eq!(c.first(), Some(b"ds64"), "{variant}: ds64 first");
            assert_eq!(c.contains(b"LIST"), has("info"), "{variant}: {c:?}");
        }
        "wav" | "aiff" => {
            let c = chunks();
            let id3 = c.iter().any(|id| id.eq_ignore_ascii_case("id3 "));
            assert_eq!(id3, has("id3"), "{variant}: ID3 chunk in {c:?}");
            assert_eq!(c.contains(&"LIST".into()), has("info"), "{variant}: {c:?}");
        }
        "m4a" => {
            let mut top = Vec::new();
            let mut at = 0;
            while at + 8 <= b.len() {
                top.push(b[at + 4..at + 8].to_vec());
                at += u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
            }
            let pos = |t: &[u8]| top.iter().position(|x| x == t).unwrap();
            assert_eq!(pos(b"moov") < pos(b"mdat"), has("faststart"), "{variant}");
        }
        "ogg" if has("flac") => {
            // The first packet, alone on the BOS page: the Ogg FLAC mapping header.
            assert_eq!(b.get(28..33), Some(&b"\x7fFLAC"[..]), "{variant}: Ogg FLAC");
            let pic = common::mutagen_tags(path).contains_key("metadata_block_picture");
            assert_eq!(pic, has("pic"), "{variant}: METADATA_BLOCK_PICTURE");
            let types = common::oggflac::dump(path)["block_types"].clone();
            let pad = types.as_array().unwrap().iter().any(|t| t == 1);
            assert_eq!(pad, has("-pad"), "{variant}: PADDING in {types}");
        }
        "dsf" => {
            // The DSD chunk's metadata pointer: the ID3v2 tag at the end, or 0 without one.
            let at = u64::from_le_bytes(b[20..28].try_into().unwrap()) as usize;
            assert_eq!(&b[..4], b"DSD ", "{variant}");
            assert_eq!(at != 0, has("id3"), "{variant}: metadata pointer {at}");
            assert!(
                at == 0 || b[at..].starts_with(b"ID3"),
                "{variant}: no tag at {at}"
            );
        }
        "dff" => {
            let tail = b.windows(4).rposition(|w| w == b"ID3 ");
            assert_eq!(&b[..4], b"FRM8", "{variant}");
            assert_eq!(tail.is_some(), has("id3"), "{variant}: ID3 chunk");
        }
        "mka" | "webm" => {
            // The EBML header's DocType (0x4282, one size byte) names the flavour.
            let doc = b.windows(2).position(|w| w == [0x42, 0x82]).unwrap();
            let len = usize::from(b[doc + 2] & 0x7F);
            let want: &[u8] = if has("webm") { b"webm" } else { b"matroska" };
            assert_eq!(&b[doc + 3..doc + 3 + len], want, "{variant}: DocType");
        }
        _ => {}
    }
}

#[test]
fn variants_selects_by_name_prefix_or_extension() {
    let oga = ["ogg-flac", "ogg-flac-pic", "ogg-flac-pad"];
    assert_eq!(variants(&["--variants", "oga"]), oga);
    assert_eq!(
        variants(&["--variants", "ogg-flac-pad,wav-info"]),
        ["wav-info", "ogg-flac-pad"]
    );
    let tmp = common::tempdir();
    let dir = tmp.path().join("oga");
    let m = generate(&dir, &["--variants", "oga", "--no-cache"]);
    let tree = main_tree(&m);
    assert!(!tree.is_empty());
    for (rel, variant) in &tree {
        assert!(variant.starts_with("ogg-flac"), "{rel}: {variant}");
        check_layout(variant, &dir.join(rel));
    }
}

#[test]
fn same_arguments_same_library_with_every_variant_and_layout() {
    let tmp = common::tempdir();
    let (a, b) = (tmp.path().join("cached"), tmp.path().join("fresh"));
    let ma = generate(&a, &["--nasty"]);
    let mb = generate(&b, &["--no-cache"]);
    let (ta, tb) = (main_tree(&ma), main_tree(&mb));
    assert_eq!(ta, tb, "the main tree's manifest differs between two runs");
    let variants: std::collections::BTreeSet<_> = ta.values().collect();
    assert_eq!(
        variants.len(),
        self::variants(&[]).len(),
        "one track per variant covers every variant: {variants:?}"
    );

    let mut seen = BTreeMap::new();
    for (rel, variant) in &ta {
        let (pa, pb) = (a.join(rel), b.join(rel));
        assert!(bytes(&pa) == bytes(&pb), "{rel}: not byte-identical");
        check_layout(variant, &pa);
        assert!(audio_md5(&pa).starts_with("MD5="));
        assert_eq!(decode_errors(&pa), "", "{rel}: ffmpeg decode errors");
        // mutagen reads neither RF64 nor Matroska: ffprobe shows their tags.
        if variant.starts_with("rf64") || matches!(variant.split('-').next(), Some("mka" | "webm"))
        {
            let tags = common::readers::ffprobe(&pa).format;
            assert!(
                !tags
                    .iter()
                    .any(|(k, _)| k == "TDM-RESERVATION" || k == "DATAMINING"),
                "{rel}: already tagged"
            );
        } else {
            let dump = mutagen(&pa);
            assert!(common::ours(&dump).is_empty(), "{rel}: already tagged");
        }
        seen.insert(variant.clone(), rel.clone());
    }
    // every _nasty/ entry exists (the one beyond PATH_MAX cannot be named by a path)
    let nasty: Vec<PathBuf> = ma
        .iter()
        .filter(|m| m["note"] != "main library")
        .map(|m| {
            let hex = m["path_hex"].as_str().unwrap();
            let raw: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            a.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&raw))
        })
        .collect();
    assert!(nasty.len() > 60, "only {} _nasty entries", nasty.len());
    for p in nasty.iter().filter(|p| p.as_os_str().len() < 4000) {
        assert!(p.symlink_metadata().is_ok(), "missing: {}", p.display());
    }
}
