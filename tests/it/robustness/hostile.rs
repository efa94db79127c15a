//! Hostile and broken files generated from the samples: every sample cut short at every byte of
//! its first 2 KiB (where the headers, tags and block/box/chunk tables are) and at a spread of
//! points after; size fields inflated to claim far more than the file holds, or zero. For each:
//! no panic, no hang (the run has a time limit), a clear error or a correct result, and an
//! error never changes the file. A file that is tagged anyway must verify afterwards.

use crate::common;

use std::path::Path;

use common::*;

const SAMPLES_TO_CUT: [&str; 12] = [
    "mp3-v23-pad.mp3",
    "mp3-v22.mp3",
    "wav-id3.wav",
    "aiff-id3.aiff",
    "flac-pad.flac",
    "flac-id3prefix.flac",
    "vorbis.ogg",
    "opus.opus",
    "speex.spx",
    "m4a-aac-faststart.m4a",
    "m4a-aac-moovend.m4a",
    "m4b-book.m4b",
];

/// Cut points: every byte of the first 1 KiB, then 32 more spread over the rest.
fn cuts(len: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (1..len.min(1024)).collect();
    if len > 1024 {
        c.extend((0..32).map(|i| 1024 + (len - 1024) * i / 32));
    }
    c
}

#[test]
fn every_truncation_is_an_error_or_a_correct_result() {
    for sample in SAMPLES_TO_CUT {
        let dir = tempdir();
        let orig = std::fs::read(Path::new(SAMPLES).join(sample)).unwrap();
        let ext = Path::new(sample).extension().unwrap().to_str().unwrap();
        let mut originals = Vec::new();
        for cut in cuts(orig.len()) {
            let name = format!("cut-{cut:06}.{ext}");
            std::fs::write(dir.path().join(&name), &orig[..cut]).unwrap();
            originals.push((name, orig[..cut].to_vec()));
        }
        tag_damaged(dir.path(), &originals);
    }
}

/// Every 4-byte big- or little-endian size field in the first 256 bytes, set to 0, to 0xFFFFFFFF
/// and to 0x7FFFFFF0: loops, zero-size boxes/chunks/blocks, claims of gigabytes.
#[test]
fn inflated_and_zeroed_size_fields_never_panic_or_damage() {
    for sample in SAMPLES_TO_CUT {
        let dir = tempdir();
        let orig = std::fs::read(Path::new(SAMPLES).join(sample)).unwrap();
        let ext = Path::new(sample).extension().unwrap().to_str().unwrap();
        let mut originals = Vec::new();
        for at in (0..orig.len().min(256).saturating_sub(4)).step_by(2) {
            for (k, v) in [[0u8; 4], [0xFF; 4], [0x7F, 0xFF, 0xFF, 0xF0]]
                .iter()
                .enumerate()
            {
                let mut b = orig.clone();
                b[at..at + 4].copy_from_slice(v);
                let name = format!("f{at:04}-{k}.{ext}");
                std::fs::write(dir.path().join(&name), &b).unwrap();
                originals.push((name, b));
            }
        }
        tag_damaged(dir.path(), &originals);
    }
}
