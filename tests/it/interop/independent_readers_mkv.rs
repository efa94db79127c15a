//! The Matroska/WebM rows of docs/interop.md section 1 (its name extends
//! `independent_readers`, so the command that regenerates the document runs it too). ffmpeg
//! makes the files (there is no Matroska sample in sample-audio/); each is tagged with all four
//! fields, then ffprobe, mkvextract (mkvtoolnix), ExifTool and MediaInfo must show the exact
//! values, once each. mutagen and TagLib (kid3-cli) have no Matroska support: they must fail to
//! open the file, which is asserted, so a new version that reads it shows up here.

use std::path::Path;
use std::process::Command;

use crate::common::interop_doc::publish;
use crate::common::mkv::{encode, encode_cover_track, mkvextract_tags};
use crate::common::readers::ffprobe;
use crate::common::{decode_errors, noai, tempdir, tool, tool_ok};

const URL: &str = "https://example.org/tdm.json";
const CONSTRAINTS: &str = "Licensing: rights@example.org";
const WANT: [(&str, &str); 4] = [
    ("TDM-RESERVATION", "1"),
    (
        "DATAMINING",
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEECONSTRAINT",
    ),
    ("TDM-POLICY", URL),
    ("OTHERCONSTRAINTS", CONSTRAINTS),
];

/// "✓" when `fields` holds each wanted value exactly once under its key (`key` maps our key to
/// the reader's spelling); the test fails otherwise.
fn cell(reader: &str, file: &str, fields: &[(String, String)], key: fn(&str) -> String) -> String {
    for (k, v) in WANT {
        let hits: Vec<_> = fields.iter().filter(|(n, _)| *n == key(k)).collect();
        assert_eq!(
            hits.len(),
            1,
            "{reader} on {file}: {k} shown {} times in {fields:?}",
            hits.len()
        );
        assert_eq!(hits[0].1, v, "{reader} on {file}: {k}");
    }
    "✓".into()
}

/// `NAME : value` lines of a text report.
fn colon_lines(s: &str) -> Vec<(String, String)> {
    s.lines()
        .filter_map(|l| l.split_once(" : "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn row(f: &Path, what: &str) -> String {
    let name = f.file_name().unwrap().to_str().unwrap();
    noai(&[
        "tag",
        "--policy",
        "license",
        "--policy-url",
        URL,
        "--constraints",
        CONSTRAINTS,
        f.to_str().unwrap(),
    ])
    .expect(0);
    let same = |k: &str| k.to_string();
    let probe = cell("ffprobe", name, &ffprobe(f).format, same);
    let ext: Vec<(String, String)> = mkvextract_tags(f)
        .into_iter()
        .filter(|(target, ..)| target.is_empty())
        .map(|(_, n, v)| (n, v))
        .collect();
    let mkv = cell("mkvextract", name, &ext, same);
    // ExifTool reads Tags after the Clusters only with -ee (it scans the whole file); it names
    // a SimpleTag in title case without the hyphen.
    let exif = tool_ok(
        Command::new("exiftool")
            .args(["-ee", "-a", "-s", "-G1"])
            .arg(f),
    );
    let exif: Vec<(String, String)> = colon_lines(&exif)
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("[Matroska]").trim().to_string(), v))
        .collect();
    let exif_key = |k: &str| {
        let k = k.replace('-', "").to_lowercase();
        let mut c = k.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let exif = cell("ExifTool", name, &exif, exif_key);
    let mi = colon_lines(&tool_ok(Command::new("mediainfo").arg(f)));
    let mi = cell("MediaInfo", name, &mi, same);
    let m = tool(
        Command::new("python3")
            .args(["-c", "import mutagen,sys; print(mutagen.File(sys.argv[1]))"])
            .arg(f),
    );
    assert_eq!(
        String::from_utf8_lossy(&m.stdout).trim(),
        "None",
        "mutagen now reads {name}"
    );
    let k = tool_ok(Command::new("kid3-cli").args(["-c", "get all"]).arg(f));
    assert!(k.trim().is_empty(), "kid3-cli now reads {name}: {k}");
    let dec = decode_errors(f);
    assert_eq!(dec, "", "{name} does not decode cleanly");
    format!(
        "| `{name}` ({what}) | {probe} format tags | {mkv} | {exif} -ee | {mi} | — [m] | — [m] | ✓ ffmpeg |\n"
    )
}

#[test]
fn matroska_and_webm_readers() {
    let dir = tempdir();
    let rows = [
        row(
            &encode(dir.path(), "flac.mka", "flac"),
            "FLAC, cover attachment",
        ),
        row(
            &encode_cover_track(dir.path(), "cover-track.mka"),
            "FLAC, cover as a picture track",
        ),
        row(&encode(dir.path(), "opus.webm", "libopus"), "Opus"),
        row(&encode(dir.path(), "vorbis.webm", "libvorbis"), "Vorbis"),
    ];
    let md = format!(
        "\nMatroska / WebM (made by ffmpeg in `tests/it/interop/independent_readers_mkv.rs`, tagged the same way; our fields are SimpleTags of a file-level Tag):\n\n\
         | file | ffprobe | mkvextract (mkvtoolnix) | ExifTool | MediaInfo | mutagen | kid3-cli (TagLib) | decodes |\n|---|---|---|---|---|---|---|---|\n{}\n\
         [m] mutagen 1.48 and TagLib 1.13 (kid3-cli) do not read Matroska at all (asserted: mutagen returns no file type, kid3-cli prints nothing). ExifTool 12.57 reads a `Tags` element after the Clusters only with `-ee`, and names a SimpleTag in title case without hyphens (`Tdmreservation`, `Datamining`, `Tdmpolicy`, `Otherconstraints`).\n\n",
        rows.concat()
    );
    publish(1, "zz-matroska", md);
}
