//! The Ogg module against real files: ffmpeg encodes Vorbis, Opus and Speex, mutagen adds tags
//! (including a picture spanning many pages). Each plan is carried out the way the write layer
//! does it (`Part`s, `copy_pages`), then mutagen must read the reservation and every old tag back,
//! ffmpeg must decode the result without a message, and the audio packets' MD5 must not change.
//! A missing tool fails the test: a skipped check would look like a pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use noai::formats::{Edit, Part, Plan, ogg};

use crate::common::matrix;
use crate::common::planning::{carry_out, with_src};
use crate::common::{audio_md5, decode_errors, lavfi, mutagen_tags, tempdir, tool_ok};

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

/// Every reader of the matrix (TagLib, ffprobe, mutagen, ExifTool, kid3-cli, MediaInfo) shows
/// the same fields of `orig` but ours in each of `after`, whose comment packets end in the
/// padding a rewrite leaves; TagLib shows ours in the first.
fn same_for_every_reader(orig: &Path, after: &[&Path]) {
    for reader in matrix::READERS {
        let before = matrix::without_ours(&matrix::read(reader, orig));
        for a in after {
            let seen = matrix::read(reader, a);
            assert_eq!(
                matrix::without_ours(&seen),
                before,
                "{reader}: {}",
                a.display()
            );
        }
    }
    let taglib = matrix::read("TagLib", after[0]);
    assert!(
        taglib.iter().any(|e| matrix::is_ours(e)),
        "TagLib shows no field of ours in {}: {taglib:?}",
        after[0].display()
    );
}

fn require_tools() {
    tool_ok(Command::new("python3").args(["-c", "import mutagen"]));
    let encoders = tool_ok(Command::new("ffmpeg").args(["-hide_banner", "-encoders"]));
    for enc in ["libvorbis", "libopus", "libspeex"] {
        assert!(
            encoders.contains(enc),
            "ffmpeg lacks the {enc} encoder needed by this test"
        );
    }
}

fn encode(dir: &Path, name: &str, codec: &str) -> PathBuf {
    let path = dir.join(name);
    tool_ok(lavfi("sine=d=0.5").args(["-c:a", codec]).arg(&path));
    path
}

/// A noisy (incompressible, ~130 KB) PNG, so the picture decodes and is large.
fn png(dir: &Path) -> PathBuf {
    let path = dir.join("cover.png");
    let src = "color=c=gray:s=240x200,noise=alls=100:allf=t";
    tool_ok(lavfi(src).args(["-frames:v", "1"]).arg(&path));
    path
}

/// Adds tags with mutagen; a `picture` as METADATA_BLOCK_PICTURE makes the comment packet span
/// many pages, laid out by mutagen rather than by libogg.
fn mutagen_tag(path: &Path, picture: Option<&Path>) {
    let script = r#"
import sys, base64, mutagen
from mutagen.flac import Picture
f = mutagen.File(sys.argv[1])
f["ARTIST"] = "Some Artist"
f["TITLE"] = "Ünïcode title"
if sys.argv[2]:
    p = Picture(); p.type = 3; p.mime = "image/png"; p.data = open(sys.argv[2], "rb").read()
    f["METADATA_BLOCK_PICTURE"] = base64.b64encode(p.write()).decode("ascii")
f.save()
"#;
    tool_ok(
        Command::new("python3")
            .args(["-c", script])
            .arg(path)
            .arg(picture.unwrap_or(Path::new(""))),
    );
}

/// An independent page check: mutagen re-encodes every page (header and CRC) byte-identically,
/// sequence numbers count up from 0, one serial, BOS only on the first page, EOS on the last.
fn check_pages(path: &Path) {
    let script = r#"
import sys
from mutagen.ogg import OggPage
data = open(sys.argv[1], "rb").read()
f = open(sys.argv[1], "rb")
n = pos = 0
serial = None
while pos < len(data):
    p = OggPage(f)
    assert p.write() == data[pos:f.tell()], f"page {n} at {pos} is not re-encoded identically"
    assert p.sequence == n, f"page {n} at {pos} has sequence {p.sequence}"
    assert serial is None or p.serial == serial, f"page {n}: serial {p.serial}"
    assert p.first == (n == 0), f"page {n}: BOS flag"
    serial, pos, n = p.serial, f.tell(), n + 1
assert p.last, "last page lacks EOS"
print(n)
"#;
    let out = tool_ok(Command::new("python3").args(["-c", script]).arg(path));
    assert!(
        out.trim().parse::<u32>().is_ok_and(|n| n > 2),
        "{}: {out}",
        path.display()
    );
}

fn payload_bytes(path: &Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    let ranges = with_src(path, ogg::payload).unwrap();
    assert!(!ranges.is_empty());
    ranges
        .iter()
        .flat_map(|r| data[r.start as usize..r.end as usize].to_vec())
        .collect()
}

fn tag_edit() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![
            ("TDM-RESERVATION".into(), "1".into()),
            ("DATAMINING".into(), DMI.into()),
        ],
        ..Default::default()
    }
}

fn strip_edit() -> Edit {
    Edit {
        remove: tag_edit().remove,
        set: vec![],
        ..Default::default()
    }
}

