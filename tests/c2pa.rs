//! C2PA manifests (issue 17, items 1 and 2), judged against the reference SDK's Python package:
//! files signed by c2pa-python are read by `verify` (entries, state, signer; `trusted` only with
//! the trust anchor); `tag` and `strip` refuse to break a manifest that verifies (bytes
//! unchanged) unless told `--c2pa=invalidate`; a tag edit after signing (by noai or mutagen) and
//! a corrupt store read as `signature-broken`, exit 1, and the reference reader agrees.

mod common;

use std::path::{Path, PathBuf};

use common::c2pa_read::{Certs, certs, mutagen_set_title, reference, sign};
use common::*;
use serde_json::Value;

/// MP3 (ID3v2.3), FLAC, WAV and M4A: the four containers the SDK signs.
const SAMPLES4: [&str; 4] = [
    "mp3-v23-pad.mp3",
    "flac-pad.flac",
    "wav-plain.wav",
    "m4a-aac-faststart.m4a",
];

/// `sample` signed by the reference SDK into `dir`, as `signed-<sample>`.
fn signed(
    dir: &Path,
    c: &Certs,
    sample: &str,
    entries: Option<&str>,
    label: Option<&str>,
) -> PathBuf {
    let dst = dir.join(format!("signed-{sample}"));
    sign(&Path::new(SAMPLES).join(sample), &dst, c, entries, label);
    dst
}

/// `noai verify --format json FILE [extra]`: the one file's entry, after asserting the exit code.
fn verify(f: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["verify", "--format", "json", p(f)];
    args.extend(extra);
    let doc = noai(&args).expect(code).json();
    doc["files"][0].clone()
}

fn state(v: &Value) -> &str {
    v["c2pa"]["state"].as_str().unwrap_or("none")
}

#[test]
fn signed_files_verify_with_their_entries_valid_and_trusted_with_the_anchor() {
    let dir = tempdir();
    let c = certs(dir.path());
    for s in SAMPLES4 {
        let f = signed(dir.path(), &c, s, None, None);
        assert_eq!(
            reference(&f, None)["state"],
            "Valid",
            "{s}: reference reader"
        );
        let v = verify(&f, &[], 0);
        assert_eq!(v["status"], "tagged", "{s}: {v:#}");
        assert_eq!(v["effective_policy"], "no-tdm", "{s}");
        assert_eq!(state(&v), "valid", "{s}");
        assert_eq!(v["c2pa"]["assertion"], "cawg.training-mining");
        assert_eq!(v["c2pa"]["common_name"], "noai signer", "{s}");
        assert_eq!(v["c2pa"]["issuer"], "noai tests", "{s}");
        let entries = v["c2pa"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 4, "{s}");
        assert!(entries.iter().all(|e| e["use"] == "notAllowed"), "{s}");
        let anchors = ["--trust-anchors", p(&c.root)];
        let t = verify(&f, &anchors, 0);
        assert_eq!(state(&t), "trusted", "{s}: {t:#}");
        assert_eq!(reference(&f, Some(&c.root))["state"], "Trusted", "{s}");
    }
}

#[test]
fn tag_and_strip_refuse_a_signed_file_and_leave_its_bytes() {
    let dir = tempdir();
    let c = certs(dir.path());
    for s in SAMPLES4 {
        // `tag` on a signed file without our tags; `strip` on one tagged by noai, then signed.
        let f = signed(dir.path(), &c, s, None, None);
        let tagged = copy_sample(dir.path(), s);
        noai(&["tag", "-q", p(&tagged)]).expect(0);
        let g = dir.path().join(format!("tagged-signed-{s}"));
        sign(&tagged, &g, &c, None, None);
        for (f, args) in [
            (&f, vec!["tag", "--format", "json", p(&f)]),
            (&f, vec!["tag", "--dry-run", "--format", "json", p(&f)]),
            (&g, vec!["strip", "--format", "json", p(&g)]),
            (&g, vec!["strip", "--dry-run", "--format", "json", p(&g)]),
        ] {
            let before = bytes(f);
            let e = noai(&args).expect(2).json()["files"][0].clone();
            assert_eq!(e["error_code"], "refused", "{s} {args:?}: {e:#}");
            let msg = e["error"].as_str().unwrap();
            assert!(
                msg.contains("--sign") && msg.contains("--c2pa=invalidate"),
                "{msg}"
            );
            assert!(bytes(f) == before, "{s} {args:?}: the file changed");
            assert_eq!(reference(f, None)["state"], "Valid", "{s}");
        }
        // Already as wanted: nothing to write, so nothing to refuse.
        noai(&["tag", p(&g)]).expect(0);
    }
}

