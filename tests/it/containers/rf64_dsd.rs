//! RF64/BW64, DSF and DSDIFF against independent tools: `tag` then `verify` exit 0; mutagen
//! (DSF, DSDIFF), ffprobe (DSF, RF64) and ExifTool (RF64) see our values; ffmpeg's audio packets
//! hash the same and every other chunk is byte-identical (walked here, not by noai); the other
//! ID3 frames and the cover survive (mutagen); the size fields add up (RF64 `ds64`, DSF header,
//! `FRM8`); `strip` removes only ours and, on a file `tag` gave its first tag, restores it byte
//! for byte. Then truncated and corrupted variants: no panic, no hang, unchanged, a clear error.

use crate::common;

use std::path::Path;

use common::dsd::{dff, dff_chunks, dsf, frames, mutagen_tag, rf64_chunks, to_rf64};
use common::readers::{exif_tags, exif_xmp, exiftool, ffprobe};
use common::*;

const AI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Dsf,
    Dff,
    Rf64,
}

fn write(dir: &Path, name: &str, b: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, b).unwrap();
    p
}

/// The bytes that must not change, walked without noai: DSF everything before the tag but the
/// two header size fields; DSDIFF and RF64 every chunk but the tag's (and `_PMX`), the RF64
/// `ds64` without its riffSize.
fn kept(kind: Kind, b: &[u8]) -> Vec<Vec<u8>> {
    match kind {
        Kind::Dsf => {
            let at = u64::from_le_bytes(b[20..28].try_into().unwrap()) as usize;
            let end = if at == 0 { b.len() } else { at };
            vec![b[..12].to_vec(), b[28..end].to_vec()]
        }
        Kind::Dff => dff_chunks(b)
            .into_iter()
            .filter(|(id, _)| id != b"ID3 ")
            .map(|(_, c)| c)
            .collect(),
        Kind::Rf64 => rf64_chunks(b)
            .into_iter()
            .filter(|(id, _)| !matches!(id, b"id3 " | b"ID3 " | b"_PMX"))
            .map(|(id, mut c)| {
                if &id == b"ds64" {
                    c[8..16].fill(0);
                }
                c
            })
            .collect(),
    }
}

/// The size fields agree with the file.
fn sizes_add_up(kind: Kind, b: &[u8], name: &str) {
    let le = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    match kind {
        Kind::Dsf => assert_eq!(le(12), b.len() as u64, "{name}: DSF total size"),
        Kind::Dff => {
            dff_chunks(b);
        }
        Kind::Rf64 => {
            assert_eq!(&b[4..8], &[0xFF; 4], "{name}: the 32-bit RIFF size");
            assert_eq!(le(20) + 8, b.len() as u64, "{name}: the ds64 riffSize");
        }
    }
}

/// Our fields as the independent readers of this container see them.
fn readers_see_ours(kind: Kind, f: &Path, name: &str, probe_reads_id3: bool) {
    let want = serde_json::json!([["DATAMINING", AI], ["TDM-RESERVATION", "1"]]);
    let has = |fields: &[(String, String)], k: &str, v: &str| {
        fields.iter().any(|(a, b)| a == k && b == v)
    };
    match kind {
        Kind::Dsf | Kind::Dff => assert_eq!(frames(f)["ours"], want, "{name}: mutagen"),
        // ExifTool 12 does not know the BW64 form (it reports no tags): ffprobe reads it.
        Kind::Rf64 if bytes(f).starts_with(b"BW64") => assert!(probe_reads_id3, "{name}"),
        Kind::Rf64 => {
            let j = exiftool(f);
            assert!(
                has(&exif_tags(&j), "TDM-RESERVATION", "1"),
                "{name}: ExifTool ID3 {j:?}"
            );
            assert!(
                has(&exif_tags(&j), "DATAMINING", AI),
                "{name}: ExifTool ID3 {j:?}"
            );
            assert!(
                has(&exif_xmp(&j), "TDM-RESERVATION", "1"),
                "{name}: ExifTool XMP {j:?}"
            );
        }
    }
    // MediaInfo reads all three (not the BW64 form); kid3-cli (its own TagLib extension) DSF
    // and DSDIFF.
    if !bytes(f).starts_with(b"BW64") {
        let mi = common::dsd::mediainfo(f);
        assert!(has(&mi, "TDM-RESERVATION", "1"), "{name}: MediaInfo {mi:?}");
        assert!(has(&mi, "DATAMINING", AI), "{name}: MediaInfo {mi:?}");
    }
    if kind != Kind::Rf64 {
        let k = common::readers::kid3(f).unwrap_or_default();
        assert!(has(&k, "TDM-RESERVATION", "1"), "{name}: kid3-cli {k:?}");
        assert!(has(&k, "DATAMINING", AI), "{name}: kid3-cli {k:?}");
    }
    if probe_reads_id3 {
        let p = ffprobe(f);
        assert!(
            has(&p.format, "TDM-RESERVATION", "1"),
            "{name}: ffprobe {:?}",
            p.format
        );
        assert!(
            has(&p.format, "DATAMINING", AI),
            "{name}: ffprobe {:?}",
            p.format
        );
    }
}

