//! Every untagged container sample: `tag` adds exactly the SPEC fields (read back by mutagen),
//! `verify` passes, the audio packets hash the same (ffmpeg), every other tag, picture, block,
//! chunk and chapter survives, the ID3 version is kept, and ffmpeg decodes the result cleanly.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// Which ID3v2 major version the file must carry after tagging (None: not an ID3 container).
fn want_id3_major(name: &str) -> Option<u8> {
    Some(match name {
        "mp3-v23-pad.mp3" | "mp3-noid3.mp3" | "mp3-id3v1-only.mp3" => 3,
        "mp3-v24-nopad.mp3" => 4,
        "mp3-v22.mp3" => 2,
        "wav-id3.wav" | "wav-plain.wav" | "aiff-plain.aiff" | "aifc.aifc" => 3,
        "aiff-id3.aiff" => 4,
        _ => return None,
    })
}

/// The chunks a tag may add or change: the ID3 chunk, and the XMP carriers of SPEC §3.1
/// (WAV `_PMX`, AIFF `APPL` with signature `XMP `).
fn is_id3_chunk(id: &[u8; 4]) -> bool {
    id == b"id3 " || id == b"ID3 "
}

fn is_our_chunk(id: &[u8; 4], body: &[u8]) -> bool {
    is_id3_chunk(id) || id == b"_PMX" || (id == b"APPL" && body.starts_with(b"XMP "))
}

/// The ID3v2 tag bytes of a file: at the start (MP3) or in its `id3 `/`ID3 ` chunk (WAV/AIFF).
fn id3_bytes(path: &Path) -> Vec<u8> {
    let b = bytes(path);
    if b.starts_with(b"RIFF") || b.starts_with(b"FORM") {
        let ch: Vec<_> = iff_chunks(&b)
            .into_iter()
            .filter(|(id, _)| is_id3_chunk(id))
            .collect();
        assert_eq!(
            ch.len(),
            1,
            "{}: want exactly one ID3 chunk, found {}",
            path.display(),
            ch.len()
        );
        ch.into_iter().next().unwrap().1
    } else {
        b
    }
}

fn roundtrip(name: &str) {
    let dir = tempdir();
    let f = copy_sample(dir.path(), name);
    let orig = bytes(&f);
    let before = mutagen(&f);
    let md5_before = audio_md5(&f);
    assert!(
        ours(&before).is_empty(),
        "{name}: fixture already has SPEC fields: {before}"
    );
    assert_eq!(
        decode_errors(&f),
        "",
        "{name}: the fixture itself does not decode cleanly"
    );
    let mp4 = kind_of(&f) == "mp4";
    let chapters_before = mp4.then(|| chapters(&f));

    let fs = f.to_str().unwrap();
    let doc = noai_json(&["tag", fs], 0);
    let e = file_entry(&doc, name);
    assert_eq!(e["status"], "tagged", "{name}: JSON after tag: {e:#}");
    assert_eq!(
        e["action"]["type"], "written",
        "{name}: JSON after tag: {e:#}"
    );
    noai(&["verify", fs]).expect(0);
    noai(&["verify", fs, "--policy", "no-ai-training"]).expect(0);

    // Exactly the SPEC values, keys spelled UPPERCASE, read by an independent tagger.
    let after = mutagen(&f);
    let want: BTreeMap<String, String> = [
        ("TDM-RESERVATION".to_string(), "1".to_string()),
        (
            "DATAMINING".to_string(),
            format!("{DMI}DMI-PROHIBITED-AIMLTRAINING"),
        ),
    ]
    .into();
    assert_eq!(
        ours(&after),
        want,
        "{name}: SPEC fields as mutagen reads them: {after}"
    );
    assert_eq!(
        after["ours"].as_array().unwrap().len(),
        2,
        "{name}: one field per key: {after}"
    );
    for field in after["ours"].as_array().unwrap() {
        match kind_of(&f) {
            // ASCII values: ISO-8859-1 (encoding 0) in ID3; UTF-8 data (type 1) in MP4.
            "mp3" | "wav" | "aiff" => assert_eq!(field[2], 0, "{name}: {field} not Latin-1"),
            "mp4" => assert_eq!(field[2], 1, "{name}: {field} not UTF-8 data"),
            _ => {}
        }
    }

    // Everything else survives: tags, pictures, chapters, vendor string, ID3v1, ID3 prefix.
    // A new ID3 chunk carries the AIFF NAME/AUTH text chunks (issue 19): mutagen sees them now.
    let mut want_others = others(&before);
    if name == "aifc.aifc" {
        want_others["id3"]["frames"] = serde_json::json!({
            "TIT2": {"encoding": 0, "id": "TIT2", "text": ["Sample Tone"]},
            "TPE1": {"encoding": 0, "id": "TPE1", "text": ["Noai Test Ensemble"]},
        });
    }
    assert_eq!(
        others(&after),
        want_others,
        "{name}: other tags changed (mutagen before vs after)"
    );
    assert_eq!(audio_md5(&f), md5_before, "{name}: audio packets changed");
    assert_eq!(
        decode_errors(&f),
        "",
        "{name}: ffmpeg complains after tagging"
    );
    if let Some(ch) = chapters_before {
        assert_eq!(chapters(&f), ch, "{name}: chapters changed (ffprobe)");
        if name == "m4b-book.m4b" {
            assert_eq!(
                ch.as_array().unwrap().len(),
                2,
                "fixture must have two chapters"
            );
        }
    }
    structure(name, &f, &orig);
}

