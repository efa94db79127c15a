//! Independent-reader interoperability matrix (docs/interop.md is generated from this file).
//!
//! 1. Every untagged container sample is tagged with all four fields (`--policy license` with a
//!    policy URL and constraints), then ExifTool, mutagen, ffprobe, kid3-cli, metaflac and
//!    AtomicParsley read it back; each cell must show the exact values, or be a documented limit
//!    of the reader (what it shows instead is asserted), or have no such carrier. The tagged file
//!    must still decode cleanly (ffmpeg; `flac -t` for FLAC).
//! 2. The other direction: reservations written by ExifTool, mutagen (lowercase keys, bare codes)
//!    and kid3-cli are recognised by `noai verify`, and `noai tag` makes them canonical.
//!
//! A missing reader fails the test (scripts/test installs them all); nothing is skipped.
//! Regenerate the document: `NOAI_INTEROP_MD=docs/interop.md cargo test --test it interop::independent_readers`.

use crate::common;
use crate::common::interop_doc;
use crate::common::readers;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use interop_doc::{matrix_md, publish, versions};
use readers::*;

const URL: &str = "https://example.org/tdm.json";
const CONSTRAINTS: &str = "Licensing: rights@example.org";
const AIML: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

#[derive(Clone, Copy, PartialEq)]
enum C {
    Mp3,
    Mp3v22,
    Wav,
    Aiff,
    Flac,
    Ogg,
    Speex,
    Mp4,
}

const SAMPLES: [(&str, C); 19] = [
    ("mp3-v23-pad.mp3", C::Mp3),
    ("mp3-v24-nopad.mp3", C::Mp3),
    ("mp3-v22.mp3", C::Mp3v22),
    ("mp3-noid3.mp3", C::Mp3),
    ("wav-id3.wav", C::Wav),
    ("wav-plain.wav", C::Wav),
    ("aiff-id3.aiff", C::Aiff),
    ("aiff-plain.aiff", C::Aiff),
    ("aifc.aifc", C::Aiff),
    ("flac-pad.flac", C::Flac),
    ("flac-nopad.flac", C::Flac),
    ("flac-id3prefix.flac", C::Flac),
    ("vorbis.ogg", C::Ogg),
    ("opus.opus", C::Ogg),
    ("speex.spx", C::Speex),
    ("m4a-aac-faststart.m4a", C::Mp4),
    ("m4a-aac-moovend.m4a", C::Mp4),
    ("m4a-alac.m4a", C::Mp4),
    ("m4b-book.m4b", C::Mp4),
];

const COLUMNS: [&str; 10] = [
    "ExifTool tags",
    "ExifTool XMP",
    "mutagen tags",
    "mutagen XMP",
    "ffprobe tags",
    "ffprobe XMP",
    "kid3-cli",
    "metaflac",
    "AtomicParsley",
    "decodes",
];

fn tag_all_four(f: &Path) {
    let policy = ["tag", "--policy", "license", "--policy-url", URL];
    noai(&[&policy[..], &["--constraints", CONSTRAINTS, p(f)]].concat()).expect(0);
}

