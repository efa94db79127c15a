//! `tag --sign` (issue 17 items 3-5): C2PA manifests with the CAWG training-and-data-mining
//! assertion, signed with certificates the test makes with the openssl CLI and checked by the
//! reference reader (`c2pa-python`), never by noai itself. Every other tag (mutagen) and the
//! audio (ffmpeg) must be as a plain `noai tag` leaves them; a file another tool signed keeps
//! its manifest as the ingredient; a re-run changes nothing; bad credentials stop the run
//! before any file is touched, with one line that says why.

mod common;
use common::c2pa::certs;
use common::c2pa_read::{reference, sign_with_other_tool};
use common::system::run_ok;
use common::{Run, audio_md5, copy_sample, mutagen_tags, noai, p, tempdir};

use std::path::Path;
use std::process::Command;

const SIGNABLE: [&str; 11] = [
    "mp3-v22.mp3",
    "mp3-v23-pad.mp3",
    "mp3-v24-nopad.mp3",
    "mp3-noid3.mp3",
    "mp3-id3v1-only.mp3",
    "flac-pad.flac",
    "flac-id3prefix.flac",
    "wav-plain.wav",
    "wav-id3.wav",
    "m4a-aac-faststart.m4a",
    "m4a-aac-moovend.m4a",
];

/// `noai tag --sign --cert CERT --key KEY EXTRA… PATH`.
fn tag_signed(cert: &Path, key: &Path, extra: &[&str], path: &Path) -> Run {
    let mut args = vec!["tag", "--sign", "--cert", p(cert), "--key", p(key)];
    args.extend(extra);
    args.push(p(path));
    noai(&args)
}

/// Every tag but the C2PA GEOB frame, as mutagen reads it. The SDK writes ID3v2.4, so a
/// frame's text encoding may change (Latin-1 to UTF-8); its values may not.
fn tags_but_manifest(f: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut t = mutagen_tags(f);
    t.retain(|k, _| !k.starts_with("GEOB"));
    for vs in t.values_mut() {
        for v in vs.iter_mut() {
            if let Some(at) = v.find("encoding=<") {
                let end = v[at..].find(">, ").map_or(v.len(), |e| at + e + 3);
                v.replace_range(at..end, "");
            }
        }
    }
    t
}

#[test]
fn signs_mp3_flac_wav_m4a_valid_trusted_and_keeps_everything_else() {
    let d = tempdir();
    let c = certs(d.path());
    let (plain, signed) = (d.path().join("plain"), d.path().join("signed"));
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&signed).unwrap();
    let mut audio = Vec::new();
    for name in SIGNABLE {
        audio.push(audio_md5(&copy_sample(&plain, name)));
        // A signing rewrites the file: its inode flags (here "no dump") must come along.
        run_ok(
            Command::new("chattr")
                .arg("+d")
                .arg(copy_sample(&signed, name)),
        );
    }
    noai(&["tag", "-q", p(&plain)]).expect(0);
    tag_signed(&c.leaf, &c.sec1_key, &["-q"], &signed).expect(0);
    for (name, md5) in SIGNABLE.iter().zip(&audio) {
        let f = signed.join(name);
        let lsattr = run_ok(Command::new("lsattr").arg(&f));
        assert!(
            lsattr.split_whitespace().next().unwrap().contains('d'),
            "{name}: lost its no-dump flag: {lsattr}"
        );
        let r = reference(&f, None);
        assert_eq!(r["state"], "Valid", "{name}: {r}");
        assert_eq!(r["first_action"], "c2pa.opened", "{name}: Edit intent: {r}");
        assert_eq!(r["generator"], "noai", "{name}: {r}");
        let e = &r["entries"];
        assert_eq!(e["cawg.ai_training"]["use"], "notAllowed", "{name}: {r}");
        assert_eq!(
            e["cawg.ai_generative_training"]["use"], "notAllowed",
            "{name}: {r}"
        );
        assert!(
            e.get("cawg.data_mining").is_none(),
            "no-ai-training says nothing of data mining: {r}"
        );
        let t = reference(&f, Some(&c.root));
        assert_eq!(t["state"], "Trusted", "{name} with the root as anchor: {t}");
        assert_eq!(&audio_md5(&f), md5, "{name}: audio changed");
        assert_eq!(
            tags_but_manifest(&f),
            tags_but_manifest(&plain.join(name)),
            "{name}: signing changed a tag"
        );
    }
    // Re-running is a no-op: no byte changes, the summary says unchanged.
    let before: Vec<Vec<u8>> = SIGNABLE
        .iter()
        .map(|n| std::fs::read(signed.join(n)).unwrap())
        .collect();
    let run = tag_signed(&c.leaf, &c.key, &["--format", "json"], &signed);
    for (n, b) in SIGNABLE.iter().zip(&before) {
        // An ID3v2.2 tag comes back from the SDK as v2.4, which gains its XMP frame once.
        if *n != "mp3-v22.mp3" {
            assert_eq!(
                &std::fs::read(signed.join(n)).unwrap(),
                b,
                "{n}: re-run changed it: {}",
                run.stdout
            );
        }
    }
}

