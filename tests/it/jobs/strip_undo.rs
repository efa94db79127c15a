//! `strip` as an undo of `tag`: for these samples, `tag` then `strip` gives back the original
//! bytes exactly (in-place tags spliced into padding, whole tags or chunks `tag` created, XMP
//! packets that held nothing but ours, FLAC comment blocks resized in place). The samples still
//! missing from this list (MP4, FLAC without padding) keep their audio and other items but not the
//! exact layout: see docs/spec.md.

use crate::common;

use common::*;

const EXACT: [&str; 14] = [
    "mp3-v23-pad.mp3",
    "mp3-v22.mp3",
    "mp3-noid3.mp3",
    "mp3-id3v1-only.mp3",
    "wav-plain.wav",
    "wav-id3.wav",
    "aiff-plain.aiff",
    "aiff-id3.aiff",
    "aifc.aifc",
    "vorbis.ogg",
    "opus.opus",
    "speex.spx",
    "flac-pad.flac",
    "flac-id3prefix.flac",
];

#[test]
fn tag_then_strip_gives_back_the_original_bytes() {
    let dir = tempdir();
    for name in EXACT {
        let f = copy_sample(dir.path(), name);
        let orig = bytes(&f);
        noai(&["tag", p(&f)]).expect(0);
        assert_ne!(bytes(&f), orig, "{name}: tag changed nothing");
        noai(&["verify", p(&f), "--policy", "no-ai-training"]).expect(0);
        noai(&["strip", p(&f)]).expect(0);
        assert!(
            bytes(&f) == orig,
            "{name}: strip did not give back the original bytes"
        );
        noai(&["verify", p(&f)]).expect(1);
    }
}
