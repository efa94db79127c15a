//! The exact values each policy writes (SPEC §2), the license URL rule, OTHERCONSTRAINTS text in
//! every ID3 version and Vorbis comments, and `strip` as the exact inverse of `tag`.

use crate::common;

use common::*;

#[test]
fn every_policy_writes_the_spec_values() {
    let url = "https://example.org/tdm-policy.json";
    for (policy, ..) in POLICIES {
        for name in ["flac-pad.flac", "mp3-v23-pad.mp3"] {
            let dir = tempdir();
            let f = copy_sample(dir.path(), name);
            let mut args = vec!["tag", p(&f), "--policy", policy];
            let mut verify = vec!["verify", p(&f), "--policy", policy];
            if policy == "license" {
                args.extend(["--policy-url", url]);
                verify.extend(["--policy-url", url]);
            }
            noai(&args).expect(0);
            let url = (policy == "license").then_some(url);
            assert_eq!(
                ours(&mutagen(&f)),
                want(policy, url, None),
                "{name} --policy {policy}"
            );
            noai(&verify).expect(0);
        }
    }
}

#[test]
fn license_needs_a_policy_url() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-pad.flac");
    let before = state(&f);
    let r = noai(&["tag", p(&f), "--policy", "license"]).expect(2);
    assert!(
        r.stderr.contains("--policy-url"),
        "message should name --policy-url: {r:?}"
    );
    let r = noai(&[
        "tag",
        p(&f),
        "--policy",
        "license",
        "--policy-url",
        "ftp://example.org/x",
    ])
    .expect(2);
    assert!(
        r.stderr.contains("ftp://example.org/x"),
        "message should name the bad URL: {r:?}"
    );
    let r = noai(&["tag", p(&f), "--policy-url", "https://example.org/x"]).expect(2);
    assert!(
        r.stderr.contains("license"),
        "--policy-url without license: {r:?}"
    );
    assert!(
        state(&f) == before,
        "a refused command line wrote to the file"
    );
}

#[test]
fn constraints_text_round_trips_in_every_id3_version_and_vorbis() {
    let text = "Licences for AI training: écrivez à licensing@example.org ♪";
    // (sample, expected ID3 text encoding of OTHERCONSTRAINTS: 1 = UTF-16 in v2.3, 3 = UTF-8 in v2.4)
    for (name, enc) in [
        ("mp3-v23-pad.mp3", Some(1)),
        ("mp3-v24-nopad.mp3", Some(3)),
        ("mp3-noid3.mp3", Some(1)),
        ("flac-pad.flac", None),
        ("opus.opus", None),
    ] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        noai(&["tag", p(&f), "--constraints", text]).expect(0);
        let d = mutagen(&f);
        assert_eq!(ours(&d), want("no-ai-training", None, Some(text)), "{name}");
        if let Some(enc) = enc {
            let field = d["ours"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x[0] == "OTHERCONSTRAINTS")
                .unwrap();
            assert_eq!(field[2], enc, "{name}: OTHERCONSTRAINTS text encoding");
            for x in d["ours"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x[0] != "OTHERCONSTRAINTS")
            {
                assert_eq!(x[2], 0, "{name}: ASCII field {} must stay ISO-8859-1", x[0]);
            }
        }
        noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
    }
}

/// Sorts Vorbis comment lists: strip may reorder, it must not lose or add.
fn unordered(mut d: serde_json::Value) -> serde_json::Value {
    if let Some(c) = d.get_mut("comments").and_then(|c| c.as_array_mut()) {
        c.sort_by_key(|x| x.to_string());
    }
    d
}

#[test]
fn strip_removes_exactly_the_spec_fields() {
    for name in [
        "mp3-v23-pad.mp3",
        "mp3-noid3.mp3",
        "wav-id3.wav",
        "flac-pad.flac",
        "flac-nopad.flac",
        "vorbis.ogg",
        "opus.opus",
        "m4a-aac-faststart.m4a",
        "m4b-book.m4b",
    ] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), name);
        let before = mutagen(&f);
        let md5 = audio_md5(&f);
        noai(&[
            "tag",
            p(&f),
            "--policy",
            "license",
            "--policy-url",
            "https://example.org/p",
            "--constraints",
            "ask",
        ])
        .expect(0);
        assert_eq!(
            ours(&mutagen(&f)).len(),
            4,
            "{name}: all four fields written"
        );
        let doc = noai_json(&["strip", p(&f)], 0);
        assert_eq!(action(&doc, name).0, "written", "{name}: {doc:#}");
        let after = mutagen(&f);
        assert!(
            ours(&after).is_empty(),
            "{name}: fields left after strip: {after}"
        );
        assert_eq!(
            unordered(others(&after)),
            unordered(others(&before)),
            "{name}: strip changed other tags"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio changed");
        let v = noai_json(&["verify", p(&f)], 1);
        assert_eq!(file_entry(&v, name)["status"], "untagged", "{name}: {v:#}");
        // Stripping again has nothing to do.
        let again = noai_json(&["strip", p(&f)], 0);
        assert_eq!(action(&again, name).0, "unchanged", "{name}: {again:#}");
    }
}

#[test]
fn strip_keeps_the_other_tags_of_a_tagged_fixture() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "tagged-license.ogg");
    let before = mutagen(&f);
    noai(&["strip", p(&f)]).expect(0);
    let after = mutagen(&f);
    assert!(ours(&after).is_empty(), "{after}");
    assert_eq!(others(&after), others(&before));
}
