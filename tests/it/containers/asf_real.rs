//! ASF (WMA) against real tools: ffmpeg encodes WMA v2, mutagen adds attributes of every kind
//! (a DWORD track number, a WM/Picture byte array, a Metadata Library attribute with a
//! language) and padding. `noai tag` must write in place into the padding (or rewrite the header
//! when there is none), `verify` must pass, mutagen, ffprobe and kid3-cli must read our values
//! (ExifTool, which lists no unknown attribute, the File Properties' file length), every
//! other attribute and header object must read back the same in mutagen, the audio packets'
//! MD5 must not change, and `strip` must give back exactly the attributes from before.
//! Hostile and truncated copies are refused with a clear code and left unchanged.
//! A missing tool fails the test: a skipped check would look like a pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::readers::kid3;
use crate::common::{audio_md5, decode_errors, lavfi, noai, tempdir, tool_ok};

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

/// Every attribute mutagen reads (name, type, value, language, stream) and the header objects.
const DUMP: &str = "import sys, json, mutagen.asf as m\n\
f = m.ASF(sys.argv[1])\n\
v = lambda x: x.hex() if isinstance(x, bytes) else str(x)\n\
attrs = [[k, type(a).__name__, v(a.value), a.language, a.stream] for k, a in f.tags]\n\
objs = [type(o).__name__ for o in f._header.objects]\n\
print(json.dumps({'attrs': attrs, 'objects': objs}))";

/// mutagen adds an album, a DWORD track, a picture (the PNG at argv 3), a Metadata Library attribute with a
/// language, and saves with `pad` bytes of padding.
const ENRICH: &str = "import sys, mutagen.asf as m\n\
f = m.ASF(sys.argv[1])\n\
f['WM/AlbumTitle'] = 'Album \u{e9}'\n\
f['WM/TrackNumber'] = m.ASFDWordAttribute(7)\n\
png = open(sys.argv[3], 'rb').read()\n\
pic = b'\\x03' + len(png).to_bytes(4, 'little') + 'image/png\\0'.encode('utf-16-le') + 'c\\0'.encode('utf-16-le') + png\n\
f['WM/Picture'] = m.ASFByteArrayAttribute(pic)\n\
f['WM/Lyrics'] = [m.ASFUnicodeAttribute('la la', language=1)]\n\
f.save(padding=lambda i: int(sys.argv[2]))";

fn dump(path: &Path) -> Value {
    let out = tool_ok(Command::new("python3").args(["-c", DUMP]).arg(path));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("mutagen dump {out:?}: {e}"))
}

/// The attributes that are not ours, and the header objects but the padding.
fn others(d: &Value) -> (Vec<Value>, Vec<Value>) {
    let attrs = d["attrs"].as_array().unwrap();
    let ours = |a: &&Value| matches!(a[0].as_str(), Some("TDM-RESERVATION" | "DATAMINING"));
    let objs = d["objects"].as_array().unwrap();
    (
        attrs.iter().filter(|a| !ours(a)).cloned().collect(),
        objs.iter()
            .filter(|o| *o != "PaddingObject" && *o != "ExtendedContentDescriptionObject")
            .cloned()
            .collect(),
    )
}

fn ours(d: &Value) -> Vec<(String, String)> {
    let attrs = d["attrs"].as_array().unwrap();
    attrs
        .iter()
        .filter(|a| matches!(a[0].as_str(), Some("TDM-RESERVATION" | "DATAMINING")))
        .map(|a| (a[0].as_str().unwrap().into(), a[2].as_str().unwrap().into()))
        .collect()
}

/// A WMA v2 file from ffmpeg, with a title, an artist and a genre (no padding object).
fn encode(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    tool_ok(
        lavfi("sine=frequency=440:duration=1")
            .args(["-c:a", "wmav2", "-b:a", "64k"])
            .args(["-metadata", "title=Song", "-metadata", "artist=Band"])
            .args(["-metadata", "genre=Rock"])
            .arg(&path),
    );
    path
}

fn enrich(path: &Path, pad: u32) {
    let png = path.with_extension("png");
    tool_ok(
        lavfi("color=c=red:s=16x16")
            .args(["-frames:v", "1"])
            .arg(&png),
    );
    tool_ok(
        Command::new("python3")
            .args(["-c", ENRICH])
            .arg(path)
            .arg(pad.to_string())
            .arg(&png),
    );
}

