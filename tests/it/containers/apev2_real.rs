//! WavPack, TTA (encoded by ffmpeg), Monkey's Audio and Musepack (minimal headers) tagged by
//! mutagen with a Unicode item, a multi-value item, a binary cover and an ID3v1 tag, then run
//! through `noai`: tag -> verify 0 -> mutagen (and ffprobe, for the two ffmpeg decodes) sees our
//! values -> the audio bytes and ffmpeg's packet MD5 unchanged -> every other item and the ID3v1
//! tag unchanged -> strip gives back the original bytes. TTA with only an ID3v2 tag gets ours in
//! that tag. Hostile tails fail clearly and leave the file alone. A missing tool fails.

use std::path::Path;

use serde_json::Value;

use crate::common::apev2::{KINDS, add_id3v1, add_id3v2, add_items, dump, others, untagged};
use crate::common::readers::ffprobe;
use crate::common::{audio_md5, file_entry, noai, noai_json, tempdir};

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn run(cmd: &str, path: &Path, code: i32) -> Value {
    noai_json(&[cmd, path.to_str().unwrap()], code)
}

fn ape_text<'a>(d: &'a Value, key: &str) -> &'a Value {
    &d["ape"][key]
}

#[test]
fn every_container_round_trips_with_other_items_kept() {
    for ext in KINDS {
        let dir = tempdir();
        let path = untagged(dir.path(), ext);
        let audio = std::fs::read(&path).unwrap();
        let decodes = matches!(ext, "wv" | "tta");
        let md5 = decodes.then(|| audio_md5(&path));
        add_items(&path);
        let v1 = add_id3v1(&path);
        let before = std::fs::read(&path).unwrap();
        let dump_before = dump(&path);
        assert_eq!(
            dump_before["ape"]["Cover Art (Front)"][0], "binary",
            "{ext}"
        );

        let doc = run("tag", &path, 0);
        assert_eq!(file_entry(&doc, &format!("a.{ext}"))["status"], "tagged");
        run("verify", &path, 0);
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(&audio), "{ext}: audio bytes changed");
        assert!(after.ends_with(&v1), "{ext}: ID3v1 tag not kept last");
        let d = dump(&path);
        assert_eq!(
            ape_text(&d, "TDM-RESERVATION"),
            &serde_json::json!(["text", "1"]),
            "{ext}"
        );
        assert_eq!(ape_text(&d, "DATAMINING")[1], DMI, "{ext}");
        assert_eq!(others(&d), dump_before, "{ext}: another item changed");
        if let Some(md5) = &md5 {
            // (ffmpeg reads no APE tag before an ID3v1 tag: ffprobe is asked below, without.)
            assert_eq!(&audio_md5(&path), md5, "{ext}: audio packets changed");
        }

        run("strip", &path, 0);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{ext}: strip is not an undo"
        );
        run("verify", &path, 1);
    }
}

#[test]
fn a_file_without_tags_gets_a_tag_that_strip_takes_away() {
    for ext in KINDS {
        let dir = tempdir();
        let path = untagged(dir.path(), ext);
        let before = std::fs::read(&path).unwrap();
        run("tag", &path, 0);
        let d = dump(&path);
        assert_eq!(ape_text(&d, "TDM-RESERVATION")[1], "1", "{ext}");
        if matches!(ext, "wv" | "tta") {
            let seen = format!("{:?}", ffprobe(&path).format);
            assert!(
                seen.contains("TDM-RESERVATION") && seen.contains(DMI),
                "{ext}: ffprobe does not see ours: {seen}"
            );
        }
        run("strip", &path, 0);
        assert_eq!(std::fs::read(&path).unwrap(), before, "{ext}");
    }
}

#[test]
fn tta_with_only_an_id3v2_tag_carries_ours_there() {
    for padded in [true, false] {
        tta_id3(padded);
    }
}

/// With padding the tag grows in place; without, the file is rewritten.
fn tta_id3(padded: bool) {
    let dir = tempdir();
    let path = untagged(dir.path(), "tta");
    let md5 = audio_md5(&path);
    add_id3v2(&path, padded);
    let before = dump(&path);
    let doc = run("tag", &path, 0);
    let how = &file_entry(&doc, "a.tta")["action"]["strategy"];
    assert_eq!(how, if padded { "in-place" } else { "rewrite" });
    run("verify", &path, 0);
    let d = dump(&path);
    assert_eq!(d["ape"], serde_json::json!({}), "no APE tag added");
    assert_eq!(d["id3"]["TXXX:TDM-RESERVATION"], "1");
    assert_eq!(d["id3"]["TXXX:DATAMINING"], DMI);
    assert_eq!(others(&d), before, "the head tag's other frames changed");
    assert_eq!(audio_md5(&path), md5);
    run("strip", &path, 0);
    assert_eq!(dump(&path), before);
    assert_eq!(audio_md5(&path), md5);
}

#[test]
fn a_wavpack_head_id3v2_tag_is_kept_as_it_is() {
    let dir = tempdir();
    // A WavPack file's head ID3v2 tag is kept as it is; ours go into a new APE tag.
    let wv = untagged(dir.path(), "wv");
    add_id3v2(&wv, true);
    let head = dump(&wv)["id3"].clone();
    run("tag", &wv, 0);
    let d = dump(&wv);
    assert_eq!(d["id3"], head);
    assert_eq!(ape_text(&d, "TDM-RESERVATION")[1], "1");
}

#[test]
fn hostile_tails_fail_clearly_and_change_nothing() {
    let dir = tempdir();
    let path = untagged(dir.path(), "wv");
    add_items(&path);
    let good = std::fs::read(&path).unwrap();
    let foot = good.len() - 32;
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, at, v) in [
        ("size-huge", 12, u32::MAX),
        ("size-small", 12, 8),
        ("count-huge", 16, u32::MAX),
        ("version", 8, 3000),
    ] {
        let mut f = good.clone();
        f[foot + at..foot + at + 4].copy_from_slice(&v.to_le_bytes());
        cases.push((name, f));
    }
    // The tag cut in the middle: the footer is gone, so there is no tag to read; a new one is
    // appended after the remains, which are kept as they are.
    for (name, bytes) in cases {
        let p = dir.path().join(format!("{name}.wv"));
        std::fs::write(&p, &bytes).unwrap();
        let r = noai(&["tag", p.to_str().unwrap(), "--format", "json"]).expect(2);
        let e = file_entry(&r.json(), &format!("{name}.wv")).clone();
        assert_eq!(e["status"], "error", "{name}");
        assert!(
            matches!(e["error_code"].as_str(), Some("corrupt" | "truncated")),
            "{name}: {e}"
        );
        assert!(
            e["error"].as_str().unwrap().contains("APE tag"),
            "{name}: {e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}: changed");
    }
}
