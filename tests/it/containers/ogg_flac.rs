//! Ogg FLAC end to end, on files the reference tools make: `flac --ogg` (one header packet per
//! page, SEEKTABLE, PICTURE, 8 KiB PADDING) and ffmpeg (a lone comment block, no padding: the
//! first tag adds a PADDING block on the comment's page). Each `tag` must verify, be read by
//! mutagen, ffprobe, ExifTool and kid3-cli (TagLib), keep the audio packets (ffmpeg's MD5),
//! STREAMINFO, a header count that matches the blocks, the header page count and every other
//! block and comment (mutagen's own Ogg page reader), and decode cleanly in `flac -t`; `strip`
//! removes only ours.
//! Damaged, truncated and sabotaged writes leave the file as it was. A missing tool fails the
//! test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::oggflac::{dump, others, ours};
use crate::common::readers::{exiftool, ffprobe, kid3};
use crate::common::{audio_md5, bytes, decode_errors, noai, output_within, p, tempdir, tool_ok};

const DMI: &str = "DATAMINING=http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn ffmpeg(args: &[&str], out: &Path) {
    tool_ok(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .arg(out),
    );
}

/// `flac --ogg` with two tags and a PNG cover (`extra`: more flac options).
fn flac_cli(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let (wav, png, out) = (dir.join("in.wav"), dir.join("cover.png"), dir.join(name));
    ffmpeg(&["-f", "lavfi", "-i", "sine=f=440:d=1", "-ac", "2"], &wav);
    ffmpeg(
        &["-f", "lavfi", "-i", "testsrc=s=48x32:d=1", "-frames:v", "1"],
        &png,
    );
    tool_ok(
        Command::new("flac")
            .args(["-s", "-f", "--ogg", "-T", "ARTIST=Some Artist", "-T"])
            .arg("TITLE=Ünïcode title")
            .arg(format!("--picture={}", png.display()))
            .args(extra)
            .arg("-o")
            .arg(&out)
            .arg(&wav),
    );
    out
}

fn ffmpeg_oga(dir: &Path) -> PathBuf {
    let out = dir.join("ffmpeg.oga");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=d=1",
            "-metadata",
            "title=T",
            "-metadata",
            "artist=A",
            "-c:a",
            "flac",
            "-f",
            "ogg",
        ],
        &out,
    );
    out
}

/// `flac -t`: the reference decoder checks every frame (and the Ogg mapping).
fn flac_decodes(f: &Path) {
    tool_ok(Command::new("flac").args(["-s", "-t"]).arg(f));
}

/// Tag, check with every reader, strip; returns whether the tag was written in place.
fn tag_check_strip(f: &Path) -> bool {
    let (before, bytes_before) = (dump(f), bytes(f));
    let md5 = audio_md5(f);
    noai(&["tag", p(f)]).expect(0);
    noai(&["verify", p(f)]).expect(0);
    let after = dump(f);
    assert_eq!(ours(&after), ["TDM-RESERVATION=1", DMI], "{}", f.display());
    assert_eq!(others(&after), others(&before), "other items kept");
    assert_eq!(
        after["header_pages"], before["header_pages"],
        "page count kept"
    );
    assert_eq!(audio_md5(f), md5, "audio packets unchanged");
    assert_eq!(decode_errors(f), "", "ffmpeg decodes cleanly");
    flac_decodes(f);
    let probe = ffprobe(f);
    let seen = |k: &str| {
        probe
            .format
            .iter()
            .chain(&probe.streams)
            .any(|(a, _)| a == k)
    };
    assert!(
        seen("TDM-RESERVATION") && seen("DATAMINING"),
        "ffprobe: {:?} {:?}",
        probe.format,
        probe.streams
    );
    let exif = exiftool(f);
    assert!(
        exif.iter().any(|(k, v)| k.ends_with(":Datamining")
            && v.as_str().is_some_and(|s| s.ends_with("AIMLTRAINING"))),
        "ExifTool: {exif:?}"
    );
    let k = kid3(f).unwrap_or_else(|| panic!("kid3-cli did not open {}", f.display()));
    assert!(
        k.iter().any(|(a, v)| a == "TDM-RESERVATION" && v == "1"),
        "kid3-cli (TagLib): {k:?}"
    );
    let tagged_len = bytes(f).len();
    let in_place = tagged_len == bytes_before.len();
    noai(&["strip", p(f)]).expect(0);
    let stripped = dump(f);
    assert!(ours(&stripped).is_empty());
    assert_eq!(others(&stripped), others(&before), "strip keeps the rest");
    assert_eq!(audio_md5(f), md5);
    noai(&["verify", p(f)]).expect(1);
    flac_decodes(f);
    if in_place {
        assert_eq!(
            bytes(f),
            bytes_before,
            "in-place strip gives the padding back"
        );
    } else {
        assert_eq!(bytes(f).len(), tagged_len, "strip in place after a rewrite");
    }
    in_place
}