#[test]
fn invalidate_tags_and_then_the_signature_reads_broken() {
    let dir = tempdir();
    let c = certs(dir.path());
    for s in SAMPLES4 {
        let f = signed(dir.path(), &c, s, None, None);
        let audio = audio_md5(&f);
        let doc = noai(&["tag", "--c2pa=invalidate", "--format", "json", p(&f)])
            .expect(0)
            .json();
        let e = &doc["files"][0];
        assert_eq!(e["status"], "signature-broken", "{s}: {e:#}");
        assert_eq!(state(e), "invalid", "{s}");
        assert_eq!(audio_md5(&f), audio, "{s}: audio changed");
        assert_eq!(
            ours(&mutagen(&f))
                .get("TDM-RESERVATION")
                .map(String::as_str),
            Some("1"),
            "{s}: mutagen does not see our tag"
        );
        let v = verify(&f, &[], 1);
        assert_eq!(v["status"], "signature-broken", "{s}: {v:#}");
        let notes = v["notes"].to_string();
        assert!(
            notes.contains("the file changed after signing"),
            "{s}: {notes}"
        );
        assert_eq!(
            reference(&f, None)["state"],
            "Invalid",
            "{s}: reference reader"
        );
    }
}

#[test]
fn a_title_edited_by_mutagen_after_signing_is_signature_broken() {
    let dir = tempdir();
    let c = certs(dir.path());
    for s in SAMPLES4 {
        let f = signed(dir.path(), &c, s, None, None);
        mutagen_set_title(&f, "edited after signing");
        assert_eq!(
            reference(&f, None)["state"],
            "Invalid",
            "{s}: reference reader"
        );
        let v = verify(&f, &[], 1);
        assert_eq!(v["status"], "signature-broken", "{s}: {v:#}");
        let codes = v["c2pa"]["failures"].to_string();
        assert!(codes.contains("Hash.mismatch"), "{s}: {codes}");
    }
}

#[test]
fn a_corrupt_manifest_store_is_signature_broken_never_unsigned() {
    let dir = tempdir();
    let c = certs(dir.path());
    for s in SAMPLES4 {
        let f = signed(dir.path(), &c, s, None, None);
        let mut b = bytes(&f);
        // The JUMBF superbox of the store: scramble the bytes after its first box header.
        let at = b
            .windows(4)
            .position(|w| w == b"jumb")
            .expect("no JUMBF box")
            + 4;
        b[at..at + 48].fill(0xA5);
        std::fs::write(&f, &b).unwrap();
        let v = verify(&f, &[], 1);
        assert_eq!(v["status"], "signature-broken", "{s}: {v:#}");
        assert_eq!(state(&v), "invalid", "{s}");
        assert_ne!(
            reference(&f, None)["state"],
            "Valid",
            "{s}: reference reader"
        );
        // Not refused: it is broken already, so `tag` goes ahead and says so.
        let t = noai(&["tag", "--format", "json", p(&f)]).expect(0).json();
        assert!(
            t["files"][0]["notes"]
                .to_string()
                .contains("already broken"),
            "{s}: {t:#}"
        );
    }
}

