//! MP4 plans checked against real tools: ffmpeg makes AAC and ALAC files (moov first and last, with
//! and without a title), the plans are carried out in a temp dir, then mutagen must read the
//! reservation and the old tags back and ffmpeg must hash the audio packets exactly as before.
//! A missing tool fails the test loudly: a silent skip would hide a lost check.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use noai::formats::{Container, Edit, Plan, Region, Source, payload, plan, scan};

use crate::common::planning::{carry_out, with_src};
use crate::common::{audio_md5, chapters, copy_as, copy_sample, mutagen_tags, tempdir, tool_ok};

fn make(dir: &Path, codec: &str, faststart: bool, title: bool) -> PathBuf {
    let path = dir.join(format!("{codec}-{faststart}-{title}.m4a"));
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=d=0.3",
        "-c:a",
        codec,
    ]);
    if faststart {
        cmd.args(["-movflags", "+faststart"]);
    }
    if title {
        cmd.args(["-metadata", "title=x"]);
    }
    tool_ok(cmd.arg(&path));
    path
}

fn plan_for(path: &Path, edit: &Edit) -> Option<Plan> {
    with_src(path, |src| plan(src, Container::Mp4, edit).unwrap())
}

fn fields(path: &Path) -> Vec<(String, String)> {
    let scan = with_src(path, |src| scan(src, Container::Mp4).unwrap());
    scan.carriers
        .iter()
        .flat_map(|c| c.fields.iter().map(|f| (f.key.clone(), f.value.clone())))
        .collect()
}

