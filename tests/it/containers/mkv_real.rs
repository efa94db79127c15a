//! Matroska/WebM against real tools. ffmpeg makes .mka (FLAC, Vorbis, Opus; with tags and a
//! cover attachment) and .webm (Opus, Vorbis); mkvmerge remuxes one into mkvtoolnix's layout.
//! For each: `tag` exits 0, `verify` exits 0, ffprobe and mkvextract (mkvtoolnix) read our
//! values, the audio packets' MD5 is unchanged, every other tag, track, attachment and the
//! container properties are unchanged (mkvmerge -J), and `strip` takes away only ours. Hostile
//! variants (cut short, size fields inflated) never panic, hang or change the file; a WebM with
//! a video track is refused (a cover picture track, as ffmpeg writes one, is not video). A missing tool fails the test: a skipped check would look like a
//! pass.

use std::path::Path;
use std::process::Command;

use crate::common::mkv::{
    encode, encode_cover_track, kept_items, mkvextract_tags, mkvmerge, without_ours,
};
use crate::common::readers::ffprobe;
use crate::common::{
    audio_md5, decode_errors, file_entry, lavfi, noai, tag_damaged, tempdir, tool_ok,
};

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn require_tools() {
    for t in ["mkvmerge", "mkvextract"] {
        tool_ok(Command::new(t).arg("--version"));
    }
    let encoders = tool_ok(Command::new("ffmpeg").args(["-hide_banner", "-encoders"]));
    for enc in ["libvorbis", "libopus", "flac", "libvpx"] {
        assert!(encoders.contains(enc), "ffmpeg lacks the {enc} encoder");
    }
}

fn run(args: &[&str], f: &Path, code: i32) {
    let mut all: Vec<&str> = args.to_vec();
    all.push(f.to_str().unwrap());
    noai(&all).expect(code);
}

/// The value of ffprobe's tag `key`.
fn get<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The whole promise on one file.
fn round_trip(f: &Path) {
    let md5 = audio_md5(f);
    let probe = ffprobe(f).format;
    let tags = mkvextract_tags(f);
    let kept = kept_items(f);
    run(&["tag", "--policy", "no-ai-training"], f, 0);
    run(&["verify", "--policy", "no-ai-training"], f, 0);
    let name = f.display();
    let now = ffprobe(f);
    assert_eq!(get(&now.format, "TDM-RESERVATION"), Some("1"), "{name}");
    assert_eq!(get(&now.format, "DATAMINING"), Some(DMI), "{name}");
    for (k, v) in &probe {
        assert_eq!(
            get(&now.format, k),
            Some(v.as_str()),
            "{name}: ffprobe tag {k} changed"
        );
    }
    let ext = mkvextract_tags(f);
    let ours: Vec<_> = ext
        .iter()
        .filter(|(t, n, _)| t.is_empty() && n == "DATAMINING")
        .collect();
    assert_eq!(ours.len(), 1, "{name}: mkvextract sees {ext:?}");
    assert_eq!(without_ours(&ext), tags, "{name}: other SimpleTags changed");
    assert_eq!(
        kept_items(f),
        kept,
        "{name}: tracks/attachments/properties changed"
    );
    assert_eq!(audio_md5(f), md5, "{name}: audio packets changed");
    assert_eq!(decode_errors(f), "", "{name}: ffmpeg complains after tag");
    // Idempotent: a second tag writes nothing.
    let before = std::fs::read(f).unwrap();
    run(&["tag", "--policy", "no-ai-training"], f, 0);
    assert!(
        std::fs::read(f).unwrap() == before,
        "{name}: second tag changed the file"
    );
    run(&["strip"], f, 0);
    run(&["verify"], f, 1);
    assert_eq!(ffprobe(f).format, probe, "{name}: strip left or took tags");
    assert_eq!(
        mkvextract_tags(f),
        tags,
        "{name}: strip changed other SimpleTags"
    );
    assert_eq!(kept_items(f), kept, "{name}");
    assert_eq!(audio_md5(f), md5, "{name}");
}