#[test]
fn the_manifest_joins_the_tags_agreeing_or_in_conflict_and_legacy_is_read() {
    let dir = tempdir();
    let c = certs(dir.path());
    // Tagged by noai first (no-ai-training), then signed with what that policy signs: agree.
    let tagged = copy_sample(dir.path(), "mp3-v23-pad.mp3");
    noai(&["tag", "-q", p(&tagged)]).expect(0);
    let training = r#"{"cawg.ai_training":{"use":"notAllowed"},"cawg.ai_generative_training":{"use":"notAllowed"}}"#;
    let agree = dir.path().join("agree.mp3");
    sign(&tagged, &agree, &c, Some(training), None);
    let v = verify(&agree, &["--policy", "no-ai-training"], 0);
    assert_eq!(v["status"], "tagged", "{v:#}");
    assert!(v["notes"].to_string().contains("agrees"), "{v:#}");
    // Signed `allowed` over tags that reserve: a conflict.
    let allowed = r#"{"cawg.data_mining":{"use":"allowed"},"cawg.ai_inference":{"use":"allowed"},"cawg.ai_training":{"use":"allowed"},"cawg.ai_generative_training":{"use":"allowed"}}"#;
    let differ = dir.path().join("differ.mp3");
    sign(&tagged, &differ, &c, Some(allowed), None);
    assert_eq!(verify(&differ, &[], 1)["status"], "conflict");
    // The removed C2PA 1.x label, with `constrained` and no constraint_info (= notAllowed).
    let legacy = r#"{"c2pa.ai_generative_training":{"use":"constrained"}}"#;
    let f = signed(
        dir.path(),
        &c,
        "flac-pad.flac",
        Some(legacy),
        Some("c2pa.training-mining"),
    );
    let v = verify(&f, &[], 0);
    assert_eq!(v["effective_policy"], "no-genai-training", "{v:#}");
    assert_eq!(v["c2pa"]["legacy"], true);
    assert_eq!(v["c2pa"]["entries"][0]["effective"], "notAllowed");
    // A value outside CAWG v1.1 is `invalid`, not guessed.
    let bad = r#"{"cawg.ai_training":{"use":"forbidden"}}"#;
    let f = signed(dir.path(), &c, "wav-plain.wav", Some(bad), None);
    assert_eq!(verify(&f, &[], 1)["status"], "invalid");
}

#[test]
fn show_and_csv_report_the_manifest() {
    let dir = tempdir();
    let c = certs(dir.path());
    let f = signed(dir.path(), &c, "m4a-aac-faststart.m4a", None, None);
    let show = noai(&["show", p(&f)]).expect(0).stdout;
    assert!(
        show.contains("c2pa:      valid (MP4 uuid box), signed by noai signer"),
        "{show}"
    );
    assert!(show.contains("cawg.ai_training = notAllowed"), "{show}");
    let csv = noai(&["verify", "--format", "csv", p(&f)]).expect(0).stdout;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",error_code,c2pa"), "{csv}");
    assert!(lines.next().unwrap().ends_with(",valid"), "{csv}");
}

#[test]
fn trust_anchors_come_from_noai_toml_too_and_a_file_without_a_certificate_is_an_error() {
    let dir = tempdir();
    let c = certs(dir.path());
    let f = signed(dir.path(), &c, "mp3-v23-pad.mp3", None, None);
    std::fs::write(
        dir.path().join("noai.toml"),
        "trust-anchors = \"certs/root.pem\"\n",
    )
    .unwrap();
    assert_eq!(state(&verify(&f, &[], 0)), "trusted");
    // The leaf's key is not a certificate: a clear error before any file is read.
    let r = noai(&["verify", "--trust-anchors", p(&c.key), p(&f)]).expect(2);
    assert!(r.stderr.contains("no PEM certificate"), "{}", r.stderr);
}

#[test]
fn a_store_that_is_not_c2pa_at_all_is_signature_broken_and_the_run_goes_on() {
    let dir = tempdir();
    // A WAV with a `C2PA` chunk of noise at the end, the RIFF size kept right.
    let f = copy_sample(dir.path(), "wav-plain.wav");
    let mut b = bytes(&f);
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    b.extend_from_slice(b"C2PA");
    b.extend_from_slice(&(noise.len() as u32).to_le_bytes());
    b.extend_from_slice(&noise);
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    std::fs::write(&f, &b).unwrap();
    let other = copy_sample(dir.path(), "flac-pad.flac");
    let doc = noai(&["verify", "--format", "json", p(dir.path())])
        .expect(1)
        .json();
    let e = file_entry(&doc, "wav-plain.wav");
    assert_eq!(e["status"], "signature-broken", "{e:#}");
    assert!(e["c2pa"]["error"].as_str().is_some(), "{e:#}");
    assert_eq!(file_entry(&doc, "flac-pad.flac")["status"], "untagged");
    assert!(other.exists());
}