/// Container-level checks that mutagen does not see.
fn structure(name: &str, f: &Path, orig: &[u8]) {
    let now = bytes(f);
    if let Some(major) = want_id3_major(name) {
        let tag = id3_bytes(f);
        let (v, flags) =
            id3_header(&tag).unwrap_or_else(|| panic!("{name}: no ID3v2 tag where expected"));
        assert_eq!(v, major, "{name}: ID3v2 major version {v}, want 2.{major}");
        assert_eq!(
            flags & 0x80,
            0,
            "{name}: unsynchronisation flag set (SPEC: no unsynchronisation)"
        );
        if major != 2 {
            assert_eq!(
                mutagen(f)["id3"]["version"][1],
                major,
                "{name}: mutagen tags.version"
            );
        }
    }
    if orig.len() >= 128 && &orig[orig.len() - 128..orig.len() - 125] == b"TAG" {
        assert_eq!(
            &now[now.len() - 128..],
            &orig[orig.len() - 128..],
            "{name}: ID3v1 tag at the end changed"
        );
    }
    if name.ends_with(".mp3") {
        assert_eq!(
            &now[id3_len(&now).unwrap_or(0)..],
            &orig[id3_len(orig).unwrap_or(0)..],
            "{name}: bytes after the ID3v2 tag changed"
        );
    }
    if name.ends_with(".flac") {
        // metaflac (libFLAC) must parse the metadata and see the canonical comments.
        let out = tool(Command::new("metaflac").arg("--export-tags-to=-").arg(f));
        let tags = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: metaflac failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in [
            "TDM-RESERVATION=1",
            &format!("DATAMINING={DMI}DMI-PROHIBITED-AIMLTRAINING"),
        ] {
            assert_eq!(
                tags.lines().filter(|l| *l == line).count(),
                1,
                "{name}: metaflac sees {tags:?}"
            );
        }
    }
    if name.ends_with(".flac") {
        assert_eq!(
            &now[flac_audio_start(&now)..],
            &orig[flac_audio_start(orig)..],
            "{name}: FLAC frames changed"
        );
        let keep = |b: &[u8]| -> Vec<(u8, Vec<u8>)> {
            flac_blocks(b)
                .into_iter()
                .filter(|(t, _)| *t != 4 && *t != 1)
                .collect()
        };
        assert_eq!(
            keep(&now),
            keep(orig),
            "{name}: a FLAC block other than VORBIS_COMMENT/PADDING changed"
        );
        assert_eq!(
            flac_blocks(&now)[0].0,
            0,
            "{name}: STREAMINFO must stay first"
        );
        if name == "flac-id3prefix.flac" {
            let n = id3_len(orig).unwrap_or(0);
            assert_eq!(&now[..n], &orig[..n], "{name}: the ID3v2 prefix changed");
        }
    }
    if name.ends_with(".ogg") || name.ends_with(".opus") || name.ends_with(".spx") {
        let (p0, p1) = (ogg_pages(orig), ogg_pages(&now));
        assert!(
            p1.iter().all(|&(_, s)| s == 0x4E4F4149),
            "{name}: serial numbers changed: {p1:?}"
        );
        let audio = |p: &[(u64, u32)]| {
            p.iter()
                .map(|x| x.0)
                .filter(|&g| g != 0)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            audio(&p1),
            audio(&p0),
            "{name}: granule positions of the audio pages changed"
        );
    }
    if now.starts_with(b"RIFF") || now.starts_with(b"FORM") {
        assert_eq!(&now[8..12], &orig[8..12], "{name}: form type changed");
        let keep = |b: &[u8]| -> Vec<_> {
            iff_chunks(b)
                .into_iter()
                .filter(|(id, body)| !is_our_chunk(id, body))
                .collect()
        };
        assert_eq!(
            keep(&now),
            keep(orig),
            "{name}: a chunk other than ID3 changed (order or bytes)"
        );
    }
}