/// Tags a copy of one sample and asks every reader: one cell per column of `COLUMNS`.
fn row(dir: &Path, name: &str, c: C, want: &Want) -> Vec<Cell> {
    let f = copy_sample(dir, name);
    tag_all_four(&f);
    let has_xmp = matches!(c, C::Mp3 | C::Wav | C::Aiff | C::Mp4);
    let unread_xmp = matches!(c, C::Wav | C::Aiff | C::Mp4);

    let j = exiftool(&f);
    let exif_t = if c == C::Speex {
        let file_type = j.get("File:FileType").and_then(|v| v.as_str());
        let only_ogg = file_type == Some("OGG") && !j.keys().any(|k| k.starts_with("Vorbis:"));
        let ev = ensure(only_ogg, || format!("ExifTool shows {j:?}"));
        expect_unsupported(&exif_tags(&j), want, "exiftool-speex", ev)
    } else {
        expect_values(&exif_tags(&j), want, "")
    };
    let exif_x = match c {
        C::Aiff => expect_unsupported(&exif_xmp(&j), want, "exiftool-appl", appl_raw_xmp(&j, want)),
        _ if has_xmp => expect_values(&exif_xmp(&j), want, ""),
        _ => expect_none(&exif_xmp(&j)),
    };

    let mut_t = expect_values(&mutagen_ours(&f), want, "");
    let (packets, mx) = mutagen_xmp(&f);
    let mut_x = match c {
        C::Mp3 if packets != 1 => Cell::Fail(format!("{packets} PRIV:XMP frames, want 1")),
        C::Mp3 => expect_values(&mx, want, "PRIV:XMP"),
        _ if unread_xmp => {
            let ev = ensure(packets == 0, || {
                format!("{packets} PRIV:XMP in the ID3 chunk")
            });
            expect_unsupported(&mx, want, "mutagen-xmp", ev)
        }
        _ => expect_none(&mx),
    };

    let pr = ffprobe(&f);
    let ff_t = if name == "wav-id3.wav" {
        let all: Fields = pr.format.iter().chain(&pr.streams).cloned().collect();
        let warned = pr
            .stderr
            .contains("Discarding ID3 tags because more suitable tags were found");
        let ev = ensure(warned, || format!("no discard warning: {:?}", pr.stderr));
        expect_unsupported(&all, want, "ffprobe-wav-info", ev)
    } else {
        match (judge(&pr.format, want), judge(&pr.streams, want)) {
            (Ok(()), _) => Cell::Shows("format tags".into()),
            (_, Ok(())) => Cell::Shows("stream tags".into()),
            (Err(a), Err(b)) => Cell::Fail(format!("format tags: {a}; stream tags: {b}")),
        }
    };
    let ff_x = match c {
        C::Mp3 => expect_values(&pr.priv_xmp(), want, "id3v2_priv.XMP"),
        _ if unread_xmp => {
            let packets = pr.xmp_packets();
            let ev = ensure(packets.is_empty(), || format!("XMP-like tags {packets:?}"));
            expect_unsupported(&pr.priv_xmp(), want, "ffprobe-xmp", ev)
        }
        _ => expect_none(&pr.priv_xmp()),
    };

    let small_ogg = c == C::Ogg && std::fs::metadata(&f).unwrap().len() <= 4096;
    let kid = match kid3(&f) {
        Some(fields) if small_ogg && judge(&fields, want).is_err() => {
            // The limit is kid3's, not the tag's: it shows no tags of the untouched sample
            // (TITLE, ARTIST) either.
            let orig = copy_as(dir, name, format!("untouched-{name}"));
            let ev = ensure(kid3(&orig).is_some_and(|o| o.is_empty()), || {
                "kid3-cli shows the untouched sample's tags, so the tag broke it".to_string()
            });
            expect_unsupported(&fields, want, "kid3-small-ogg", ev)
        }
        Some(fields) => expect_values(&fields, want, ""),
        None if name.ends_with(".aifc") => {
            let aif = copy_as(dir, name, "aifc-renamed.aif");
            tag_all_four(&aif);
            let ev = kid3(&aif).ok_or("kid3-cli shows nothing for .aif either".to_string());
            let ev = ev.and_then(|fs| judge(&fs, want));
            expect_unsupported(&Fields::new(), want, "kid3-aifc", ev)
        }
        None => Cell::Fail("kid3-cli printed nothing (did not open the file)".into()),
    };
    let mflac = match c {
        C::Flac => expect_values(&metaflac(&f), want, ""),
        _ => Cell::NoCarrier,
    };
    let ap = match c {
        C::Mp4 if !atomicparsley_lists_xmp_uuid(&f) => {
            Cell::Fail("-T lists no XMP uuid box".into())
        }
        C::Mp4 => expect_values(&atomicparsley(&f), want, "+ XMP uuid box listed by -T"),
        _ => Cell::NoCarrier,
    };
    let dec = decodes_cleanly(&f, c == C::Flac);
    vec![
        exif_t, exif_x, mut_t, mut_x, ff_t, ff_x, kid, mflac, ap, dec,
    ]
}

