//! An ID3 chunk (or DSF tag slot) that holds its tag followed by zero bytes, as taggers that
//! reserve room leave it, or nothing but zeros (room for a tag not written yet): `tag --dry-run`
//! and `tag` must agree, and the write must go through the whole round trip of
//! tests/it/containers/rf64_dsd.rs (readers, kept chunks, audio, strip), or for the chunks of
//! zeros tag, verify and keep the audio. The zeros are added here by walking each container's
//! chunks by hand, not with noai's parsers.

use crate::common;

use std::path::Path;

use common::dsd::{dff, dsf, frames, to_rf64};
use common::*;

use super::rf64_dsd::{Kind, ffmpeg_wav, roundtrip, tagged_by_mutagen};

/// Zero bytes added after the tag: even, so the chunk keeps its pad byte or its lack of one.
const ZEROS: usize = 24;

/// `b` with `ZEROS` zeros at the end of its ID3 chunk. `wide`: 8-byte chunk sizes (DSDIFF);
/// `big`: big-endian sizes; `first`: where the first chunk starts.
fn pad_chunk(b: &[u8], wide: bool, big: bool, first: usize) -> Vec<u8> {
    let n = if wide { 8 } else { 4 };
    let get = |at: usize| {
        let mut v = [0u8; 8];
        let s = &b[at..at + n];
        if big {
            v[8 - n..].copy_from_slice(s);
            u64::from_be_bytes(v) as usize
        } else {
            v[..n].copy_from_slice(s);
            u64::from_le_bytes(v) as usize
        }
    };
    let put = |out: &mut Vec<u8>, at: usize, x: usize| {
        let bytes = if big {
            (x as u64).to_be_bytes()[8 - n..].to_vec()
        } else {
            (x as u64).to_le_bytes()[..n].to_vec()
        };
        out[at..at + n].copy_from_slice(&bytes);
    };
    let mut at = first;
    while at + 4 + n <= b.len() {
        let len = get(at + 4);
        if b[at..at + 4].eq_ignore_ascii_case(b"ID3 ") {
            let end = at + 4 + n + len;
            let mut out = b[..end].to_vec();
            out.extend_from_slice(&[0; ZEROS]);
            out.extend_from_slice(&b[end..]);
            put(&mut out, at + 4, len + ZEROS);
            put(&mut out, 4, get(4) + ZEROS);
            return out;
        }
        at += 4 + n + len + (len & 1);
    }
    panic!("no ID3 chunk");
}

/// A DSF with `ZEROS` zeros after its tag (the tag runs to the end of the file), total size fixed.
fn pad_dsf(b: &[u8]) -> Vec<u8> {
    assert_ne!(&b[20..28], &[0; 8], "no tag");
    let mut out = b.to_vec();
    out.extend_from_slice(&[0; ZEROS]);
    let total = u64::from_le_bytes(out[12..20].try_into().unwrap()) + ZEROS as u64;
    out[12..20].copy_from_slice(&total.to_le_bytes());
    out
}