/// Plans `edit` on `orig`, applies it to `out` and checks the result; returns the plan.
fn edit_and_check(orig: &Path, out: &Path, edit: &Edit) -> Plan {
    let plan = with_src(orig, |s| ogg::plan(s, edit))
        .unwrap()
        .expect("the edit changes the file");
    carry_out(orig, &plan, out);
    let mut want = mutagen_tags(orig);
    want.remove("tdm-reservation");
    want.remove("datamining");
    if !edit.set.is_empty() {
        want.insert("tdm-reservation".into(), vec!["1".into()]);
        want.insert("datamining".into(), vec![DMI.into()]);
    }
    assert_eq!(
        mutagen_tags(out),
        want,
        "{}: mutagen reads every tag back",
        out.display()
    );
    check_pages(out);
    assert_eq!(
        decode_errors(out),
        "",
        "{}: ffmpeg decodes without a message",
        out.display()
    );
    assert_eq!(
        audio_md5(out),
        audio_md5(orig),
        "{}: audio packets unchanged",
        out.display()
    );
    assert!(
        payload_bytes(out) == payload_bytes(orig),
        "{}: audio page bodies unchanged",
        out.display()
    );
    let fields = with_src(out, ogg::carriers).unwrap().remove(0).fields;
    assert_eq!(
        fields
            .iter()
            .any(|f| f.key == "TDM-RESERVATION" && f.value == "1"),
        !edit.set.is_empty()
    );
    assert_eq!(
        with_src(out, |s| ogg::plan(s, edit)).unwrap(),
        None,
        "a second run changes nothing"
    );
    plan
}

fn seq_delta(plan: &Plan) -> Option<i64> {
    match plan {
        Plan::Rewrite { parts } => parts.iter().find_map(|p| match p {
            Part::OggPages { seq_delta, .. } => Some(*seq_delta),
            _ => None,
        }),
        Plan::Patch { .. } | Plan::Cut { .. } => None,
    }
}

#[test]
fn real_files_round_trip() {
    require_tools();
    let dir = tempdir();
    let d = dir.path();

    // Plain encoder output: no padding anywhere, so the first edit rewrites.
    for (name, codec) in [
        ("a.ogg", "libvorbis"),
        ("a.opus", "libopus"),
        ("a.spx", "libspeex"),
    ] {
        let orig = encode(d, name, codec);
        let tagged = d.join(format!("tagged-{name}"));
        let plan = edit_and_check(&orig, &tagged, &tag_edit());
        assert!(matches!(plan, Plan::Rewrite { .. }), "{name}: {plan:?}");
        // The rewrite left padding (Opus padding; zeros after the Vorbis framing byte or the
        // Speex comments, as mutagen writes them), so stripping now fits in place.
        let stripped = d.join(format!("stripped-{name}"));
        let plan = edit_and_check(&tagged, &stripped, &strip_edit());
        assert!(plan.single().is_some(), "{name}: {plan:?}");
        assert_eq!(mutagen_tags(&stripped), mutagen_tags(&orig));
        same_for_every_reader(&orig, &[&tagged, &stripped]);
    }

    // mutagen leaves padding in OpusTags: the first edit is in place.
    let opus = encode(d, "m.opus", "libopus");
    mutagen_tag(&opus, None);
    let plan = edit_and_check(&opus, &d.join("m-tagged.opus"), &tag_edit());
    assert!(plan.single().is_some(), "{plan:?}");

    // A picture across many small mutagen pages: our repagination uses fewer, fuller pages, so
    // every audio page is renumbered.
    let cover = png(d);
    let ogg = encode(d, "p.ogg", "libvorbis");
    mutagen_tag(&ogg, Some(&cover));
    let plan = edit_and_check(&ogg, &d.join("p-tagged.ogg"), &tag_edit());
    assert!(seq_delta(&plan).is_some_and(|s| s < 0), "{plan:?}");
    let opus = encode(d, "p.opus", "libopus");
    mutagen_tag(&opus, Some(&cover));
    edit_and_check(&opus, &d.join("p-tagged.opus"), &tag_edit());
}

#[test]
fn real_files_with_trailing_or_chained_data_are_refused() {
    require_tools();
    let dir = tempdir();
    let orig = encode(dir.path(), "a.ogg", "libvorbis");
    let data = std::fs::read(&orig).unwrap();

    let trailing = dir.path().join("trailing.ogg");
    let mut id3v1 = data.clone();
    id3v1.extend_from_slice(b"TAG");
    id3v1.resize(id3v1.len() + 125, 0);
    std::fs::write(&trailing, &id3v1).unwrap();
    let err = with_src(&trailing, |s| ogg::plan(s, &tag_edit())).unwrap_err();
    assert!(
        err.message().contains("128 bytes after the last Ogg page"),
        "{err}"
    );

    let chained = dir.path().join("chained.ogg");
    std::fs::write(&chained, [data.as_slice(), &data].concat()).unwrap();
    let err = with_src(&chained, |s| ogg::plan(s, &tag_edit())).unwrap_err();
    assert!(err.message().contains("chained"), "{err}");
    assert!(
        with_src(&chained, ogg::carriers).is_ok(),
        "reading a chained file still works"
    );
}