/// The whole round trip on one file.
pub(super) fn roundtrip(kind: Kind, name: &str, orig: &[u8], probe_reads_id3: bool) {
    let dir = tempdir();
    let f = write(dir.path(), name, orig);
    let fs = f.to_str().unwrap();
    let md5 = audio_md5(&f);
    let before = (kind != Kind::Rf64).then(|| frames(&f));
    // ffprobe's other tags and the cover's stream tags, where it reads the ID3 tag.
    let others = |f: &Path| {
        let p = ffprobe(f);
        let not_ours = |v: Vec<(String, String)>| -> Vec<(String, String)> {
            v.into_iter()
                .filter(|(k, _)| !common::readers::KEYS.contains(&k.as_str()))
                .collect()
        };
        (not_ours(p.format), not_ours(p.streams))
    };
    let probed = probe_reads_id3.then(|| others(&f));
    let doc = noai_json(&["tag", fs], 0);
    assert_eq!(
        file_entry(&doc, name)["status"],
        "tagged",
        "{name}: {doc:#}"
    );
    let container = match kind {
        Kind::Dsf => "dsf",
        Kind::Dff => "dsdiff",
        Kind::Rf64 => "rf64",
    };
    assert_eq!(file_entry(&doc, name)["container"], container, "{name}");
    let shown = noai(&["show", fs]).expect(0).stdout;
    assert!(
        shown.contains("TDM-RESERVATION = 1"),
        "{name}: show: {shown}"
    );
    noai(&["verify", fs]).expect(0);
    let tagged = bytes(&f);
    sizes_add_up(kind, &tagged, name);
    assert_eq!(
        kept(kind, &tagged),
        kept(kind, orig),
        "{name}: a chunk changed"
    );
    assert_eq!(audio_md5(&f), md5, "{name}: audio packets");
    assert_eq!(decode_errors(&f), "", "{name}: ffmpeg decode");
    readers_see_ours(kind, &f, name, probe_reads_id3);
    if let Some(before) = &before {
        assert_eq!(frames(&f)["other"], before["other"], "{name}: other frames");
    }
    if let Some(probed) = &probed {
        assert_eq!(
            &others(&f),
            probed,
            "{name}: ffprobe's other tags and cover"
        );
    }
    noai(&["strip", fs]).expect(0);
    let stripped = bytes(&f);
    sizes_add_up(kind, &stripped, name);
    assert_eq!(
        kept(kind, &stripped),
        kept(kind, orig),
        "{name}: a chunk changed"
    );
    assert_eq!(audio_md5(&f), md5, "{name}: audio packets after strip");
    if let Some(before) = &before {
        let now = frames(&f);
        assert_eq!(
            now["ours"],
            serde_json::json!([]),
            "{name}: strip left ours"
        );
        assert_eq!(
            now["other"], before["other"],
            "{name}: strip changed other frames"
        );
        if before["other"].as_object().unwrap().is_empty() {
            assert!(
                stripped == orig,
                "{name}: strip did not restore the untagged file"
            );
        }
    }
    if let Some(probed) = &probed {
        assert_eq!(
            &others(&f),
            probed,
            "{name}: ffprobe's other tags after strip"
        );
    }
    noai(&["verify", fs]).expect(1);
}

pub(super) fn tagged_by_mutagen(b: &[u8], ext: &str) -> Vec<u8> {
    let dir = tempdir();
    let f = write(dir.path(), &format!("m.{ext}"), b);
    mutagen_tag(&f);
    bytes(&f)
}