#[test]
fn matrix_of_independent_readers() {
    versions();
    let want = want("license", Some(URL), Some(CONSTRAINTS));
    let dir = tempdir();
    let next = AtomicUsize::new(0);
    let rows: Mutex<BTreeMap<usize, Vec<Cell>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(name, c)) = SAMPLES.get(i) else {
                        break;
                    };
                    let sub = dir.path().join(name.replace('.', "_"));
                    std::fs::create_dir(&sub).unwrap();
                    let r = row(&sub, name, c, &want);
                    rows.lock().unwrap().insert(i, r);
                }
            });
        }
    });
    let rows = rows.into_inner().unwrap();
    let rows: Vec<(&str, Vec<Cell>)> = rows.into_iter().map(|(i, r)| (SAMPLES[i].0, r)).collect();
    let fails: Vec<String> = rows
        .iter()
        .flat_map(|(name, cells)| {
            COLUMNS
                .iter()
                .zip(cells)
                .filter_map(move |(col, cell)| match cell {
                    Cell::Fail(e) => Some(format!("{name} × {col}: {e}")),
                    _ => None,
                })
        })
        .collect();
    publish(1, "matrix", matrix_md(&rows, &COLUMNS, URL, CONSTRAINTS));
    assert!(
        fails.is_empty(),
        "reader cells that FAIL:\n{}",
        fails.join("\n")
    );
}

/// `noai verify F --format json`: (exit code, the file's entry).
fn verify(f: &Path) -> (i32, serde_json::Value) {
    let r = noai(&["verify", p(f), "--format", "json"]);
    let doc = r.json();
    (
        r.code,
        file_entry(&doc, f.file_name().unwrap().to_str().unwrap()).clone(),
    )
}

fn assert_verified(f: &Path, policy: &str) -> serde_json::Value {
    let (code, e) = verify(f);
    assert!(
        code == 0 && e["status"] == "tagged",
        "{}: want tagged, got exit {code}: {e:#}",
        f.display()
    );
    assert_eq!(e["effective_policy"], policy, "{e:#}");
    e
}