#[test]
fn a_file_signed_by_another_tool_becomes_the_ingredient() {
    let d = tempdir();
    let c = certs(d.path());
    for name in [
        "mp3-v23-pad.mp3",
        "flac-pad.flac",
        "wav-plain.wav",
        "m4a-aac-moovend.m4a",
    ] {
        let orig = copy_sample(d.path(), name);
        let f = d.path().join(format!("other-{name}"));
        sign_with_other_tool(&orig, &f, &c);
        assert_eq!(reference(&f, None)["state"], "Valid", "{name}: setup");
        let md5 = audio_md5(&f);
        // noai's own report of the run shows the new manifest, not the one its tag write broke.
        let run = tag_signed(&c.leaf, &c.key, &["--format", "json"], &f);
        let ours = run.expect(0).json()["files"][0].clone();
        assert_eq!(ours["status"], "tagged", "{name}: {ours}");
        assert_eq!(ours["c2pa"]["state"], "valid", "{name}: {ours}");
        assert_eq!(
            ours["c2pa"]["assertion"], "cawg.training-mining",
            "{name}: {ours}"
        );
        let r = reference(&f, None);
        assert_eq!(r["state"], "Valid", "{name}: {r}");
        assert_eq!(r["manifests"], 2, "{name}: both manifests: {r}");
        assert_eq!(r["ingredients"], 1, "{name}: {r}");
        assert_eq!(
            r["generator"], "noai",
            "{name}: ours is the active one: {r}"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio changed");
    }
}

#[test]
fn every_policy_signs_its_spec_6_entries() {
    let d = tempdir();
    let c = certs(d.path());
    let cases: [(&str, &[(&str, &str)]); 6] = [
        (
            "no-tdm",
            &[
                ("cawg.data_mining", "notAllowed"),
                ("cawg.ai_inference", "notAllowed"),
            ],
        ),
        (
            "no-tdm-except-search",
            &[
                ("cawg.data_mining", "constrained"),
                ("cawg.ai_training", "notAllowed"),
            ],
        ),
        ("no-ai-training", &[("cawg.ai_training", "notAllowed")]),
        (
            "no-genai-training",
            &[("cawg.ai_generative_training", "notAllowed")],
        ),
        (
            "license",
            &[
                ("cawg.ai_training", "constrained"),
                ("cawg.data_mining", "constrained"),
            ],
        ),
        (
            "allow",
            &[
                ("cawg.ai_training", "allowed"),
                ("cawg.data_mining", "allowed"),
            ],
        ),
    ];
    for (policy, want) in cases {
        let f = d.path().join(format!("{policy}.flac"));
        std::fs::copy(Path::new(common::SAMPLES).join("flac-pad.flac"), &f).unwrap();
        let mut args = vec!["-q", "--policy", policy];
        if policy == "license" {
            args.extend(["--policy-url", "https://a.example/tdm"]);
        }
        tag_signed(&c.leaf, &c.key, &args, &f).expect(0);
        let r = reference(&f, None);
        assert_eq!(r["state"], "Valid", "{policy}: {r}");
        for (k, u) in want {
            assert_eq!(r["entries"][k]["use"], *u, "{policy} {k}: {r}");
        }
        if policy == "license" {
            assert_eq!(
                r["entries"]["cawg.ai_training"]["constraint_info"],
                "https://a.example/tdm"
            );
        }
        if policy == "no-genai-training" {
            assert_eq!(r["entries"].as_object().unwrap().len(), 1, "{r}");
        }
    }
}

#[test]
fn unsigned_containers_get_a_note_and_damaged_files_are_refused() {
    let d = tempdir();
    let c = certs(d.path());
    let lib = d.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    for n in ["aiff-plain.aiff", "vorbis.ogg"] {
        copy_sample(&lib, n);
    }
    let run = tag_signed(&c.leaf, &c.key, &["--format", "json"], &lib).expect(0);
    assert_eq!(
        run.stdout
            .matches("signing not available for this container")
            .count(),
        2,
        "{}",
        run.stdout
    );
    // An ID3v2 tag with a TXXX of text encoding 7: the SDK would drop every frame and sign;
    // noai refuses it (already when tagging) and leaves the bytes alone. `write::sign`'s unit
    // tests cover its own refusal of a tag the id3 crate cannot read.
    let bad = lib.join("bad-id3.mp3");
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    let frame =
        |id: &[u8], body: &[u8]| [id, &(body.len() as u32).to_be_bytes(), &[0, 0], body].concat();
    let frames = [frame(b"TIT2", b"\x00Title"), frame(b"TXXX", b"\x07k\x00v")].concat();
    tag.extend(common::syncsafe(frames.len() as u32));
    tag.extend(frames);
    let audio = std::fs::read(Path::new(common::SAMPLES).join("mp3-noid3.mp3")).unwrap();
    std::fs::write(&bad, [tag, audio].concat()).unwrap();
    let before = std::fs::read(&bad).unwrap();
    let run = tag_signed(&c.leaf, &c.key, &[], &bad).expect(2);
    assert!(run.stdout.contains("text encoding 7"), "{}", run.stdout);
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        before,
        "a tag noai cannot read was touched"
    );
    // Bytes after the RIFF form: the SDK would drop them. Tagged (noai keeps them), not signed.
    let tail = lib.join("tail.wav");
    let wav = std::fs::read(Path::new(common::SAMPLES).join("wav-plain.wav")).unwrap();
    std::fs::write(&tail, [wav, b"trailing!!".to_vec()].concat()).unwrap();
    let run = tag_signed(&c.leaf, &c.key, &[], &tail).expect(2);
    assert!(
        run.stdout.contains("after the end of the RIFF form"),
        "{}",
        run.stdout
    );
    assert!(std::fs::read(&tail).unwrap().ends_with(b"trailing!!"));
    assert!(reference(&tail, None)["state"].is_null(), "signed anyway");
}

