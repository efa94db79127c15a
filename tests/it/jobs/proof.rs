//! The independent proof on every write (src/write/proof.rs): a planned write that would change
//! any item other than ours is refused, the file stays byte-identical and the error names the
//! item; a file whose tags lofty cannot read is refused; and the normal tags of every sample
//! container still pass. The damage is injected with the debug-only `NOAI_TEST_CORRUPT` hook,
//! which alters the planned bytes after planning and before the proof.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

/// Every sample noai can tag (the broken and non-audio ones are left out).
const TAGGABLE: &[&str] = &[
    "aifc.aifc",
    "aiff-id3.aiff",
    "aiff-plain.aiff",
    "conflict-allow-vs-prohibited.flac",
    "flac-id3prefix.flac",
    "flac-nopad.flac",
    "flac-pad.flac",
    "invalid-value.mp3",
    "m4a-aac-faststart.m4a",
    "m4a-aac-moovend.m4a",
    "m4a-alac.m4a",
    "m4b-book.m4b",
    "mp3-id3v1-only.mp3",
    "mp3-noid3.mp3",
    "mp3-v22.mp3",
    "mp3-v23-pad.mp3",
    "mp3-v24-nopad.mp3",
    "noncanonical-lowercase.flac",
    "ogg-flac.oga",
    "opus.opus",
    "speex.spx",
    "tagged-allow.mp3",
    "tagged-license.ogg",
    "tagged-no-ai-training.mp3",
    "tagged-no-genai-training.flac",
    "tagged-no-tdm-except-search.m4a",
    "tagged-no-tdm.opus",
    "vorbis.ogg",
    "wav-id3.wav",
    "wav-plain.wav",
];

/// `noai tag <file>` with the fault hook set to `needle`.
fn tag_corrupted(file: &Path, needle: &str) -> (i32, serde_json::Value) {
    tag_corrupted_with(file, needle, &[])
}

