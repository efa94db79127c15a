//! MP3s with junk before the first audio frame (between the ID3v2 tag and the frames, or at the
//! start of an untagged file): mutagen and ffmpeg skip it, so we must too. The junk is kept
//! byte-identical, the file is tagged, and mutagen and ffmpeg see the same audio and other tags.

use crate::common;

use std::path::Path;

use common::*;

const JUNK: &[u8] = b"JUNK left by an old ripper\x00\x01\x02 -- not audio, not a tag --";

/// The bytes of `path` from `from` on, with `junk` inserted there.
fn with_junk(path: &Path, from: usize, junk: &[u8]) {
    let mut b = bytes(path);
    b.splice(from..from, junk.iter().copied());
    std::fs::write(path, b).unwrap();
}

fn tagged_with_junk_kept(f: &Path, junk_at: usize) {
    let (before, md5) = (mutagen(f), audio_md5(f));
    let tail = bytes(f)[junk_at..].to_vec();
    noai(&["tag", p(f)]).expect(0);
    noai(&["verify", p(f), "--policy", "no-ai-training"]).expect(0);
    let after = mutagen(f);
    assert_eq!(others(&after), others(&before), "other tags as before");
    assert_eq!(ours(&after)["TDM-RESERVATION"], "1", "mutagen reads ours");
    assert_eq!(audio_md5(f), md5, "ffmpeg's audio is unchanged");
    let now = bytes(f);
    assert!(
        now.ends_with(&tail),
        "the junk and everything after it stay byte-identical"
    );
}

#[test]
fn junk_between_the_tag_and_the_first_frame_is_kept() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "mp3-v23-pad.mp3");
    let tag_len = {
        let b = bytes(&f);
        let s = &b[6..10];
        10 + s
            .iter()
            .fold(0usize, |a, &x| (a << 7) | usize::from(x & 0x7F))
    };
    with_junk(&f, tag_len, JUNK);
    tagged_with_junk_kept(&f, tag_len);
}

#[test]
fn junk_before_the_first_frame_of_an_untagged_file_is_kept() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "mp3-noid3.mp3");
    assert!(
        !bytes(&f).starts_with(b"ID3"),
        "the sample has no ID3v2 tag"
    );
    with_junk(&f, 0, JUNK);
    tagged_with_junk_kept(&f, 0);
}

#[test]
fn junk_without_frames_after_it_is_an_error_that_says_what_was_found() {
    let dir = tempdir();
    let f = dir.path().join("notes.mp3");
    std::fs::write(&f, JUNK.repeat(50)).unwrap();
    let r = noai(&["tag", p(&f)]).expect(2);
    assert!(
        r.stdout.contains("not a supported audio file"),
        "{}",
        r.stdout
    );
    assert_eq!(bytes(&f), JUNK.repeat(50));
}