/// A WAV from ffmpeg (`bitexact`: no LIST/INFO chunk, which makes ffmpeg drop the ID3 chunk).
pub(super) fn ffmpeg_wav(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let out = dir.join("src.wav");
    tool_ok(lavfi("sine=f=440:d=0.5").args(extra).arg(&out));
    bytes(&out)
}

#[test]
fn dsf_plain_and_mutagen_tagged() {
    roundtrip(Kind::Dsf, "plain.dsf", &dsf(3), true);
    roundtrip(
        Kind::Dsf,
        "cover.dsf",
        &tagged_by_mutagen(&dsf(2), "dsf"),
        true,
    );
}

#[test]
fn dsdiff_plain_and_mutagen_tagged() {
    // ffmpeg's DSDIFF demuxer does not read the ID3 chunk: mutagen is the reader.
    roundtrip(Kind::Dff, "plain.dff", &dff(true), false);
    roundtrip(
        Kind::Dff,
        "cover.dff",
        &tagged_by_mutagen(&dff(false), "dff"),
        false,
    );
}

#[test]
fn rf64_from_ffmpeg_and_with_an_id3_chunk() {
    let dir = tempdir();
    let bitexact = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
    let mut always = bitexact.to_vec();
    always.extend(["-rf64", "always"]);
    let rf = ffmpeg_wav(dir.path(), &always);
    assert_eq!(&rf[..4], b"RF64", "ffmpeg -rf64 always");
    roundtrip(Kind::Rf64, "ffmpeg.wav", &rf, true);
    // With a LIST/INFO chunk, ffmpeg reads that and not the ID3 chunk (docs/interop.md).
    let info = ffmpeg_wav(dir.path(), &["-metadata", "title=T", "-rf64", "always"]);
    roundtrip(Kind::Rf64, "info.rf64", &info, false);
    // A WAV tagged by mutagen (title, artist, cover in an `id3 ` chunk), made BW64.
    let wav = tagged_by_mutagen(&ffmpeg_wav(dir.path(), &bitexact), "wav");
    roundtrip(Kind::Rf64, "cover-bw64.wav", &to_rf64(&wav, b"BW64"), true);
}

/// Cut points: every byte of the head, then 24 points through the rest.
fn cuts(len: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (1..len.min(96)).collect();
    c.extend((0..24).map(|i| 96 + (len - 96) * i / 24));
    c
}

