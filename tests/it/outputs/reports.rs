//! What reports contain and what the exit code says about them: pictures and long values are
//! summarised in every output, `verify` lists only the reservation's fields (the JSONL budget of
//! 600 bytes a file holds for a file with a 100 KB cover and lyrics), `show` and `--all-fields`
//! list everything; finding no audio file is exit 1 unless `--allow-empty`.
//! The cover and lyrics are written by mutagen, not by us.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const COVER_BYTES: usize = 102_400;

/// An Opus and an Ogg Vorbis file with ten ordinary tags, 2 KB of lyrics and a 100 KB cover
/// (`METADATA_BLOCK_PICTURE`), as a tagger would leave them.
fn decorated(dir: &Path) -> Vec<PathBuf> {
    let files = vec![
        copy_sample(dir, "opus.opus"),
        copy_sample(dir, "vorbis.ogg"),
    ];
    let script = r#"
import sys, base64
from mutagen.flac import Picture
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
pic = Picture(); pic.type = 3; pic.mime = "image/jpeg"; pic.desc = "cover"
pic.data = bytes(range(256)) * 400
for path in sys.argv[1:]:
    f = (OggOpus if path.endswith(".opus") else OggVorbis)(path)
    for k in ["ARTIST", "ALBUM", "TITLE", "GENRE", "MUSICBRAINZ_TRACKID", "MUSICBRAINZ_ALBUMID",
              "REPLAYGAIN_TRACK_GAIN", "REPLAYGAIN_TRACK_PEAK", "ISRC", "BARCODE"]:
        f[k] = "value of " + k
    f["LYRICS"] = "la " * 700
    f["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode()]
    f.save()
"#;
    let out = tool(
        Command::new("python3")
            .args(["-c", script])
            .args(files.iter().map(|f| p(f))),
    );
    assert!(out.status.success(), "mutagen: {out:?}");
    files
}

fn picture_summary() -> String {
    format!("<picture, image/jpeg, {COVER_BYTES} bytes>").replace("102400", "102,400")
}

#[test]
fn jsonl_lists_the_reservation_only_and_stays_small() {
    let d = tempdir();
    decorated(d.path());
    noai(&["tag", p(d.path())]).expect(0);
    let r = noai(&["verify", p(d.path()), "--format", "jsonl"]).expect(0);
    let files: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("\"type\":\"file\""))
        .collect();
    assert_eq!(files.len(), 2, "{}", r.stdout);
    for line in files {
        assert!(line.len() <= 600, "{} bytes: {line}", line.len());
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let c = &v["carriers"][0];
        let keys: Vec<&str> = c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["TDM-RESERVATION", "DATAMINING"], "{line}");
        assert_eq!(c["other_fields"], 12, "{line}");
    }
}

#[test]
fn show_and_all_fields_list_everything_summarised() {
    let d = tempdir();
    let files = decorated(d.path());
    let pic = picture_summary();
    let show = noai(&["show", p(&files[0]), "--format", "json"]).expect(1);
    assert!(show.stdout.ends_with("}\n"), "JSON ends with a newline");
    let doc = show.json();
    assert_eq!(doc["schema_version"], 2);
    let fields = doc["files"][0]["carriers"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 12, "{doc:#}");
    let value = |k: &str| {
        let f = fields.iter().find(|f| f["key"] == k);
        f.unwrap_or_else(|| panic!("no {k}: {doc:#}"))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(value("METADATA_BLOCK_PICTURE"), pic);
    let lyrics = value("LYRICS");
    assert!(lyrics.ends_with("… <text, 2,100 bytes>"), "{lyrics}");
    assert!(show.stdout.len() < 3000, "{} bytes", show.stdout.len());

    let human = noai(&["show", p(&files[0])]).expect(1).stdout;
    assert!(
        human.contains(&format!("METADATA_BLOCK_PICTURE = {pic}")),
        "{human}"
    );
    assert!(human.contains("ARTIST = value of ARTIST"), "{human}");

    let all = noai(&["verify", p(d.path()), "--all-fields", "--format", "json"]).expect(1);
    let doc = all.json();
    for f in doc["files"].as_array().unwrap() {
        let n = f["carriers"][0]["fields"].as_array().unwrap().len();
        assert_eq!(n, 12, "{f:#}");
    }
    assert!(all.stdout.contains(&pic));
    assert!(all.stdout.len() < 6000, "{} bytes", all.stdout.len());
}

/// No output format carries the picture's base64 (the cover is 136 KB of it).
#[test]
fn no_format_prints_the_picture() {
    let d = tempdir();
    decorated(d.path());
    for format in ["human", "json", "jsonl", "junit", "github", "csv", "html"] {
        for cmd in ["verify", "show", "report"] {
            let r = noai(&[cmd, p(d.path()), "--all-fields", "-v", "--format", format]);
            assert!(
                r.stdout.len() < 20_000,
                "{cmd} --format {format}: {} bytes",
                r.stdout.len()
            );
        }
    }
}

#[test]
fn no_audio_file_is_a_finding_unless_allowed() {
    let d = tempdir();
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    copy_sample(&empty, "notes.txt");
    for cmd in ["verify", "report"] {
        let r = noai(&[cmd, p(&empty)]).expect(1);
        assert!(r.stdout.contains("no audio file found"), "{r:?}");
        let r = noai(&[cmd, p(&empty), "--format", "json"]).expect(1);
        assert_eq!(r.json()["summary"]["no_audio_files"], true);
        assert!(r.stderr.contains("no audio file found"), "{r:?}");
        noai(&[cmd, p(&empty), "--allow-empty"]).expect(0);
    }
    let r = noai(&["report", p(&empty), "--untagged-only"]).expect(1);
    assert!(
        r.stdout.is_empty() && r.stderr.contains("no audio file found"),
        "{r:?}"
    );
    let r = noai(&["verify", p(&empty), "--format", "github"]).expect(1);
    assert!(r.stdout.starts_with("::error "), "{}", r.stdout);
    // `tag` over nothing stays a success: there was nothing to write.
    noai(&["tag", p(&empty)]).expect(0);
    std::fs::write(empty.join("noai.toml"), "allow-empty = true\n").unwrap();
    noai(&["verify", p(&empty)]).expect(0);
}

#[test]
fn an_explicit_path_that_is_not_audio_is_an_error_naming_it() {
    let d = tempdir();
    std::fs::write(d.path().join("song.mid"), b"not ours").unwrap();
    let ok = copy_sample(d.path(), "flac-pad.flac");
    let mid = d.path().join("song.mid");
    let r = noai(&["verify", p(&mid), p(&ok)]).expect(2);
    assert!(
        r.stdout.contains("song.mid") && r.stdout.contains("not a supported audio file"),
        "{r:?}"
    );
    // Inside a folder the same file is skipped silently.
    let doc = noai_json(&["verify", p(d.path())], 1);
    assert_eq!(doc["summary"]["skipped"]["not-audio"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["errors"], 0, "{doc:#}");
    let r = noai(&["verify", p(&d.path().join("missing.mp3"))]).expect(2);
    assert!(r.stdout.contains("missing.mp3"), "{r:?}");
}
