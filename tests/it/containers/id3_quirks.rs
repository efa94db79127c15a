//! The generated ID3v2 suite: tags built byte by byte the way real taggers wrote them
//! (tests/common/id3_quirks.py) in front of a real MP3, each run through `noai tag`. A case is
//! either tagged, and then `noai verify` passes, mutagen sees every other frame unchanged
//! (pictures included, by hash) and ffmpeg's audio MD5 is unchanged; or refused with the
//! expected message and the file byte-identical. The iTunes recipe is also read back with TagLib
//! (kid3-cli). The table of cases and outcomes is printed
//! (`cargo test --test it containers::id3_quirks -- --nocapture`).

use crate::common;
use crate::common::readers;

use std::path::Path;
use std::process::Command;

use sha2::Digest;

use common::{audio_md5, bytes, iff_chunks, mutagen, noai, others, ours, p, tempdir, tool};

const GENERATOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/id3_quirks.py");
const AUDIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio/mp3-noid3.mp3");
const WAV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio/wav-plain.wav");

/// How a case must end: tagged, or refused with a message containing the text.
enum Want {
    Tagged,
    Refused(&'static str),
}

const CASES: [(&str, Want); 17] = [
    ("itunes-plain-sizes", Want::Tagged),
    ("v24-footer", Want::Tagged),
    ("appended-tag", Want::Tagged),
    ("v23-unsync", Want::Tagged),
    ("v24-frame-unsync-dli", Want::Tagged),
    ("v24-dli", Want::Tagged),
    ("v24-compressed", Want::Tagged),
    ("v23-compressed", Want::Tagged),
    ("v24-grouped-frame", Want::Tagged),
    ("v23-ext-header-crc", Want::Tagged),
    ("v24-ext-header", Want::Tagged),
    ("stacked", Want::Tagged),
    ("id3v2-ape-id3v1", Want::Tagged),
    ("wav-id3-chunk-itunes", Want::Tagged),
    (
        "junk-padding",
        Want::Refused("non-zero bytes in the ID3v2 padding at byte"),
    ),
    ("tag-only", Want::Refused("only an ID3v2 tag")),
    (
        "wav-id3-chunk-trailing-junk",
        Want::Refused("unexplained bytes after the ID3v2 tag in its chunk"),
    ),
];

/// The file a case is built in: a WAV for the RIFF case, an MP3 otherwise.
fn file_name(case: &str) -> String {
    let ext = if case.starts_with("wav-") {
        "wav"
    } else {
        "mp3"
    };
    format!("{case}.{ext}")
}

fn generate(case: &str, out: &Path) {
    let audio = if case.starts_with("wav-") { WAV } else { AUDIO };
    let o = tool(
        Command::new("python3")
            .arg(GENERATOR)
            .arg(case)
            .arg(audio)
            .arg(out),
    );
    assert!(
        o.status.success(),
        "generator failed for {case}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// What a tag run must leave alone: an MP3 after its leading ID3v2 tag (header, body, v2.4
/// footer), or every chunk of a WAV but the `id3 ` one and our XMP (`_PMX`) one.
fn untouched(b: &[u8]) -> Vec<u8> {
    if b.starts_with(b"RIFF") {
        return iff_chunks(b)
            .into_iter()
            .filter(|(id, _)| id != b"id3 " && id != b"_PMX")
            .flat_map(|(id, body)| [id.to_vec(), body].concat())
            .collect();
    }
    if !b.starts_with(b"ID3") {
        return b.to_vec();
    }
    let size = b[6..10]
        .iter()
        .fold(0usize, |a, &x| (a << 7) | usize::from(x));
    let footer = if b[3] == 4 && b[5] & 0x10 != 0 { 10 } else { 0 };
    b[10 + size + footer..].to_vec()
}

/// Runs one case; the outcome for the table, or what went wrong.
fn run_case(case: &str, want: &Want) -> Result<String, String> {
    let dir = tempdir();
    let f = dir.path().join(file_name(case));
    generate(case, &f);
    let orig = bytes(&f);
    let before = matches!(want, Want::Tagged).then(|| (mutagen(&f), audio_md5(&f)));
    let tag = noai(&["tag", p(&f)]);
    let said = format!("{}{}", tag.stdout, tag.stderr);
    match (want, before) {
        (Want::Refused(text), _) => {
            if tag.code == 0 {
                return Err(format!("tagged, want refused ({text})\n{said}"));
            }
            if !said.contains(text) {
                return Err(format!("refused without {text:?}:\n{said}"));
            }
            if bytes(&f) != orig {
                return Err("refused but the file changed".into());
            }
            let line = said.lines().find(|l| l.contains(text)).unwrap_or(text);
            Ok(format!(
                "refused, unchanged: {}",
                line.split_whitespace()
                    .skip(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        }
        (Want::Tagged, Some((dump, md5))) => {
            if tag.code != 0 {
                return Err(format!("not tagged (exit {}):\n{said}", tag.code));
            }
            let verify = noai(&["verify", p(&f), "--policy", "no-ai-training"]);
            if verify.code != 0 {
                return Err(format!("verify exit {}:\n{}", verify.code, verify.stdout));
            }
            let after = mutagen(&f);
            if others(&after) != others(&dump) {
                return Err(format!(
                    "mutagen sees other frames change:\nbefore {}\nafter  {}",
                    others(&dump),
                    others(&after)
                ));
            }
            if ours(&after).get("TDM-RESERVATION").map(String::as_str) != Some("1") {
                return Err(format!(
                    "mutagen does not see our field: {:?}",
                    ours(&after)
                ));
            }
            if audio_md5(&f) != md5 {
                return Err("the audio MD5 changed".into());
            }
            // Everything after the first tag (a stacked or appended tag, APE, ID3v1) is payload.
            if untouched(&bytes(&f)) != untouched(&orig) {
                return Err("bytes outside the ID3v2 tag changed".into());
            }
            let frames = dump["id3"]["frames"].as_object().map_or(0, |m| m.len());
            Ok(format!(
                "tagged, verify ok, {frames} other frame(s) equal in mutagen, audio MD5 and \
                 bytes outside the tag equal"
            ))
        }
        (Want::Tagged, None) => unreachable!(),
    }
}

#[test]
fn every_quirky_id3v2_tag_is_tagged_losslessly_or_refused_untouched() {
    let mut table = String::from("| case | outcome |\n|---|---|\n");
    let mut failures = Vec::new();
    for (case, want) in &CASES {
        let outcome = run_case(case, want).unwrap_or_else(|e| {
            failures.push(format!("{case}: {e}"));
            "FAILED".into()
        });
        table += &format!("| {case} | {outcome} |\n");
    }
    println!("{table}");
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n\n"));
}

/// The issue 9 recipe directly: mutagen lists the same APIC (by hash) and the whole COMM after
/// `noai tag`, and the tag kept its plain sizes for every frame.
#[test]
fn itunes_cover_art_survives() {
    let dir = tempdir();
    let f = dir.path().join("itunes.mp3");
    generate("itunes-plain-sizes", &f);
    let before = mutagen(&f);
    let apic = before["id3"]["frames"]["APIC:Cover"]["data"].clone();
    assert!(apic.is_string(), "mutagen reads the APIC before: {before}");
    noai(&["tag", p(&f)]).expect(0);
    let after = mutagen(&f);
    assert_eq!(after["id3"]["frames"]["APIC:Cover"]["data"], apic);
    assert_eq!(
        after["id3"]["frames"]["COMM::eng"],
        before["id3"]["frames"]["COMM::eng"]
    );
    // TagLib (kid3-cli) guesses v2.4 sizes frame by frame; on the original it cuts the APIC
    // short (the padding follows it). After the run it must read the very picture mutagen reads,
    // and our fields.
    let pic = dir.path().join("cover.bin");
    let get = format!("get picture:{}", pic.display());
    let o = tool(Command::new("kid3-cli").args(["-c", &get]).arg(&f));
    assert!(o.status.success(), "kid3-cli failed: {o:?}");
    let data = std::fs::read(&pic).expect("kid3-cli exported no picture");
    let hex: String = sha2::Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(apic, format!("sha256:{hex}:{}", data.len()).as_str());
    let fields = readers::kid3(&f).expect("kid3-cli read nothing");
    assert!(
        fields.contains(&("TDM-RESERVATION".into(), "1".into())),
        "{fields:?}"
    );
}

/// mutagen drops a grouped frame and the id3 crate refuses it, so for this case the proof is
/// the bytes: the grouped APIC frame is in the tagged file verbatim.
#[test]
fn grouped_frame_is_kept_verbatim() {
    let dir = tempdir();
    let f = dir.path().join("grouped.mp3");
    generate("v24-grouped-frame", &f);
    let orig = bytes(&f);
    let at = orig.windows(4).position(|w| w == b"APIC").unwrap();
    let size = orig[at + 4..at + 8]
        .iter()
        .fold(0usize, |a, &x| (a << 7) | usize::from(x));
    let apic = &orig[at..at + 10 + size];
    assert_eq!(apic[9], 0x40, "the generator set the grouping flag");
    noai(&["tag", p(&f)]).expect(0);
    let new = bytes(&f);
    assert!(
        new.windows(apic.len()).any(|w| w == apic),
        "grouped APIC lost"
    );
}