#[test]
fn truncated_and_corrupted_files_are_refused_unchanged() {
    let dir = tempdir();
    let bitexact = [
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-rf64",
        "always",
    ];
    let rf = ffmpeg_wav(dir.path(), &bitexact);
    let sources = [
        ("dsf", tagged_by_mutagen(&dsf(1), "dsf")),
        ("dff", tagged_by_mutagen(&dff(true), "dff")),
        ("rf64", rf),
    ];
    let hostile = tempdir();
    let mut originals = Vec::new();
    for (ext, b) in &sources {
        for n in cuts(b.len()) {
            originals.push((format!("cut{n}.{ext}"), b[..n].to_vec()));
        }
        // Every 8-byte size field near the head set to all ones, then to zero.
        for at in (4..48).step_by(4) {
            for fill in [0xFFu8, 0] {
                let mut v = b.clone();
                v[at..at + 4].fill(fill);
                originals.push((format!("f{fill}at{at}.{ext}"), v));
            }
        }
    }
    for (name, b) in &originals {
        write(hostile.path(), name, b);
    }
    let run = noai(&["tag", hostile.path().to_str().unwrap(), "--format", "json"]);
    assert!(
        matches!(run.code, 0..=2),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let doc = run.json();
    let mut errors = 0;
    for (name, orig) in &originals {
        let e = file_entry(&doc, name);
        let now = bytes(&hostile.path().join(name));
        if e["status"] == "error" {
            errors += 1;
            let msg = e["error"].as_str().unwrap_or("");
            assert!(
                !msg.is_empty() && !msg.contains("internal error"),
                "{name}: {msg:?}"
            );
            assert!(e["error_code"].as_str().is_some(), "{name}: {e:#}");
            assert!(now == *orig, "{name}: reported as an error but changed");
        } else if now != *orig {
            let p = hostile.path().join(name);
            let v = noai(&["verify", p.to_str().unwrap()]);
            assert_eq!(
                v.code, 0,
                "{name}: written but does not verify: {}",
                v.stdout
            );
        }
    }
    assert!(errors > originals.len() / 2, "only {errors} refused");
}

/// An RF64 over 4 GiB, sparse (a few KiB on disk): `tag` appends in place and sets the 64-bit
/// size, the 32-bit fields stay 0xFFFFFFFF, `strip` cuts the chunks off again in place (no copy
/// of the audio), and the file is its old self.
#[test]
fn a_sparse_rf64_over_4_gib_is_tagged_and_stripped_in_place() {
    let dir = tempdir();
    let f = dir.path().join("big.rf64");
    let data: u64 = (4 << 30) + 4096;
    let mut head = b"RF64\xff\xff\xff\xffWAVEds64\x1c\x00\x00\x00".to_vec();
    let riff = 4 + 36 + 24 + 8 + data;
    for v in [riff, data, data / 2] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    head.extend_from_slice(&0u32.to_le_bytes());
    head.extend_from_slice(
        b"fmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00",
    );
    head.extend_from_slice(b"data\xff\xff\xff\xff");
    head.extend_from_slice(&[0x55; 4096]);
    std::fs::write(&f, &head).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
    let len = head.len() as u64 - 4096 + data;
    file.set_len(len).unwrap();
    drop(file);
    let fs = f.to_str().unwrap();
    let doc = noai_json(&["tag", fs], 0);
    assert_eq!(doc["summary"]["written_in_place"], 1, "{doc:#}");
    noai(&["verify", fs]).expect(0);
    let new_len = std::fs::metadata(&f).unwrap().len();
    assert!(new_len > len);
    let b = read_head(&f, 80);
    assert_eq!(&b[4..8], &[0xFF; 4]);
    assert_eq!(
        u64::from_le_bytes(b[20..28].try_into().unwrap()) + 8,
        new_len
    );
    assert_eq!(u64::from_le_bytes(b[28..36].try_into().unwrap()), data);
    let doc = noai_json(&["strip", fs], 0);
    assert_eq!(doc["summary"]["written_in_place"], 1, "{doc:#}");
    assert_eq!(std::fs::metadata(&f).unwrap().len(), len);
    assert_eq!(read_head(&f, head.len()), head);
}

fn read_head(f: &Path, n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut b = vec![0; n];
    std::fs::File::open(f).unwrap().read_exact(&mut b).unwrap();
    b
}

/// A last chunk of odd length whose pad byte is missing (the file ends right after its data):
/// `tag` appends after it, so the pad byte appears; that byte is not a change to the chunk.
#[test]
fn a_last_chunk_of_odd_length_without_its_pad_byte_is_tagged_and_stripped() {
    // RF64: mono 8-bit PCM with 4001 bytes of data, no pad byte.
    let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    wav.extend(16u32.to_le_bytes());
    for v in [1u16, 1] {
        wav.extend(v.to_le_bytes());
    }
    wav.extend(8000u32.to_le_bytes());
    wav.extend(8000u32.to_le_bytes());
    wav.extend([1u16.to_le_bytes(), 8u16.to_le_bytes()].concat());
    wav.extend(b"data");
    wav.extend(4001u32.to_le_bytes());
    wav.extend((0..4001).map(|i| (128 + (i % 64)) as u8));
    let n = wav.len() as u32 - 8;
    wav[4..8].copy_from_slice(&n.to_le_bytes());
    let rf = to_rf64(&wav, b"RF64");
    // DSDIFF: the `DSD ` chunk last with 8191 bytes, no pad byte.
    let mut dsd = dff(false);
    dsd.truncate(dsd.len() - 1);
    let at = dsd.len() - 8191 - 12;
    dsd[at + 4..at + 12].copy_from_slice(&8191u64.to_be_bytes());
    let frm8 = dsd.len() as u64 - 12;
    dsd[4..12].copy_from_slice(&frm8.to_be_bytes());
    for (kind, name, orig) in [(Kind::Rf64, "odd.wav", rf), (Kind::Dff, "odd.dff", dsd)] {
        let dir = tempdir();
        let f = write(dir.path(), name, &orig);
        let fs = f.to_str().unwrap();
        let md5 = audio_md5(&f);
        noai(&["tag", fs]).expect(0);
        noai(&["verify", fs]).expect(0);
        let tagged = bytes(&f);
        sizes_add_up(kind, &tagged, name);
        assert_eq!(
            kept(kind, &tagged),
            kept(kind, &orig),
            "{name}: a chunk changed"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets");
        noai(&["strip", fs]).expect(0);
        noai(&["verify", fs]).expect(1);
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets after strip");
    }
}
