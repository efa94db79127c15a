//! Which write strategy each sample gets. In place: the same inode and size (the metadata fits
//! in the existing padding/free space). Rewrite: a new file, which must leave padding so the
//! next change to the reservation fits in place. The JSON `action` names the strategy.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

fn tag_json(f: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["tag", f.to_str().unwrap()];
    args.extend_from_slice(extra);
    noai_json(&args, 0)
}

fn name_of(f: &Path) -> String {
    f.file_name().unwrap().to_string_lossy().into_owned()
}

/// Tags `f` and asserts the write happened in place: same inode, same size, JSON says in-place.
fn assert_in_place(f: &Path, extra: &[&str]) {
    let name = name_of(f);
    let (ino, size, ..) = stat(f);
    let orig = bytes(f);
    let doc = tag_json(f, extra);
    assert_eq!(
        action(&doc, &name),
        ("written".into(), "in-place".into()),
        "{name}: {doc:#}"
    );
    let (ino2, size2, ..) = stat(f);
    assert_eq!(ino2, ino, "{name}: inode changed: not written in place");
    assert_eq!(size2, size, "{name}: size changed: not written in place");
    assert_ne!(
        bytes(f),
        orig,
        "{name}: reported written but the bytes are the same"
    );
}

fn no_leftovers(dir: &Path, keep: &str) {
    assert_eq!(
        others_beside(dir, keep),
        Vec::<String>::new(),
        "temp files or journals left behind in {}",
        dir.display()
    );
}

fn in_place(sample: &str) {
    in_place_with(sample, &[]);
}

fn in_place_with(sample: &str, extra: &[&str]) {
    let dir = tempdir();
    let f = copy_sample(dir.path(), sample);
    assert_in_place(&f, extra);
    noai(&["verify", f.to_str().unwrap(), "--policy", "no-ai-training"]).expect(0);
    no_leftovers(dir.path(), sample);
}

#[test]
fn in_place_flac_pad() {
    in_place("flac-pad.flac");
}

#[test]
fn in_place_mp3_v23_pad() {
    in_place("mp3-v23-pad.mp3");
}

#[test]
fn in_place_opus() {
    in_place("opus.opus");
}

#[test]
fn in_place_m4a_aac_faststart() {
    in_place_with("m4a-aac-faststart.m4a", &["--no-xmp"]);
}

/// The committed ALAC sample has a 1 KiB `free` box after `ilst` (README: "same ilst" as the
/// faststart one), so it fits in place; `rewrite_m4a_without_free_space` covers the MP4 rewrite.
#[test]
fn in_place_m4a_alac() {
    in_place_with("m4a-alac.m4a", &["--no-xmp"]);
}

/// With XMP, a file without an XMP carrier gets one appended (MP4 `uuid` box, WAV `_PMX`
/// chunk): still a patch of the same inode, the audio unmoved and byte-identical; the file
/// grows by exactly the new box or chunk.
fn xmp_append(sample: &str, carrier: &[u8]) {
    let dir = tempdir();
    let f = copy_sample(dir.path(), sample);
    let (ino, size, ..) = stat(&f);
    let md5 = audio_md5(&f);
    let orig = bytes(&f);
    let doc = tag_json(&f, &[]);
    assert_eq!(
        action(&doc, sample),
        ("written".into(), "in-place".into()),
        "{doc:#}"
    );
    let (ino2, size2, ..) = stat(&f);
    assert_eq!(ino2, ino, "{sample}: inode changed");
    assert!(size2 > size, "{sample}: nothing appended");
    let now = bytes(&f);
    assert_eq!(now[..4], orig[..4], "{sample}: container signature changed");
    let appended = &now[size as usize..];
    assert!(
        appended.windows(carrier.len()).any(|w| w == carrier)
            && appended.windows(9).any(|w| w == b"<?xpacket"),
        "{sample}: no XMP {:?} box/chunk in the appended bytes",
        String::from_utf8_lossy(carrier)
    );
    assert_eq!(audio_md5(&f), md5, "{sample}: audio changed");
    noai(&["verify", f.to_str().unwrap(), "--policy", "no-ai-training"]).expect(0);
    no_leftovers(dir.path(), sample);
}

#[test]
fn xmp_append_m4a_aac_faststart() {
    xmp_append("m4a-aac-faststart.m4a", b"uuid");
}

#[test]
fn xmp_append_wav_plain() {
    xmp_append("wav-plain.wav", b"_PMX");
}

/// The offset of the first hole at or after `from` (the end of the file when there is none).
fn first_hole(f: &Path, from: u64) -> u64 {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(f).unwrap();
    let at = unsafe { libc::lseek(file.as_raw_fd(), from as libc::off_t, libc::SEEK_HOLE) };
    assert!(at >= 0, "SEEK_HOLE failed on {}", f.display());
    at as u64
}