#[test]
fn bad_credentials_stop_the_run_with_one_line_and_touch_nothing() {
    let d = tempdir();
    let c = certs(d.path());
    let f = copy_sample(d.path(), "mp3-v23-pad.mp3");
    let before = std::fs::read(&f).unwrap();
    let cases = [
        (&c.no_eku, &c.key, "no extended key usage"),
        (&c.root, &c.root_key, "CA certificate"),
        (&c.expired, &c.key, "expired"),
    ];
    for (cert, key, why) in cases {
        let run = tag_signed(cert, key, &[], &f).expect(2);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
        assert!(
            run.stderr.contains("README.md"),
            "points to the openssl commands: {}",
            run.stderr
        );
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert_eq!(
            std::fs::read(&f).unwrap(),
            before,
            "{why}: the file was touched"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&c.key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = tag_signed(&c.leaf, &c.key, &[], &f).expect(2);
    assert!(
        run.stderr.contains("readable by group or others"),
        "{}",
        run.stderr
    );
    let key = std::fs::read_to_string(&c.key).unwrap();
    let secret = key.lines().nth(1).unwrap();
    assert!(
        !run.stderr.contains(secret) && !run.stdout.contains(secret),
        "key material printed"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    // A self-signed leaf (CA:FALSE, EKU) signs: Valid, untrusted without anchors.
    std::fs::set_permissions(&c.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    tag_signed(&c.self_signed, &c.key, &["-q"], &f).expect(0);
    assert_eq!(reference(&f, None)["state"], "Valid");
    let _ = c.dir;
}

#[test]
fn tsa_is_refused_once_with_a_reason() {
    let d = tempdir();
    let c = certs(d.path());
    let f = copy_sample(d.path(), "flac-pad.flac");
    let before = std::fs::read(&f).unwrap();
    let run = tag_signed(&c.leaf, &c.key, &["--tsa", "http://127.0.0.1:9/"], &f).expect(2);
    assert!(
        run.stderr.contains("time-stamping is not available"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let run = noai(&["tag", "--cert", p(&c.leaf), p(&f)]).expect(2);
    assert!(run.stderr.contains("go with --sign"), "{}", run.stderr);
}