#[test]
fn ffmpeg_files_tag_verify_and_strip() {
    require_tools();
    let dir = tempdir();
    for (name, codec) in [
        ("flac.mka", "flac"),
        ("vorbis.mka", "libvorbis"),
        ("opus.mka", "libopus"),
        ("opus.webm", "libopus"),
        ("vorbis.webm", "libvorbis"),
    ] {
        round_trip(&encode(dir.path(), name, codec));
    }
    round_trip(&encode_cover_track(dir.path(), "cover-track.mka"));
}

#[test]
fn mkvmerge_files_and_a_second_edit_tag_verify_and_strip() {
    require_tools();
    let dir = tempdir();
    let src = encode(dir.path(), "src.mka", "flac");
    round_trip(&mkvmerge(&src, &dir.path().join("merged.mka")));
    // A file whose Tags already sit at the end (moved there by an earlier tag): edited there.
    run(&["tag"], &src, 0);
    run(&["strip"], &src, 0);
    round_trip(&src);
    let webm = encode(dir.path(), "src.webm", "libopus");
    round_trip(&mkvmerge(&webm, &dir.path().join("merged.webm")));
}

#[test]
fn exiftool_sees_the_reservation() {
    let dir = tempdir();
    let f = encode(dir.path(), "e.mka", "libopus");
    run(&["tag"], &f, 0);
    let out = tool_ok(
        Command::new("exiftool")
            .args(["-ee", "-a", "-G1", "-s"])
            .arg(&f),
    );
    assert!(out.contains("Tdmreservation") && out.contains(DMI), "{out}");
}

#[test]
fn a_webm_with_video_is_refused_unchanged() {
    require_tools();
    let dir = tempdir();
    let f = dir.path().join("video.webm");
    tool_ok(
        lavfi("color=s=32x32:d=0.2")
            .args([
                "-f",
                "lavfi",
                "-i",
                "sine=d=0.2",
                "-c:v",
                "libvpx",
                "-c:a",
                "libopus",
            ])
            .arg(&f),
    );
    let before = std::fs::read(&f).unwrap();
    let r = noai(&["tag", f.to_str().unwrap(), "--format", "json"]).expect(2);
    let e = file_entry(&r.json(), "video.webm").clone();
    assert_eq!(e["error_code"], "unsupported", "{e}");
    assert!(e["error"].as_str().unwrap().contains("video track"), "{e}");
    assert!(std::fs::read(&f).unwrap() == before);
}

#[test]
fn cut_and_inflated_files_are_errors_or_correct() {
    let dir = tempdir();
    let f = encode(dir.path(), "h.mka", "libopus");
    let orig = std::fs::read(&f).unwrap();
    std::fs::remove_file(&f).unwrap();
    std::fs::remove_file(dir.path().join("cover.png")).unwrap();
    let mut originals = Vec::new();
    let mut cuts: Vec<usize> = (1..orig.len().min(640)).collect();
    cuts.extend((0..32).map(|i| 640 + (orig.len() - 640) * i / 32));
    for cut in cuts {
        let name = format!("cut-{cut:06}.mka");
        std::fs::write(dir.path().join(&name), &orig[..cut]).unwrap();
        originals.push((name, orig[..cut].to_vec()));
    }
    // Size fields: any byte of the first 384 (the headers up to the first Cluster) set to 0x01 (an 8-byte vint of a huge size), 0xFF
    // (unknown size) or 0x00 (invalid).
    for at in 0..orig.len().min(384) {
        for (k, v) in [0x01u8, 0xFF, 0x00].iter().enumerate() {
            let mut b = orig.clone();
            b[at] = *v;
            let name = format!("f{at:04}-{k}.mka");
            std::fs::write(dir.path().join(&name), &b).unwrap();
            originals.push((name, b));
        }
    }
    tag_damaged(dir.path(), &originals);
}
