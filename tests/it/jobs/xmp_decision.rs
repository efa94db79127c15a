//! Whether an edit covers the XMP packet is decided once per file (`engine/decide.rs`), and the
//! check before a write follows the same decision as the planner. The case that used to split
//! them: a WAV whose ID3 chunk is ID3v2.2 (which only rules out XMP inside an MP3's tag) and whose
//! `_PMX` chunk says "allowed". `tag --force` planned to update that chunk, but the check before
//! the write thought it would stay and refused, telling to run without `--no-xmp`. ExifTool and
//! mutagen read the result.

use std::path::Path;
use std::process::Command;

const XMP_ALLOWED: &str = concat!(
    r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF "#,
    r#"xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" "#,
    r#"xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" xmlns:tdm="http://www.w3.org/ns/tdmrep/">"#,
    r#"<tdm:reservation>0</tdm:reservation><plus:DataMining>"#,
    r#"http://ns.useplus.org/ldf/vocab/DMI-ALLOWED</plus:DataMining></rdf:Description>"#,
    r#"</rdf:RDF></x:xmpmeta>"#
);

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An ID3v2.2 tag holding a title (`TT2`) and some padding.
fn id3v22() -> Vec<u8> {
    let mut body = b"TT2\x00\x00\x02\x00x".to_vec();
    body.extend([0u8; 10]);
    let n = body.len() as u32;
    let size = [
        (n >> 21) & 0x7f,
        (n >> 14) & 0x7f,
        (n >> 7) & 0x7f,
        n & 0x7f,
    ]
    .map(|b| b as u8);
    [&b"ID3\x02\x00\x00"[..], &size, &body].concat()
}

/// sample-audio/wav-plain.wav with an `id3 ` chunk (ID3v2.2) and a `_PMX` chunk appended.
fn wav_v22_with_xmp(dir: &Path) -> std::path::PathBuf {
    let mut b = std::fs::read(Path::new(crate::common::SAMPLES).join("wav-plain.wav")).unwrap();
    assert_eq!(b.len() % 2, 0, "the sample's last chunk is padded");
    b.extend(chunk(b"id3 ", &id3v22()));
    b.extend(chunk(b"_PMX", XMP_ALLOWED.as_bytes()));
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    let path = dir.join("v22.wav");
    std::fs::write(&path, b).unwrap();
    path
}

fn exiftool_xmp(path: &Path) -> String {
    let out = Command::new("exiftool")
        .args(["-s", "-XMP-plus:DataMining", "-XMP-tdm:Reservation"])
        .arg(path)
        .output()
        .expect("exiftool is not installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "exiftool failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_wav_with_an_id3v22_chunk_gets_its_xmp_chunk_updated() {
    let dir = crate::common::tempdir();
    let path = wav_v22_with_xmp(dir.path());
    assert!(exiftool_xmp(&path).contains("DMI-ALLOWED"), "fixture");
    let audio = crate::common::audio_md5(&path);

    let tag = ["tag", "--policy", "no-ai-training", "--force"];
    let run =
        crate::common::noai(&[&tag[..], &[path.as_os_str().to_str().unwrap()]].concat()).expect(0);
    assert!(!run.stdout.contains("--no-xmp"), "{}", run.stdout);

    let xmp = exiftool_xmp(&path);
    assert!(xmp.contains("DMI-PROHIBITED-AIMLTRAINING"), "{xmp}");
    assert!(!xmp.contains("DMI-ALLOWED"), "{xmp}");
    let ours = crate::common::mutagen(&path)["ours"].clone();
    assert!(
        ours.as_array()
            .unwrap()
            .iter()
            .any(|f| f[0] == "TDM-RESERVATION" && f[1] == "1"),
        "mutagen: {ours}"
    );
    assert_eq!(crate::common::audio_md5(&path), audio, "audio changed");
}