/// `tag_corrupted`, with more environment for the hook.
fn tag_corrupted_with(file: &Path, needle: &str, env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
    cmd.args(["tag", "--force", "--format", "json"])
        .arg(file)
        .env("NO_COLOR", "1")
        .env("NOAI_TEST_CORRUPT", needle)
        .envs(env.iter().copied());
    let out = output_within(&mut cmd, Duration::from_secs(60));
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// `tag_corrupted_with` on `f`, which must be refused (exit 2) and left as it was, with nothing
/// beside it; the error it gives.
fn refused_unchanged(f: &Path, needle: &str, env: &[(&str, &str)]) -> String {
    let name = f.file_name().unwrap().to_str().unwrap();
    let before = bytes(f);
    let (code, doc) = tag_corrupted_with(f, needle, env);
    assert_eq!(code, 2, "{name} / {needle}: {doc:#}");
    assert!(bytes(f) == before, "{name} / {needle}: the file changed");
    assert_eq!(
        others_beside(f.parent().unwrap(), name),
        Vec::<String>::new(),
        "{name} / {needle}"
    );
    file_entry(&doc, name)["error"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn normal_tags_of_every_sample_container_pass_the_proof() {
    let dir = tempdir();
    for name in TAGGABLE {
        copy_sample(dir.path(), name);
    }
    let d = dir.path().to_str().unwrap();
    // First write (in place and rewrites), a change of policy (in place over our own fields),
    // the XMP-less variant, and a strip: every one goes through the proof.
    for args in [
        vec!["tag", "--force", d],
        vec!["tag", "--force", "--policy", "no-tdm", d],
        vec!["strip", d],
        vec!["tag", "--no-xmp", d],
    ] {
        let mut a = args.clone();
        a.extend(["--format", "json"]);
        let doc = noai(&a).expect(0).json();
        for f in doc["files"].as_array().unwrap() {
            assert!(
                f["error"].is_null(),
                "noai {args:?}: {} failed the proof: {}",
                f["path"],
                f["error"]
            );
        }
        assert_eq!(doc["summary"]["errors"], 0, "{args:?}: {doc:#}");
    }
}

#[test]
fn an_ogg_page_with_a_wrong_checksum_is_refused_before_anything_is_written() {
    // The damaged page keeps its old checksum: lofty would not notice, the page check must.
    // (In Ogg FLAC our own page reader, which reads the new header pages first, trips too.)
    let cases = [
        ("vorbis.ogg", "Sample Tone"),
        ("opus.opus", "Noai Test"),
        ("speex.spx", "Noai Test"),
    ];
    for (sample, needle) in cases {
        let dir = tempdir();
        let f = copy_sample(dir.path(), sample);
        let keep = [("NOAI_TEST_CORRUPT_KEEP_CRC", "1")];
        let err = refused_unchanged(&f, needle, &keep);
        assert!(
            err.starts_with("internal check: the Ogg page at byte")
                && err.contains("wrong checksum")
                && err.ends_with("not written"),
            "{sample}: {err:?}"
        );
    }
}

#[test]
fn a_write_that_would_damage_another_item_is_refused_and_names_it() {
    // (sample, text to alter in the planned bytes, the item the error must name)
    let cases = [
        ("flac-pad.flac", "Fixtures", "Vorbis comment ALBUM"),
        ("flac-pad.flac", "IHDR", "FLAC PICTURE block 1"),
        ("flac-nopad.flac", "Noai Test", "Vorbis comment ARTIST"),
        ("flac-id3prefix.flac", "Sample Tone", "Vorbis comment TITLE"),
        ("vorbis.ogg", "Sample Tone", "Vorbis comment TITLE"),
        ("vorbis.ogg", "ffmpeg", "Vorbis comment vendor string"),
        ("opus.opus", "Noai Test", "Vorbis comment ARTIST"),
        ("speex.spx", "Noai Test", "Vorbis comment ARTIST"),
        ("ogg-flac.oga", "ffmpeg", "Vorbis comment vendor string"),
        // The identification page is written again (its header count grows with the new
        // PADDING block): damage there (STREAMINFO's block sizes) must be caught too.
        ("ogg-flac.oga", "\u{2}@\u{2}@", "FLAC STREAMINFO block"),
        ("m4a-aac-faststart.m4a", "IHDR", "MP4 atom covr"),
        (
            "m4a-aac-moovend.m4a",
            "iTunNORM",
            "com.apple.iTunes:iTunNORM",
        ),
        ("m4b-book.m4b", "Sample Book", "MP4 atom ©alb"),
        // ID3v2 goes to the id3 crate's cross-check (its wording is owned by src/formats/id3v2).
        ("mp3-v23-pad.mp3", "IHDR", "ID3v2"),
        ("mp3-v24-nopad.mp3", "Sample Tone", "ID3v2"),
        ("mp3-v22.mp3", "Sample Tone", "ID3v2"),
        ("wav-id3.wav", "IHDR", "ID3v2"),
        ("aiff-id3.aiff", "Sample Tone", "ID3v2"),
    ];
    for (sample, needle, item) in cases {
        let dir = tempdir();
        let f = copy_sample(dir.path(), sample);
        let err = refused_unchanged(&f, needle, &[]);
        assert!(
            err.starts_with("internal check:")
                && err.contains(item)
                && err.ends_with("not written"),
            "{sample} / {needle}: the error should name {item:?}: {err:?}"
        );
    }
}

#[test]
fn the_fault_hook_cannot_pass_by_corrupting_nothing() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-pad.flac");
    let (code, doc) = tag_corrupted(&f, "text that is nowhere in the plan");
    assert_eq!(code, 2);
    let err = file_entry(&doc, "flac-pad.flac")["error"]
        .as_str()
        .unwrap_or("");
    assert!(err.contains("test hook"), "{err}");
}

#[test]
fn a_file_whose_tags_lofty_cannot_read_is_refused() {
    // Invalid UTF-8 in a Vorbis comment and in an MP4 text atom: our planners would copy the
    // bytes through, but nothing independent can vouch for them, so the file is not written.
    let dir = tempdir();
    for (sample, text) in [
        ("flac-pad.flac", "Fixtures"),
        ("m4a-alac.m4a", "Sample Tone"),
    ] {
        let f = copy_sample(dir.path(), sample);
        let mut b = bytes(&f);
        let at = b
            .windows(text.len())
            .position(|w| w == text.as_bytes())
            .unwrap_or_else(|| panic!("{text} not in {sample}"));
        b[at] = 0xff;
        std::fs::write(&f, &b).unwrap();
        let doc = noai_json(&["tag", f.to_str().unwrap()], 2);
        let err = file_entry(&doc, sample)["error"].as_str().unwrap_or("");
        assert!(
            err.contains("independent check (lofty) cannot read") && err.ends_with("not written"),
            "{sample}: {err}"
        );
        assert!(bytes(&f) == b, "{sample}: the file changed");
    }
}

/// An XMP packet from another tool: a title and a rating next to an old PLUS reservation.
const FOREIGN_XMP: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" xmp:Rating="3" plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Quiet Song</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"#;

/// `sample` with `FOREIGN_XMP` added where its container keeps XMP: an ID3v2.3 `PRIV` frame
/// (MP3), a `_PMX` chunk (WAV), an `APPL` chunk with signature `XMP ` (AIFF), a `uuid` box (MP4).
fn with_foreign_xmp(dir: &Path, sample: &str) -> std::path::PathBuf {
    let f = copy_sample(dir, sample);
    let mut b = bytes(&f);
    let packet = FOREIGN_XMP.as_bytes();
    if sample.ends_with(".mp3") {
        let mut frame = b"PRIV".to_vec();
        frame.extend_from_slice(&(packet.len() as u32 + 4).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(b"XMP\0");
        frame.extend_from_slice(packet);
        frame.resize(frame.len() + 2048, 0);
        let mut tag = b"ID3\x03\x00\x00".to_vec();
        tag.extend_from_slice(&syncsafe(frame.len() as u32));
        tag.extend_from_slice(&frame);
        tag.extend_from_slice(&b);
        b = tag;
    } else if sample.ends_with(".m4a") {
        // A top-level XMP `uuid` box at the end: no sample offset moves.
        b.extend_from_slice(&(8 + 16 + packet.len() as u32).to_be_bytes());
        b.extend_from_slice(b"uuid");
        b.extend_from_slice(&[
            0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3,
            0xAF, 0xAC,
        ]);
        b.extend_from_slice(packet);
    } else {
        let big = sample.ends_with(".aiff");
        let (id, body) = if big {
            (b"APPL", [b"XMP ".as_slice(), packet].concat())
        } else {
            (b"_PMX", packet.to_vec())
        };
        let len = body.len() as u32;
        b.extend_from_slice(id);
        b.extend_from_slice(&if big {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        });
        b.extend_from_slice(&body);
        if len % 2 == 1 {
            b.push(0);
        }
        let root = b.len() as u32 - 8;
        b[4..8].copy_from_slice(&if big {
            root.to_be_bytes()
        } else {
            root.to_le_bytes()
        });
    }
    std::fs::write(&f, &b).unwrap();
    f
}

#[test]
fn the_xmp_packet_keeps_every_property_but_ours() {
    for sample in [
        "mp3-noid3.mp3",
        "wav-plain.wav",
        "aiff-plain.aiff",
        "m4a-aac-faststart.m4a",
    ] {
        // Our merge keeps the title and the rating: the proof lets it through.
        let dir = tempdir();
        let f = with_foreign_xmp(dir.path(), sample);
        let doc = noai_json(&["tag", "--force", f.to_str().unwrap()], 0);
        assert!(file_entry(&doc, sample)["error"].is_null(), "{doc:#}");
        let after = String::from_utf8_lossy(&bytes(&f)).into_owned();
        assert!(
            after.contains("Quiet Song") && after.contains("xmp:Rating=\"3\""),
            "{sample}"
        );

        // A merge that damaged the title would be refused, naming the property.
        let dir = tempdir();
        let f = with_foreign_xmp(dir.path(), sample);
        let err = refused_unchanged(&f, "Quiet", &[]);
        assert_eq!(
            err,
            "internal check: the write would drop or change the XMP value of http://purl.org/dc/elements/1.1/title; not written",
            "{sample}"
        );
    }
}