#[test]
fn exiftool_written_xmp_is_recognised() {
    versions();
    let dir = tempdir();
    let f = copy_sample(dir.path(), "m4a-aac-faststart.m4a");
    let (out, how) = exiftool_writes_datamining(&f);
    assert!(
        out.status.success(),
        "ExifTool cannot write M4A XMP: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = assert_verified(&f, "no-ai-training");
    assert!(
        notes(&e).contains("incomplete"),
        "a lone DATAMINING should be noted as incomplete: {e:#}"
    );
    let show = noai(&["show", p(&f), "--format", "json"]).expect(0).json();
    let kinds = show["files"][0]["carriers"].to_string();
    assert!(
        kinds.contains("\"type\":\"xmp\"") && kinds.contains("uuid"),
        "show lists no XMP carrier: {kinds}"
    );
    noai(&["tag", p(&f)]).expect(0);
    let e2 = assert_verified(&f, "no-ai-training");
    let j = exiftool(&f);
    let x = exif_xmp(&j);
    assert!(
        judge(&x, &want("no-ai-training", None, None)).is_ok(),
        "after tag, ExifTool reads XMP {x:?}"
    );
    let toolkit = tool_ok(
        Command::new("exiftool")
            .args(["-s3", "-XMP-x:XMPToolkit"])
            .arg(&f),
    );
    assert!(
        toolkit.contains("Image::ExifTool"),
        "ExifTool's own XMP property was lost: {toolkit:?}"
    );
    publish(
        2,
        "a-exiftool-m4a",
        format!(
            "| ExifTool | `m4a-aac-faststart.m4a` | {how}, into the MP4 `uuid` XMP box | tagged `no-ai-training`; notes: {} | completes the set: ExifTool then reads DataMining + `tdm:reservation=1` from the merged packet (its `XMPToolkit` kept); verify notes: {} |\n",
            notes(&e),
            if notes(&e2).is_empty() {
                "none".into()
            } else {
                notes(&e2)
            }
        ),
    );

    for name in ["mp3-v23-pad.mp3", "wav-plain.wav", "aiff-plain.aiff"] {
        let f = copy_sample(dir.path(), name);
        let before = bytes(&f);
        let (out, _) = exiftool_writes_datamining(&f);
        let err = String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', " ");
        let cell = if out.status.success() {
            format!(
                "{} | tagged `{}`",
                "wrote XMP",
                assert_verified(&f, "no-ai-training")["effective_policy"]
            )
        } else {
            assert_eq!(bytes(&f), before, "ExifTool refused but changed {name}");
            assert!(
                err.contains("not yet supported") || err.contains("Can't currently write"),
                "{name}: {err}"
            );
            format!(
                "refuses to write this container: `{}` (file unchanged) | —",
                err.replace(&*f.to_string_lossy(), "F")
            )
        };
        publish(
            2,
            &format!("b-exiftool-{name}"),
            format!("| ExifTool | `{name}` | {cell} | — |\n"),
        );
    }
}

#[test]
fn mutagen_lowercase_keys_are_recognised_then_canonicalised() {
    versions();
    let dir = tempdir();
    let canonical = want("no-ai-training", None, None);
    for (name, kind) in [
        ("mp3-v23-pad.mp3", "mp3"),
        ("flac-pad.flac", "flac"),
        ("opus.opus", "opus"),
        ("m4a-aac-faststart.m4a", "mp4"),
    ] {
        let f = copy_sample(dir.path(), name);
        mutagen_write(
            &f,
            kind,
            &[
                "tdm-reservation=1",
                "datamining=DMI-PROHIBITED-AIMLTRAINING",
            ],
        );
        let raw = mutagen_ours(&f);
        assert!(
            raw.iter()
                .all(|(k, _)| k.chars().all(|c| !c.is_ascii_uppercase())),
            "{name}: mutagen did not keep the lowercase keys: {raw:?}"
        );
        let e = assert_verified(&f, "no-ai-training");
        let n = notes(&e);
        assert!(
            n.contains("not written as") && n.contains("bare code"),
            "{name}: want non-canonical notes, got {n}"
        );
        noai(&["tag", p(&f)]).expect(0);
        let after = mutagen_ours(&f);
        assert_eq!(
            after.len(),
            2,
            "{name}: want exactly one field per key, mutagen reads {after:?}"
        );
        assert!(
            after.iter().all(|(k, _)| KEYS.contains(&k.as_str())),
            "{name}: keys not UPPERCASE: {after:?}"
        );
        judge(&after, &canonical).unwrap_or_else(|e| panic!("{name} after tag: {e}"));
        assert!(
            notes(&assert_verified(&f, "no-ai-training")).is_empty(),
            "{name}: still non-canonical"
        );
        publish(
            2,
            &format!("c-mutagen-{name}"),
            format!(
                "| mutagen | `{name}` | lowercase `tdm-reservation=1`, `datamining=DMI-PROHIBITED-AIMLTRAINING` ({}) | tagged `no-ai-training`; notes: {n} | canonical: mutagen reads exactly `TDM-RESERVATION=1`, `DATAMINING={AIML}` |\n",
                match kind {
                    "mp3" => "TXXX",
                    "mp4" => "freeform `----:com.apple.iTunes:…`",
                    _ => "Vorbis comment",
                }
            ),
        );
    }
}

#[test]
fn kid3_written_reservation_is_recognised() {
    versions();
    let dir = tempdir();
    for name in ["mp3-v23-pad.mp3", "flac-pad.flac", "m4a-aac-faststart.m4a"] {
        let f = copy_sample(dir.path(), name);
        let set = format!("set DATAMINING {AIML}");
        tool_ok(
            Command::new("kid3-cli")
                .args(["-c", "set TDM-RESERVATION 1", "-c", &set])
                .arg(&f),
        );
        let e = assert_verified(&f, "no-ai-training");
        let written = mutagen_ours(&f);
        judge(&written, &want("no-ai-training", None, None))
            .unwrap_or_else(|e| panic!("kid3 wrote {written:?}: {e}"));
        let n = notes(&e);
        publish(
            2,
            &format!("d-kid3-{name}"),
            format!(
                "| kid3-cli | `{name}` | `set TDM-RESERVATION 1`, `set DATAMINING {AIML}` (mutagen reads {}) | tagged `no-ai-training`{} | — |\n",
                written
                    .iter()
                    .map(|(k, v)| format!("`{k}={v}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if n.is_empty() {
                    String::new()
                } else {
                    format!("; notes: {n}")
                }
            ),
        );
    }
}