#[test]
fn flac_cli_file_is_tagged_in_place_in_its_padding() {
    let d = tempdir();
    let f = flac_cli(d.path(), "flac.oga", &[]);
    let before = dump(&f);
    assert_eq!(before["block_types"], serde_json::json!([4, 3, 6, 1]));
    assert!(
        tag_check_strip(&f),
        "the 8 KiB PADDING block gives room in place"
    );
}

#[test]
fn ffmpeg_file_without_padding_gets_a_padding_block_on_the_comment_page() {
    let d = tempdir();
    let f = ffmpeg_oga(d.path());
    assert_eq!(dump(&f)["header_count"], 1);
    assert!(!tag_check_strip(&f), "no room: a rewrite");
    let after = dump(&f);
    assert_eq!(after["header_count"], 2);
    assert_eq!(after["block_types"], serde_json::json!([4, 1]));
    assert_eq!(after["packets_per_page"], serde_json::json!([1, 2]));
    // mutagen edits the file after us without losing the padding block or the audio.
    let md5 = audio_md5(&f);
    tool_ok(Command::new("python3").args([
        "-c",
        "import sys; from mutagen.oggflac import OggFLAC; f = OggFLAC(sys.argv[1]); \
         f['ARTIST'] = 'Later'; f.save()",
        p(&f),
    ]));
    let later = dump(&f);
    assert_eq!(later["block_types"], serde_json::json!([4, 1]));
    assert_eq!(later["header_count"], 2);
    assert_eq!(audio_md5(&f), md5);
    flac_decodes(&f);
    noai(&["verify", p(&f)]).expect(1);
}

#[test]
fn a_value_larger_than_the_padding_rewrites_and_leaves_fresh_padding() {
    let d = tempdir();
    let f = flac_cli(d.path(), "small-pad.oga", &["--padding=16"]);
    let before = dump(&f);
    let md5 = audio_md5(&f);
    let long = "x".repeat(300);
    noai(&[
        "tag",
        "--policy",
        "license",
        "--policy-url",
        "https://example.com/terms",
        "--constraints",
        &long,
        p(&f),
    ])
    .expect(0);
    let after = dump(&f);
    assert_eq!(others(&after), others(&before));
    assert_eq!(after["header_count"], before["header_count"]);
    assert_eq!(audio_md5(&f), md5);
    flac_decodes(&f);
    // The fresh padding lets the next edit happen in place.
    let len = bytes(&f).len();
    noai(&["strip", p(&f)]).expect(0);
    assert_eq!(bytes(&f).len(), len, "strip in place after the rewrite");
}

/// `noai tag` on `f` must fail with exit 2 and leave it byte for byte.
fn refused(f: &Path, env: Option<(&str, &str)>) -> String {
    let before = bytes(f);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
    cmd.args(["tag", "--format", "json"])
        .arg(f)
        .env("NO_COLOR", "1");
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let out = output_within(&mut cmd, Duration::from_secs(60));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{}: {text}", f.display());
    assert_eq!(bytes(f), before, "{} was changed", f.display());
    text
}

#[test]
fn truncated_and_damaged_files_are_refused_unchanged() {
    let d = tempdir();
    let f = flac_cli(d.path(), "orig.oga", &[]);
    let good = bytes(&f);
    // Offsets: in the id page, the comment page, the picture page, the padding page, the audio.
    for (i, cut) in [20, 60, 120, 400, good.len() / 2, good.len() - 1]
        .into_iter()
        .enumerate()
    {
        let t = d.path().join(format!("cut{i}.oga"));
        std::fs::write(&t, &good[..cut]).unwrap();
        refused(&t, None);
    }
    // Header pages are read whole, so a flip there is a bad checksum. (Audio pages are copied
    // as they are, or checked when renumbered: a damaged one is never given a fresh CRC.)
    for (i, at) in [40, 100, 300].into_iter().enumerate() {
        let t = d.path().join(format!("flip{i}.oga"));
        let mut b = good.clone();
        b[at] ^= 0x10;
        std::fs::write(&t, &b).unwrap();
        let says = refused(&t, None);
        assert!(says.contains("checksum"), "{says}");
    }
}

#[test]
fn the_proof_refuses_a_write_that_would_damage_another_item() {
    let d = tempdir();
    for (name, needle) in [
        ("artist.oga", "ARTIST=Some"),
        ("picture.oga", "image/png"),
        ("vendor.oga", "reference libFLAC"),
    ] {
        let f = flac_cli(d.path(), name, &[]);
        let says = refused(&f, Some(("NOAI_TEST_CORRUPT", needle)));
        assert!(says.contains("internal check"), "{needle}: {says}");
    }
    let f = ffmpeg_oga(d.path());
    let says = refused(&f, Some(("NOAI_TEST_CORRUPT", "title=T")));
    assert!(says.contains("internal check"), "{says}");
}
