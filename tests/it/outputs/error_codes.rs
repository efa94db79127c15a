//! Every error report carries a stable code (`error_code`) besides its sentence, the same in JSON,
//! JSONL and CSV: a damaged file, a cut-off one, one another process is writing, one the user may
//! not read or write, one changed between the scan and the write, a refusal, a missing path. Each
//! case runs noai once per format on a temp copy and checks the code and that the file is
//! unchanged. The permission cases run noai as a test user with `setpriv`, the full disk is a
//! loop-mounted ext4 image: both need root.

use crate::common;
use crate::common::loopfs;
use crate::common::system;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use system::*;

/// The machine-readable formats that carry the code.
const FORMATS: [&str; 3] = ["json", "jsonl", "csv"];

/// The `(error_code, error)` of the one file a run reported, read from its `format` output.
fn reported(format: &str, r: &Run) -> (String, String) {
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    match format {
        "json" => {
            let doc = r.json();
            let f = &doc["files"][0];
            assert_eq!(f["status"], "error", "{doc:#}");
            (field(f, "error_code"), field(f, "error"))
        }
        "jsonl" => {
            let line = r.stdout.lines().next().expect("no JSONL line");
            let f: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                (&f["type"], &f["status"]),
                (&"file".into(), &"error".into())
            );
            (field(&f, "error_code"), field(&f, "error"))
        }
        "csv" => {
            let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
            let header = rd.headers().unwrap().clone();
            assert_eq!(
                header.iter().rev().nth(1),
                Some("error_code"),
                "the code is the last column but the C2PA state"
            );
            let at = |name: &str| header.iter().position(|h| h == name).unwrap();
            let row = rd.records().next().expect("no CSV row").unwrap();
            assert_eq!(&row[at("status")], "error", "{}", r.stdout);
            (
                row[at("error_code")].to_string(),
                row[at("error")].to_string(),
            )
        }
        other => unreachable!("{other}"),
    }
}

/// Runs `run(format)` for each format; every one must exit 2 and report `code`, with a
/// sentence containing `says`.
fn expect_code(code: &str, says: &str, mut run: impl FnMut(&str) -> Run) {
    for format in FORMATS {
        let r = run(format).expect(2);
        let (got, message) = reported(format, &r);
        assert_eq!(got, code, "--format {format}: {message}\n{}", r.stdout);
        assert!(message.contains(says), "--format {format}: {message}");
    }
}

fn noai_fmt(args: &[&str], format: &str) -> Run {
    let mut a = args.to_vec();
    a.extend(["--format", format]);
    noai(&a)
}

/// `verify` and `tag` of each file report `code` (with `says`) in every format, and leave the
/// file's bytes as they were.
fn expect_code_unchanged(code: &str, cases: &[(PathBuf, &str)]) {
    for (f, says) in cases {
        let before = bytes(f);
        for job in ["verify", "tag"] {
            expect_code(code, says, |fmt| noai_fmt(&[job, p(f)], fmt));
        }
        assert_eq!(bytes(f), before, "{} was changed", f.display());
    }
}

#[test]
fn a_corrupt_file_is_corrupt() {
    let d = tempdir();
    let f = copy_sample(d.path(), "mp3-v23-pad.mp3");
    // The ID3v2 size is syncsafe: a byte with its top bit set is a broken header.
    let mut b = bytes(&f);
    b[6] |= 0x80;
    std::fs::write(&f, &b).unwrap();
    expect_code_unchanged("corrupt", &[(f, "not syncsafe")]);
}

/// Files that end before what their own headers promise, in every family that can tell: the
/// samples cut short, and an Ogg file cut inside its first page.
#[test]
fn a_truncated_file_is_truncated() {
    let d = tempdir();
    let ogg = d.path().join("cut.opus");
    std::fs::write(&ogg, &bytes(&Path::new(SAMPLES).join("opus.opus"))[..20]).unwrap();
    let cases = [
        (
            copy_sample(d.path(), "broken-truncated.flac"),
            "the file has",
        ),
        (
            copy_sample(d.path(), "broken-truncated.m4a"),
            "but 1064 remain",
        ),
        (
            copy_sample(d.path(), "broken-truncated.mp3"),
            "the ID3v2 tag claims",
        ),
        (copy_sample(d.path(), "broken-empty.mp3"), "empty file"),
        (ogg, "truncated Ogg page"),
    ];
    expect_code_unchanged("truncated", &cases);
}

