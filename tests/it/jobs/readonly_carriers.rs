//! Carriers `verify` reads but a write never changes: an ID3v2 tag in front of a FLAC stream, a
//! second stacked ID3v2 tag in an MP3, and the XMP packet under `tag --no-xmp`. When the
//! reservation there would contradict the outcome a job promises, `tag --force` and `strip`
//! refuse the file before writing a byte, naming the carrier; a write never ends in "verify now
//! says conflict".

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

const ALLOWED: &str = "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED";

/// Runs a Python snippet with mutagen on `path`.
fn py(script: &str, path: &Path) {
    tool_ok(Command::new("python3").args(["-c", script]).arg(path));
}

/// An ID3v2.3 tag that allows AI training, written by mutagen in front of whatever `path` holds.
fn prepend_allow_tag(path: &Path) {
    py(
        &format!(
            "import sys\nfrom mutagen.id3 import ID3, TXXX\nt = ID3()\n\
             t.add(TXXX(encoding=0, desc='TDM-RESERVATION', text=['0']))\n\
             t.add(TXXX(encoding=0, desc='DATAMINING', text=['{ALLOWED}']))\n\
             t.save(sys.argv[1], v2_version=3)"
        ),
        path,
    );
}

/// `noai ARGS FILE` exits 2 naming `carrier`, and the file keeps its bytes.
fn refused(args: &[&str], f: &Path, carrier: &str) -> String {
    let orig = bytes(f);
    let mut all = args.to_vec();
    all.push(p(f));
    let r = noai(&all).expect(2);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains("not changed"), "{args:?}: {out}");
    assert!(
        out.contains(carrier),
        "{args:?} should name {carrier}: {out}"
    );
    assert!(!out.contains("verify now says"), "{out}");
    assert_eq!(bytes(f), orig, "{args:?}: bytes changed");
    out
}

#[test]
fn flac_with_an_id3v2_prefix_is_refused_not_left_in_conflict() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-pad.flac");
    prepend_allow_tag(&f);
    assert!(
        bytes(&f).starts_with(b"ID3"),
        "mutagen wrote the prefix tag"
    );
    refused(&["tag", "--force"], &f, "ID3v2.3 TXXX");
    refused(&["strip"], &f, "ID3v2.3 TXXX");
    // Without --force the conflict is reported as before, and nothing is written either.
    let orig = bytes(&f);
    noai(&["tag", p(&f)]).expect(1);
    assert_eq!(bytes(&f), orig);
}

#[test]
fn a_second_stacked_id3v2_tag_is_refused_not_left_in_conflict() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "mp3-v23-pad.mp3");
    // The second tag: mutagen's allow tag, spliced in after the first one.
    let second = dir.path().join("second.id3");
    std::fs::write(&second, b"").unwrap();
    prepend_allow_tag(&second);
    let (b, tag2) = (bytes(&f), bytes(&second));
    let len1 = 10
        + b[6..10]
            .iter()
            .fold(0usize, |a, &x| (a << 7) | usize::from(x & 0x7F));
    let stacked = [&b[..len1], &tag2[..], &b[len1..]].concat();
    std::fs::write(&f, stacked).unwrap();
    let out = noai(&["show", p(&f)]).stdout;
    assert!(out.contains(ALLOWED), "show reads the second tag: {out}");
    refused(&["tag", "--force"], &f, "ID3v2.3 TXXX");
    refused(&["strip"], &f, "ID3v2.3 TXXX");
}

#[test]
fn xmp_left_alone_by_no_xmp_is_refused_with_a_hint() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "mp3-v23-pad.mp3");
    noai(&["tag", "--policy", "allow", p(&f)]).expect(0);
    let out = refused(&["tag", "--force", "--no-xmp"], &f, "XMP (ID3 PRIV)");
    assert!(out.contains("without --no-xmp"), "{out}");
    // Without --no-xmp both carriers change together.
    noai(&["tag", "--force", p(&f)]).expect(0);
    noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
    noai(&["strip", p(&f)]).expect(0);
    noai(&["verify", p(&f)]).expect(1);
}