/// Carries out `plan` on `path` into `out`, as the writer would (test-only; no safety layer).
fn set(pairs: &[(&str, &str)]) -> Edit {
    Edit {
        remove: pairs.iter().map(|(k, _)| k.to_string()).collect(),
        set: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn tdm_of(tags: &BTreeMap<String, Vec<String>>) -> Option<String> {
    tags.get("----:com.apple.iTunes:TDM-RESERVATION")
        .map(|v| v[0].clone())
}

#[test]
fn ffmpeg_files_round_trip_through_mutagen_and_keep_their_audio() {
    let dir = tempdir();
    for codec in ["aac", "alac"] {
        for faststart in [false, true] {
            for title in [false, true] {
                let orig = make(dir.path(), codec, faststart, title);
                let case = orig.file_name().unwrap().to_string_lossy().into_owned();
                let md5 = audio_md5(&orig);
                let before = mutagen_tags(&orig);

                // First write: ffmpeg leaves no padding, so moov grows: a rewrite that adds
                // padding when moov comes first, a patch into the end of the file when it is last.
                let edit = set(&[("TDM-RESERVATION", "1"), ("DATAMINING", DMI)]);
                let p = plan_for(&orig, &edit).expect("an untagged file needs a write");
                if faststart {
                    assert!(
                        matches!(p, Plan::Rewrite { .. }),
                        "{case}: expected a rewrite"
                    );
                } else {
                    assert!(
                        matches!(p, Plan::Patch { .. }),
                        "{case}: expected a patch: {p:?}"
                    );
                }
                let one = dir.path().join(format!("1-{case}"));
                carry_out(&orig, &p, &one);
                let tags = mutagen_tags(&one);
                assert_eq!(tdm_of(&tags).as_deref(), Some("1"), "{case}: {tags:?}");
                assert_eq!(tags["----:com.apple.iTunes:DATAMINING"][0], DMI, "{case}");
                for (k, v) in &before {
                    assert_eq!(&tags[k], v, "{case}: tag {k} changed");
                }
                if title {
                    assert_eq!(tags["\u{a9}nam"][0], "x", "{case}: title lost");
                }
                assert_eq!(audio_md5(&one), md5, "{case}: audio changed");
                assert_eq!(
                    fields(&one),
                    vec![
                        ("TDM-RESERVATION".into(), "1".into()),
                        ("DATAMINING".into(), DMI.into())
                    ]
                );
                assert!(
                    plan_for(&one, &edit).is_none(),
                    "{case}: second run must not write"
                );

                // Second write fits the padding: in place, same size, audio ranges untouched.
                let p = plan_for(&one, &set(&[("TDM-RESERVATION", "0")])).unwrap();
                let Some(Region { offset, bytes }) = p.single() else {
                    panic!("{case}: expected in place")
                };
                let file = File::open(&one).unwrap();
                let src = Source::new(&file, file.metadata().unwrap().len());
                for r in payload(&src, Container::Mp4).unwrap() {
                    assert!(
                        offset + bytes.len() as u64 <= r.start || *offset >= r.end,
                        "{case}: touches audio"
                    );
                }
                let two = dir.path().join(format!("2-{case}"));
                carry_out(&one, &p, &two);
                assert_eq!(
                    fs::metadata(&two).unwrap().len(),
                    fs::metadata(&one).unwrap().len()
                );
                let tags = mutagen_tags(&two);
                assert_eq!(tdm_of(&tags).as_deref(), Some("0"), "{case}");
                assert_eq!(audio_md5(&two), md5, "{case}");

                // Strip: both of ours go, everything else stays.
                let strip = Edit {
                    remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
                    set: vec![],
                    ..Default::default()
                };
                let p = plan_for(&two, &strip).unwrap();
                let three = dir.path().join(format!("3-{case}"));
                carry_out(&two, &p, &three);
                assert_eq!(
                    mutagen_tags(&three),
                    before,
                    "{case}: strip left exactly the original tags"
                );
                assert_eq!(audio_md5(&three), md5, "{case}");
            }
        }
    }
}

#[test]
fn reads_and_strips_what_mutagen_wrote() {
    let dir = tempdir();
    let orig = make(dir.path(), "aac", true, true);
    let script = "import sys, mutagen.mp4\n\
        f = mutagen.mp4.MP4(sys.argv[1])\n\
        f['----:com.apple.iTunes:tdm-reservation'] = [mutagen.mp4.MP4FreeForm(b'1')]\n\
        f['----:org.example:DATAMINING'] = [mutagen.mp4.MP4FreeForm(b'vendor')]\n\
        f['----:com.apple.iTunes:OTHER'] = [mutagen.mp4.MP4FreeForm(b'keep me')]\n\
        f.save()";
    tool_ok(Command::new("python3").args(["-c", script]).arg(&orig));
    let md5 = audio_md5(&orig);
    assert_eq!(
        fields(&orig),
        vec![
            ("tdm-reservation".into(), "1".into()),
            ("OTHER".into(), "keep me".into())
        ]
    );
    // mutagen leaves padding next to ilst, so replacing the lowercase key fits in place.
    let p = plan_for(&orig, &set(&[("TDM-RESERVATION", "1")])).unwrap();
    assert!(p.single().is_some());
    let out = dir.path().join("out.m4a");
    carry_out(&orig, &p, &out);
    let tags = mutagen_tags(&out);
    assert!(!tags.contains_key("----:com.apple.iTunes:tdm-reservation"));
    // Another vendor's mean is not ours (SPEC §3): kept as it was.
    assert_eq!(tags["----:org.example:DATAMINING"][0], "vendor");
    assert_eq!(tdm_of(&tags).as_deref(), Some("1"));
    assert_eq!(tags["----:com.apple.iTunes:OTHER"][0], "keep me");
    assert_eq!(tags["\u{a9}nam"][0], "x");
    assert_eq!(audio_md5(&out), md5);
}

/// The shared samples (copied first: nothing is ever written inside sample-audio): every tag,
/// cover and chapter survives, the audio hash is unchanged, and a cut file is an error.
#[test]
fn sample_files_keep_tags_covers_chapters_and_audio() {
    let dir = tempdir();
    let names = [
        "m4a-aac-faststart.m4a",
        "m4a-aac-moovend.m4a",
        "m4a-alac.m4a",
        "m4b-book.m4b",
    ];
    for name in names {
        let orig = copy_sample(dir.path(), name);
        let (md5, before, chaps) = (audio_md5(&orig), mutagen_tags(&orig), chapters(&orig));
        let edit = set(&[("TDM-RESERVATION", "1"), ("DATAMINING", DMI)]);
        let p = plan_for(&orig, &edit).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        carry_out(&orig, &p, &out);
        let tags = mutagen_tags(&out);
        assert_eq!(tdm_of(&tags).as_deref(), Some("1"), "{name}");
        for (k, v) in &before {
            assert_eq!(&tags[k], v, "{name}: tag {k} changed");
        }
        assert_eq!(audio_md5(&out), md5, "{name}: audio changed");
        assert_eq!(chapters(&out), chaps, "{name}: chapters changed");
    }
    let tagged = copy_as(dir.path(), "tagged-no-tdm-except-search.m4a", "tagged.m4a");
    let f = fields(&tagged);
    assert!(f.contains(&("TDM-RESERVATION".into(), "1".into())), "{f:?}");
    assert!(
        f.iter()
            .any(|(k, v)| k == "DATAMINING" && v.ends_with("EXCEPTSEARCHENGINEINDEXING"))
    );

    let cut = copy_as(dir.path(), "broken-truncated.m4a", "cut.m4a");
    let file = File::open(&cut).unwrap();
    let src = Source::new(&file, file.metadata().unwrap().len());
    assert!(scan(&src, Container::Mp4).is_err());
    assert!(plan(&src, Container::Mp4, &edit_any()).is_err());
}

fn edit_any() -> Edit {
    set(&[("TDM-RESERVATION", "1")])
}