/// `ffmpeg ARGS out` with a generated input (`-f lavfi -i SOURCE`): valid files of kinds noai
/// does not handle.
fn generated(dir: &Path, name: &str, source: &str, codec: &[&str]) -> PathBuf {
    let out = dir.join(name);
    tool_ok(lavfi(source).args(codec).arg(&out));
    out
}

/// Well-formed files that use something noai does not handle: Theora in Ogg, an Ogg FLAC
/// file with an ID3v1 tag after its last page, a compressed ID3v2.2 tag, and (for writing) a
/// fragmented MP4. (Ogg FLAC itself is supported since issue 13.)
#[test]
fn a_valid_file_noai_does_not_handle_is_unsupported() {
    let d = tempdir();
    let theora = generated(
        d.path(),
        "video.ogg",
        "testsrc=d=0.2:s=64x48",
        &["-c:v", "libtheora"],
    );
    // ID3v2.2 header flag 0x40: compression, which the standard never defined.
    let v22 = copy_sample(d.path(), "mp3-v22.mp3");
    let mut b = bytes(&v22);
    assert_eq!(&b[..4], b"ID3\x02", "the sample's tag is ID3v2.2");
    b[5] |= 0x40;
    std::fs::write(&v22, &b).unwrap();
    let cases = [
        (theora, "unsupported Ogg codec"),
        (v22, "compressed ID3v2.2"),
    ];
    expect_code_unchanged("unsupported", &cases);
    let fragmented = generated(
        d.path(),
        "fragmented.m4a",
        "sine=d=0.2",
        &["-c:a", "aac", "-movflags", "frag_keyframe+empty_moov"],
    );
    let before = bytes(&fragmented);
    noai(&["verify", p(&fragmented)]).expect(1);
    expect_code("unsupported", "fragmented MP4", |fmt| {
        noai_fmt(&["tag", p(&fragmented)], fmt)
    });
    assert_eq!(bytes(&fragmented), before, "a fragmented MP4 was changed");
    // Reading takes only the header pages; writing walks them all and finds the tail.
    let ogg_flac = generated(d.path(), "flac.ogg", "sine=d=0.2", &["-c:a", "flac"]);
    let mut b = bytes(&ogg_flac);
    b.extend_from_slice(b"TAG");
    b.resize(b.len() + 125, b' ');
    std::fs::write(&ogg_flac, &b).unwrap();
    noai(&["verify", p(&ogg_flac)]).expect(1);
    expect_code("unsupported", "after the last Ogg page", |fmt| {
        noai_fmt(&["tag", p(&ogg_flac)], fmt)
    });
    assert_eq!(
        bytes(&ogg_flac),
        b,
        "an Ogg FLAC file with an ID3v1 tag was changed"
    );
}

#[test]
fn a_file_another_process_has_locked_is_busy() {
    let d = tempdir();
    let f = copy_sample(d.path(), "flac-pad.flac");
    let before = bytes(&f);
    // What a running `noai tag` holds while it writes the file.
    let held = std::fs::File::open(&f).unwrap();
    held.lock().expect("flock");
    expect_code("busy", "another process", |fmt| {
        noai_fmt(&["tag", p(&f)], fmt)
    });
    assert_eq!(bytes(&f), before, "a locked file was changed");
    // Reading does not take the lock: verify still reads it.
    noai(&["verify", p(&f)]).expect(1);
    held.unlock().unwrap();
    noai(&["tag", p(&f)]).expect(0);
}

#[test]
fn a_file_the_user_may_not_read_or_write_is_permission() {
    if !is_root("a_file_the_user_may_not_read_or_write_is_permission") {
        return;
    }
    let a = accounts();
    let d = tempdir();
    let bin = shared_binary(d.path());
    // Root's files: one nobody else may read, one everybody may read but not write.
    let secret = copy_as(d.path(), "flac-pad.flac", "secret.flac");
    chmod(&secret, 0o600);
    let theirs = copy_as(d.path(), "flac-pad.flac", "theirs.flac");
    chmod(&theirs, 0o644);
    let before = bytes(&theirs);
    let as_alice = |args: &[&str], fmt: &str| {
        let mut args = args.to_vec();
        args.extend(["--format", fmt]);
        noai_as(&a.alice, &bin, d.path(), &args)
    };
    expect_code("permission", "cannot open", |fmt| {
        as_alice(&["verify", "secret.flac"], fmt)
    });
    expect_code("permission", "no permission to write it", |fmt| {
        as_alice(&["tag", "theirs.flac"], fmt)
    });
    assert_eq!(bytes(&theirs), before, "another user's file was changed");
}