fn ffprobe_tags(path: &Path) -> Value {
    let out = tool_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format_tags", "-of", "json"])
            .arg(path),
    );
    serde_json::from_str::<Value>(&out).unwrap()["format"]["tags"].clone()
}

/// The File Properties' file size field (40 bytes into the object).
fn file_size_field(b: &[u8]) -> u64 {
    let guid = [0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11];
    let at = b
        .windows(8)
        .position(|w| w == guid)
        .expect("File Properties");
    u64::from_le_bytes(b[at + 40..at + 48].try_into().unwrap())
}

fn strategy(path: &Path, cmd: &str) -> String {
    let p = path.to_str().unwrap();
    let doc = noai(&[cmd, p, "--format", "json"]).expect(0).json();
    doc["files"][0]["action"]["strategy"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

/// tag, verify, readers, audio, strip: the whole round on one file; returns tag's strategy.
fn round(path: &Path) -> String {
    let before = dump(path);
    let md5 = audio_md5(path);
    let len = std::fs::metadata(path).unwrap().len();
    // mutagen's saves leave the File Properties' file size as it was: keep its distance.
    let skew = |b: &[u8]| file_size_field(b) as i64 - b.len() as i64;
    let was_skew = skew(&std::fs::read(path).unwrap());
    let how = strategy(path, "tag");
    noai(&["verify", path.to_str().unwrap()]).expect(0);
    let after = dump(path);
    assert_eq!(
        ours(&after),
        [
            ("TDM-RESERVATION".to_string(), "1".to_string()),
            ("DATAMINING".into(), DMI.into())
        ]
    );
    assert_eq!(
        others(&after),
        others(&before),
        "other attributes/objects kept"
    );
    let probe = ffprobe_tags(path);
    assert_eq!(probe["TDM-RESERVATION"], "1", "ffprobe: {probe}");
    assert_eq!(probe["DATAMINING"], DMI, "ffprobe: {probe}");
    let kid3 = kid3(path).expect("kid3-cli opens the file");
    for (k, v) in [("TDM-RESERVATION", "1"), ("DATAMINING", DMI)] {
        let n = kid3.iter().filter(|(a, b)| a == k && b == v).count();
        assert_eq!(n, 1, "kid3-cli: {k} = {v} once: {kid3:?}");
    }
    // ExifTool (which does not list unknown attributes) reads the File Properties' length.
    let exif = tool_ok(
        Command::new("exiftool")
            .args(["-s3", "-n", "-ASF:FileLength"])
            .arg(path),
    );
    let field = file_size_field(&std::fs::read(path).unwrap());
    assert_eq!(exif.trim(), field.to_string(), "ExifTool's ASF:FileLength");
    assert_eq!(audio_md5(path), md5, "audio packets unchanged");
    assert_eq!(decode_errors(path), "", "ffmpeg decodes the tagged file");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        skew(&bytes),
        was_skew,
        "the file size field moves with the file"
    );
    if how == "in-place" {
        assert_eq!(bytes.len() as u64, len, "in place: same length");
    }
    strategy(path, "strip");
    assert_eq!(
        dump(path)["attrs"],
        before["attrs"],
        "strip gives back every attribute"
    );
    assert_eq!(audio_md5(path), md5);
    noai(&["verify", path.to_str().unwrap()]).expect(1);
    how
}

#[test]
fn wma_with_padding_is_tagged_in_place_and_stripped_back() {
    let dir = tempdir();
    let f = encode(dir.path(), "padded.wma");
    enrich(&f, 4096);
    assert_eq!(round(&f), "in-place");
}

#[test]
fn wma_without_padding_gets_a_new_header_and_a_right_file_size() {
    let dir = tempdir();
    let f = encode(dir.path(), "plain.wma");
    let b = std::fs::read(&f).unwrap();
    assert_eq!(
        file_size_field(&b),
        b.len() as u64,
        "ffmpeg writes the real size"
    );
    let plain = f.with_file_name("enriched.asf");
    std::fs::copy(&f, &plain).unwrap();
    enrich(&plain, 0);
    assert_eq!(round(&f), "rewrite");
    assert_eq!(round(&plain), "rewrite");
    // The rewrite left padding: the next tag goes in place.
    assert_eq!(strategy(&plain, "tag"), "in-place");
}

/// `bytes` with a Header Object sub-object `obj` appended (header size and count updated).
fn with_object(bytes: &[u8], obj: &[u8]) -> Vec<u8> {
    let size = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let mut out = bytes[..size].to_vec();
    out.extend(obj);
    out[16..24].copy_from_slice(&((size + obj.len()) as u64).to_le_bytes());
    out[24..28].copy_from_slice(&(count + 1).to_le_bytes());
    out.extend(&bytes[size..]);
    out
}

#[test]
fn hostile_truncated_protected_and_video_asf_are_refused_unchanged() {
    let dir = tempdir();
    let good = std::fs::read(encode(dir.path(), "good.wma")).unwrap();
    let header = u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    // Content Encryption (DRM): GUID 2211B3FB-BD23-11D2-B4B7-00A0C955FC6E, an empty body.
    let mut drm = vec![
        0xFB, 0xB3, 0x11, 0x22, 0x23, 0xBD, 0xD2, 0x11, 0xB4, 0xB7, 0x00, 0xA0, 0xC9, 0x55, 0xFC,
        0x6E,
    ];
    drm.extend(24u64.to_le_bytes());
    let mut count = good.clone();
    count[24] += 1;
    let mut size = good.clone();
    size[30 + 16..30 + 24].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut cases: Vec<(String, Vec<u8>, &str)> = vec![
        ("drm".into(), with_object(&good, &drm), "unsupported"),
        ("count".into(), count, "corrupt"),
        ("object-size".into(), size, "corrupt"),
    ];
    for n in [16, 29, 100, header - 10, header + 10, header + 200] {
        cases.push((format!("cut-{n}"), good[..n].to_vec(), "truncated"));
    }
    let video = dir.path().join("video.asf");
    tool_ok(
        lavfi("testsrc=duration=0.2:size=64x48")
            .args(["-c:v", "wmv2"])
            .arg(&video),
    );
    cases.push((
        "video".into(),
        std::fs::read(&video).unwrap(),
        "unsupported",
    ));
    for (name, bytes, code) in cases {
        let p = dir.path().join(format!("{name}.wma"));
        std::fs::write(&p, &bytes).unwrap();
        let run = noai(&["tag", p.to_str().unwrap(), "--format", "json"]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        let file = &run.json()["files"][0];
        assert_eq!(file["error_code"], code, "{name}: {file}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}: file unchanged");
    }
}

/// mutagen puts an attribute with a language into the Metadata Library: `verify` reads it
/// there, and `strip`, which writes only the Extended Content Description, refuses rather than
/// leave a reservation behind.
#[test]
fn a_reservation_in_the_metadata_library_is_read_and_strip_refuses() {
    let dir = tempdir();
    let f = encode(dir.path(), "library.wma");
    let script = "import sys, mutagen.asf as m\n\
        f = m.ASF(sys.argv[1])\n\
        f['TDM-RESERVATION'] = [m.ASFUnicodeAttribute('1', language=1)]\n\
        f.save()";
    tool_ok(Command::new("python3").args(["-c", script]).arg(&f));
    let p = f.to_str().unwrap();
    let doc = noai(&["show", p, "--format", "json"]).expect(0).json();
    let carriers = doc["files"][0]["carriers"].as_array().unwrap().clone();
    let place = |c: &Value| c["kind"]["place"].as_str().unwrap_or("").to_string();
    assert_eq!(place(&carriers[0]), "Metadata Library", "{carriers:?}");
    let keys: Vec<&str> = carriers[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    assert!(keys.contains(&"TDM-RESERVATION"), "{keys:?}");
    let before = std::fs::read(&f).unwrap();
    let run = noai(&["strip", p, "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("Metadata Library"), "{}", run.stdout);
    assert_eq!(std::fs::read(&f).unwrap(), before, "file unchanged");
}

/// The proof is not for show: a planned header whose `WM/Picture` PNG is damaged (the debug
/// hook flips the case of `IHDR` in the new bytes) is refused by the independent walker, and
/// the file is left as it was.
#[test]
fn the_proof_refuses_a_header_that_would_change_the_picture() {
    let dir = tempdir();
    let f = encode(dir.path(), "proof.wma");
    enrich(&f, 0);
    let before = std::fs::read(&f).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
    cmd.args(["tag", "--format", "json"])
        .arg(&f)
        .env("NO_COLOR", "1")
        .env("NOAI_TEST_CORRUPT", "IHDR");
    let out = crate::common::tool(&mut cmd);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &doc["files"][0];
    assert_eq!(file["error_code"], "refused", "{file}");
    let msg = file["error"].as_str().unwrap();
    assert!(msg.contains("ASF attribute WM/Picture"), "{msg}");
    assert_eq!(std::fs::read(&f).unwrap(), before, "file unchanged");
}