/// `tag --dry-run` says it would write; `tag` then writes (the two used to disagree).
fn dry_run_agrees(dir: &Path, name: &str, b: &[u8]) {
    let f = dir.join(name);
    std::fs::write(&f, b).unwrap();
    let fs = f.to_str().unwrap();
    let doc = noai_json(&["tag", fs, "--dry-run"], 1);
    assert_eq!(action(&doc, name).0, "would-write", "{name}: {doc:#}");
    let doc = noai_json(&["tag", fs], 0);
    assert_eq!(action(&doc, name).0, "written", "{name}: {doc:#}");
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn dsf_dsdiff_and_rf64_with_zeros_after_the_tag() {
    let dir = tempdir();
    let bitexact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
    let wav = pad_chunk(
        &tagged_by_mutagen(&ffmpeg_wav(dir.path(), &bitexact), "wav"),
        false,
        false,
        12,
    );
    let cases = [
        (
            Kind::Dsf,
            "zeros.dsf",
            pad_dsf(&tagged_by_mutagen(&dsf(2), "dsf")),
        ),
        (
            Kind::Dff,
            "zeros.dff",
            pad_chunk(&tagged_by_mutagen(&dff(false), "dff"), true, true, 16),
        ),
        (Kind::Rf64, "zeros-rf64.wav", to_rf64(&wav, b"RF64")),
    ];
    for (kind, name, b) in cases {
        dry_run_agrees(dir.path(), name, &b);
        roundtrip(kind, name, &b, kind != Kind::Dff);
    }
}

#[test]
fn wav_and_aiff_with_zeros_after_the_tag() {
    let dir = tempdir();
    let bitexact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
    let wav = tagged_by_mutagen(&ffmpeg_wav(dir.path(), &bitexact), "wav");
    let aiff_src = dir.path().join("src.aiff");
    tool_ok(lavfi("sine=f=440:d=0.5").arg(&aiff_src));
    let aiff = tagged_by_mutagen(&bytes(&aiff_src), "aiff");
    let cases = [
        ("zeros.wav", pad_chunk(&wav, false, false, 12)),
        ("zeros.aiff", pad_chunk(&aiff, false, true, 12)),
    ];
    for (name, b) in cases {
        dry_run_agrees(dir.path(), name, &b);
        let f = dir.path().join(name);
        std::fs::write(&f, &b).unwrap();
        let fs = f.to_str().unwrap();
        let (before, md5) = (frames(&f), audio_md5(&f));
        noai(&["tag", fs]).expect(0);
        noai(&["verify", fs]).expect(0);
        let after = frames(&f);
        assert_eq!(after["other"], before["other"], "{name}: other frames");
        let reserved = serde_json::json!(["TDM-RESERVATION", "1"]);
        assert!(
            after["ours"].as_array().unwrap().contains(&reserved),
            "{name}: {after}"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets");
        noai(&["strip", fs]).expect(0);
        assert_eq!(frames(&f)["other"], before["other"], "{name}: after strip");
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets after strip");
    }
}

/// `b` with a chunk `id` of `ZEROS` zero bytes at the end: 4-byte sizes (`big`: big-endian, AIFF)
/// or, `wide`, DSDIFF's 8-byte big-endian ones; the form's size is fixed.
fn with_zero_chunk(b: &[u8], id: &[u8; 4], wide: bool, big: bool) -> Vec<u8> {
    let mut out = b.to_vec();
    out.extend_from_slice(id);
    let grow = 4 + if wide { 8 } else { 4 } + ZEROS;
    match (wide, big) {
        (true, _) => {
            out.extend_from_slice(&(ZEROS as u64).to_be_bytes());
            let form = u64::from_be_bytes(out[4..12].try_into().unwrap()) + grow as u64;
            out[4..12].copy_from_slice(&form.to_be_bytes());
        }
        (false, true) => {
            out.extend_from_slice(&(ZEROS as u32).to_be_bytes());
            let form = u32::from_be_bytes(out[4..8].try_into().unwrap()) + grow as u32;
            out[4..8].copy_from_slice(&form.to_be_bytes());
        }
        (false, false) => {
            out.extend_from_slice(&(ZEROS as u32).to_le_bytes());
            let form = u32::from_le_bytes(out[4..8].try_into().unwrap()) + grow as u32;
            out[4..8].copy_from_slice(&form.to_le_bytes());
        }
    }
    out.extend_from_slice(&[0; ZEROS]);
    out
}

/// A DSF whose tag pointer names a slot of `ZEROS` zeros at the end.
fn dsf_with_zero_slot(b: &[u8]) -> Vec<u8> {
    assert_eq!(&b[20..28], &[0; 8], "already has a tag");
    let mut out = b.to_vec();
    out[20..28].copy_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(&[0; ZEROS]);
    let total = out.len() as u64;
    out[12..20].copy_from_slice(&total.to_le_bytes());
    out
}

/// The planners read a chunk or slot of nothing but zeros as no tag and plan a new one; the
/// proof must read it the same way (it used to hand the zeros to the ID3v2 parsers, which
/// refused them), and the new tag must verify with the audio unchanged.
#[test]
fn a_chunk_or_slot_of_nothing_but_zeros_is_tagged() {
    let dir = tempdir();
    let bitexact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
    let wav = with_zero_chunk(&ffmpeg_wav(dir.path(), &bitexact), b"id3 ", false, false);
    let aiff_src = dir.path().join("plain.aiff");
    tool_ok(lavfi("sine=f=440:d=0.5").arg(&aiff_src));
    let cases = [
        ("empty-rf64.wav", to_rf64(&wav, b"RF64")),
        ("empty.dsf", dsf_with_zero_slot(&dsf(2))),
        (
            "empty.dff",
            with_zero_chunk(&dff(false), b"ID3 ", true, true),
        ),
    ];
    for (name, b) in cases {
        dry_run_agrees(dir.path(), name, &b);
        let f = dir.path().join(name);
        std::fs::write(&f, &b).unwrap();
        let fs = f.to_str().unwrap();
        let md5 = audio_md5(&f);
        noai(&["tag", fs]).expect(0);
        noai(&["verify", fs]).expect(0);
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets");
    }
    // WAV and AIFF are proven by lofty too, which cannot read an ID3 chunk of zeros: nothing
    // vouches for their other tags, so `tag` refuses them, leaving the file as it was, and
    // `--dry-run` (which runs that first step of the proof) says so too.
    let plain = [
        ("empty.wav", wav),
        (
            "empty.aiff",
            with_zero_chunk(&bytes(&aiff_src), b"ID3 ", false, true),
        ),
    ];
    for (name, b) in plain {
        let own = dir.path().join(format!("{name}.d"));
        std::fs::create_dir(&own).unwrap();
        let f = own.join(name);
        std::fs::write(&f, &b).unwrap();
        for dry in [true, false] {
            let mut args = vec!["tag", f.to_str().unwrap()];
            args.extend(dry.then_some("--dry-run"));
            let doc = noai_json(&args, 2);
            let entry = file_entry(&doc, name);
            assert_eq!(entry["error_code"], "refused", "{name}: {doc:#}");
            let error = entry["error"].as_str().unwrap_or_default();
            assert!(error.contains("lofty"), "{name}, dry run {dry}: {error}");
        }
        assert!(bytes(&f) == b, "{name}: changed");
        assert_eq!(
            others_beside(&own, name),
            Vec::<String>::new(),
            "{name}: left files"
        );
    }
}

/// An ID3v2.4 tag with a footer (`3DI`, counted in the chunk but not in the tag's size field):
/// one TIT2 frame and 20 bytes of padding, built by hand.
fn v24_with_footer() -> Vec<u8> {
    let text = b"\x03A title";
    let mut frames = b"TIT2".to_vec();
    frames.extend_from_slice(&[0, 0, 0, text.len() as u8, 0, 0]);
    frames.extend_from_slice(text);
    frames.extend_from_slice(&[0; 20]);
    let syncsafe = syncsafe(frames.len() as u32);
    let mut tag = b"ID3\x04\x00\x10".to_vec();
    tag.extend_from_slice(&syncsafe);
    tag.extend(frames);
    tag.extend_from_slice(b"3DI\x04\x00\x10");
    tag.extend_from_slice(&syncsafe);
    tag
}

/// The footer is part of the tag, so the zeros after it are what is cut, not the footer.
#[test]
fn a_v24_tag_with_a_footer_then_zeros_keeps_its_frames() {
    let dir = tempdir();
    let bitexact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
    let plain = ffmpeg_wav(dir.path(), &bitexact);
    let mut chunk = v24_with_footer();
    chunk.extend_from_slice(&[0; ZEROS]);
    let mut wav = plain.clone();
    wav.extend_from_slice(b"id3 ");
    wav.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    wav.extend_from_slice(&chunk);
    let form = (wav.len() - 8) as u32;
    wav[4..8].copy_from_slice(&form.to_le_bytes());
    // mutagen reads the WAV's frames (not RF64's): the title must survive the write.
    for (name, b, mutagen) in [
        ("footer.wav", wav.clone(), true),
        ("footer-rf64.wav", to_rf64(&wav, b"RF64"), false),
    ] {
        dry_run_agrees(dir.path(), name, &b);
        let f = dir.path().join(name);
        std::fs::write(&f, &b).unwrap();
        let before = mutagen.then(|| frames(&f));
        noai(&["tag", f.to_str().unwrap()]).expect(0);
        noai(&["verify", f.to_str().unwrap()]).expect(0);
        if let Some(before) = before {
            assert!(
                before["other"].as_object().unwrap().contains_key("TIT2"),
                "{name}: mutagen did not see the title: {before}"
            );
            assert_eq!(frames(&f)["other"], before["other"], "{name}: other frames");
        }
    }
}