/// The ID3 chunk a WAV or AIFF file gets appended carries 8 KiB of zero padding: at least one
/// whole block of it is left as a hole (never written, nor journalled), and reads as zeros.
#[test]
fn an_appended_chunks_padding_is_left_as_a_hole() {
    for sample in ["wav-plain.wav", "aiff-plain.aiff"] {
        let dir = tempdir();
        let f = copy_sample(dir.path(), sample);
        let (_, size, ..) = stat(&f);
        let doc = tag_json(&f, &[]);
        assert_eq!(action(&doc, sample).1, "in-place", "{doc:#}");
        let (_, size2, ..) = stat(&f);
        let hole = first_hole(&f, size);
        assert!(hole < size2, "{sample}: no hole in the appended bytes");
        let now = bytes(&f);
        assert!(now[hole as usize..].starts_with(&[0; 4096]), "{sample}");
        // The written bytes count only what was written.
        let written = doc["summary"]["bytes_written"].as_u64().unwrap();
        assert!(written + 4096 <= size2 - size, "{sample}: {written} bytes");
        noai(&["verify", f.to_str().unwrap()]).expect(0);
        no_leftovers(dir.path(), sample);
    }
}

/// First tag needs a rewrite (new inode, larger file, mode kept, no temp left); a second tag
/// with another policy must then fit in place: the rewrite left padding.
fn rewrite_then_in_place(dir: &Path, f: &Path) {
    let name = name_of(f);
    std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (ino, size, ..) = stat(f);
    let md5 = audio_md5(f);

    let dry = noai_json(&["tag", f.to_str().unwrap(), "--dry-run"], 1);
    assert_eq!(
        action(&dry, &name),
        ("would-write".into(), "rewrite".into()),
        "{name}: dry run: {dry:#}"
    );

    let doc = tag_json(f, &[]);
    assert_eq!(
        action(&doc, &name),
        ("written".into(), "rewrite".into()),
        "{name}: {doc:#}"
    );
    let (ino2, size2, ..) = stat(f);
    assert_ne!(
        ino2, ino,
        "{name}: a rewrite is a new file renamed over the old one"
    );
    assert!(
        size2 > size,
        "{name}: rewritten file did not grow ({size} -> {size2})"
    );
    let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640, "{name}: the rewrite lost the file's mode");
    no_leftovers(dir, &name);
    noai(&["verify", f.to_str().unwrap(), "--policy", "no-ai-training"]).expect(0);

    assert_in_place(f, &["--policy", "no-tdm", "--force"]);
    noai(&["verify", f.to_str().unwrap(), "--policy", "no-tdm"]).expect(0);
    assert_eq!(audio_md5(f), md5, "{name}: audio packets changed");
    no_leftovers(dir, &name);
}

fn rewrite(sample: &str) {
    let dir = tempdir();
    let f = copy_sample(dir.path(), sample);
    rewrite_then_in_place(dir.path(), &f);
}

#[test]
fn rewrite_flac_nopad() {
    rewrite("flac-nopad.flac");
}

#[test]
fn rewrite_mp3_v24_nopad() {
    rewrite("mp3-v24-nopad.mp3");
}

/// A WAV with bytes after its RIFF chunk cannot take an appended chunk: rewritten.
#[test]
fn rewrite_wav_with_trailing_bytes() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "wav-plain.wav");
    let mut b = bytes(&f);
    b.extend_from_slice(b"TRAILING");
    std::fs::write(&f, &b).unwrap();
    rewrite_then_in_place(dir.path(), &f);
    assert!(
        bytes(&f).ends_with(b"TRAILING"),
        "bytes after the RIFF chunk kept"
    );
}

/// m4a-alac re-saved by mutagen with no padding: the reservation cannot fit, the file must be
/// rewritten (moov grows, chunk offsets move) and leave room for the next change.
#[test]
fn rewrite_m4a_without_free_space() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "m4a-alac.m4a");
    let script = "import sys; from mutagen.mp4 import MP4; f = MP4(sys.argv[1]); f.save(padding=lambda info: 0)";
    let out = tool(Command::new("python3").args(["-c", script]).arg(&f));
    assert!(
        out.status.success(),
        "mutagen could not re-save: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = mutagen(&f);
    rewrite_then_in_place(dir.path(), &f);
    assert_eq!(
        others(&mutagen(&f)),
        others(&before),
        "other MP4 tags changed"
    );
    assert_eq!(decode_errors(&f), "", "ffmpeg complains after the rewrite");
}