/// Where the FLAC frames start: after the ID3 prefix, `fLaC` and every metadata block.
fn flac_audio_start(b: &[u8]) -> usize {
    id3_len(b).unwrap_or(0)
        + 4
        + flac_blocks(b)
            .iter()
            .map(|(_, body)| 4 + body.len())
            .sum::<usize>()
}

macro_rules! samples {
    ($($test:ident => $file:literal,)*) => {
        $( #[test] fn $test() { roundtrip($file); } )*
    };
}

samples! {
    mp3_v23_pad => "mp3-v23-pad.mp3",
    mp3_v24_nopad => "mp3-v24-nopad.mp3",
    mp3_v22 => "mp3-v22.mp3",
    mp3_noid3 => "mp3-noid3.mp3",
    mp3_id3v1_only => "mp3-id3v1-only.mp3",
    wav_id3 => "wav-id3.wav",
    wav_plain => "wav-plain.wav",
    aiff_id3 => "aiff-id3.aiff",
    aiff_plain => "aiff-plain.aiff",
    aifc => "aifc.aifc",
    flac_pad => "flac-pad.flac",
    flac_nopad => "flac-nopad.flac",
    flac_id3prefix => "flac-id3prefix.flac",
    vorbis_ogg => "vorbis.ogg",
    opus => "opus.opus",
    speex => "speex.spx",
    m4a_aac_faststart => "m4a-aac-faststart.m4a",
    m4a_aac_moovend => "m4a-aac-moovend.m4a",
    m4a_alac => "m4a-alac.m4a",
    m4b_book => "m4b-book.m4b",
}

/// The new tag of an untagged MP3 is ID3v2.3 and sits at byte 0, before the audio frames.
#[test]
fn new_mp3_tag_is_v23_at_start() {
    for name in ["mp3-noid3.mp3", "mp3-id3v1-only.mp3"] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        noai(&["tag", f.to_str().unwrap()]).expect(0);
        let b = bytes(&f);
        assert_eq!(
            id3_header(&b).map(|h| h.0),
            Some(3),
            "{name}: new tag must be ID3v2.3 at byte 0"
        );
        assert_eq!(
            mutagen(&f)["id3"]["version"],
            serde_json::json!([2, 3, 0]),
            "{name}: mutagen version"
        );
    }
}