#[test]
fn a_read_only_file_is_permission_even_for_root() {
    let d = tempdir();
    let f = copy_sample(d.path(), "flac-pad.flac");
    chmod(&f, 0o444);
    let before = bytes(&f);
    expect_code("permission", "read-only file", |fmt| {
        noai_fmt(&["tag", p(&f)], fmt)
    });
    assert_eq!(bytes(&f), before);
}

#[test]
fn a_full_disk_is_io_write() {
    if !is_root("a_full_disk_is_io_write") {
        return;
    }
    let fs = loopfs::LoopFs::new(64);
    // A rewrite: its temp file needs room the disk no longer has.
    let f = copy_sample(&fs.mnt, "mp3-noid3.mp3");
    let before = bytes(&f);
    fs.fill_to(0);
    expect_code("io-write", "not enough free space", |fmt| {
        noai_fmt(&["tag", p(&f)], fmt)
    });
    assert_eq!(
        bytes(&f),
        before,
        "a write that did not fit changed the file"
    );
}

/// Uses the debug-build hook `NOAI_TEST_PAUSE_MS`, which holds a run between staging a write and
/// carrying it out, to change the file behind noai's back.
#[test]
fn a_file_changed_between_scan_and_write_is_changed() {
    let d = tempdir();
    let f = copy_sample(d.path(), "flac-pad.flac");
    let mut changed = bytes(&f);
    expect_code("changed", "changed while it was being processed", |fmt| {
        let pause = pause::Pause::new();
        let mut child = pause
            .on(Command::new(env!("CARGO_BIN_EXE_noai")).args(["tag", "--format", fmt, p(&f)]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        pause.wait(&mut child);
        changed.extend_from_slice(b"appended by another program");
        std::fs::write(&f, &changed).unwrap();
        pause.resume();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: vec!["tag".into(), fmt.into()],
        }
    });
    assert_eq!(
        bytes(&f),
        changed,
        "the other program's change was overwritten"
    );
}

#[test]
fn a_rewrite_that_would_split_hard_links_is_refused() {
    let d = tempdir();
    let f = copy_sample(d.path(), "flac-nopad.flac");
    std::fs::hard_link(&f, d.path().join("link.flac")).unwrap();
    let before = bytes(&f);
    expect_code("refused", "hard links", |fmt| {
        noai_fmt(&["tag", p(&f)], fmt)
    });
    assert_eq!(bytes(&f), before);
}

/// The reservation is also in a carrier the job leaves alone (XMP under `--no-xmp`): the write
/// would end in a conflict, so the file is refused.
#[test]
fn a_reservation_in_a_carrier_left_alone_is_refused() {
    let d = tempdir();
    let f = copy_sample(d.path(), "mp3-v23-pad.mp3");
    noai(&["tag", "--policy", "allow", p(&f)]).expect(0);
    let before = bytes(&f);
    expect_code("refused", "not changed", |fmt| {
        noai_fmt(&["tag", "--force", "--no-xmp", p(&f)], fmt)
    });
    assert_eq!(bytes(&f), before);
}

#[test]
fn a_missing_or_unsupported_path_has_its_code() {
    let d = tempdir();
    let missing = d.path().join("missing.mp3");
    expect_code("not-found", "No such file", |fmt| {
        noai_fmt(&["verify", p(&missing)], fmt)
    });
    let wma = d.path().join("song.wma");
    std::fs::write(&wma, b"not audio").unwrap();
    expect_code("unsupported", "not a supported audio file", |fmt| {
        noai_fmt(&["verify", p(&wma)], fmt)
    });
}

/// JUnit names the code in an `<error>`'s `type`; the human output keeps the sentence alone.
#[test]
fn junit_types_an_error_by_its_code_and_human_output_is_unchanged() {
    let d = tempdir();
    let f = copy_sample(d.path(), "broken-truncated.flac");
    let r = noai_fmt(&["verify", p(&f)], "junit").expect(2);
    assert!(r.stdout.contains(r#"type="truncated""#), "{}", r.stdout);
    let r = noai(&["verify", p(&f)]).expect(2);
    assert!(r.stdout.contains("truncated or corrupt"), "{}", r.stdout);
    assert!(!r.stdout.contains("error_code"), "{}", r.stdout);
}
