//! The committed samples of issue 13's containers (sample-audio/make-samples `make_more`): each
//! is untagged, `tag` makes it verify, a reader we did not write shows our fields and still the
//! file's own title, the audio packets hash the same (ffmpeg) and decode cleanly, and `strip`
//! takes ours away again. The container tests (rf64_dsd, ogg_flac, apev2_real, asf_real,
//! mkv_real) go much further on files they make; this keeps the samples themselves honest.

use crate::common;

use std::path::Path;

use common::readers::ffprobe;
use common::*;

/// Sample, whether ffprobe reads its tags (ffmpeg's DSDIFF demuxer skips the ID3 chunk: mutagen
/// reads that one), and whether it carries a title of its own (the RF64 one has no tags).
const MORE: [(&str, bool, bool); 9] = [
    ("rf64.wav", true, false),
    ("ogg-flac.oga", true, true),
    ("wavpack.wv", true, true),
    ("tta.tta", true, true),
    ("wma.wma", true, true),
    ("mka-flac.mka", true, true),
    ("webm-opus.webm", true, true),
    ("dsf.dsf", true, true),
    ("dsdiff.dff", false, true),
];

/// Every tag a reader we did not write shows: ffprobe's format and stream tags, or mutagen's.
fn shown(f: &Path, probe: bool) -> Vec<(String, String)> {
    if probe {
        let p = ffprobe(f);
        p.format.into_iter().chain(p.streams).collect()
    } else {
        mutagen_tags(f)
            .into_iter()
            .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
            .collect()
    }
}

/// The sample's own title, as ID3 (`TIT2`) or as a plain `TITLE`/`Title` field.
fn titled(fields: &[(String, String)]) -> bool {
    has(fields, "TITLE", "Sample Tone") || has(fields, "TIT2", "Sample Tone")
}

fn has(fields: &[(String, String)], key: &str, value: &str) -> bool {
    fields
        .iter()
        .any(|(k, v)| k.to_ascii_uppercase().ends_with(key) && v == value)
}

#[test]
fn each_new_container_sample_tags_verifies_and_strips() {
    let dir = tempdir();
    for (name, probe, title) in MORE {
        let f = copy_sample(dir.path(), name);
        let fs = f.to_str().unwrap();
        let md5 = audio_md5(&f);
        noai(&["verify", fs]).expect(1);
        assert_eq!(
            titled(&shown(&f, probe)),
            title,
            "{name}: its own title before"
        );
        noai(&["tag", fs]).expect(0);
        noai(&["verify", fs]).expect(0);
        let after = shown(&f, probe);
        assert!(has(&after, "TDM-RESERVATION", "1"), "{name}: {after:?}");
        assert!(
            after
                .iter()
                .any(|(_, v)| v.ends_with("DMI-PROHIBITED-AIMLTRAINING")),
            "{name}: {after:?}"
        );
        assert_eq!(
            titled(&after),
            title,
            "{name}: its own title after: {after:?}"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets");
        assert_eq!(decode_errors(&f), "", "{name}: ffmpeg decode");
        noai(&["strip", fs]).expect(0);
        noai(&["verify", fs]).expect(1);
        assert!(
            !has(&shown(&f, probe), "TDM-RESERVATION", "1"),
            "{name}: strip left ours"
        );
        assert_eq!(audio_md5(&f), md5, "{name}: audio packets after strip");
    }
}
