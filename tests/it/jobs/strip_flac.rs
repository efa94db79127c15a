//! What `tag` then `strip` gives back for FLAC, as docs/spec.md ("`strip` as an undo") states
//! it: not the original bytes, but every metadata block byte-identical (in another order), the
//! audio frames unchanged (ffmpeg), and for a file with padding the same length and the same
//! number of padding bytes. If a later change makes FLAC come back exactly, this test says so,
//! and docs/spec.md must move the sample to the exact list.

use crate::common;

use common::*;

/// The non-padding blocks, sorted (order is what differs), and the padding bytes with the
/// headers of every padding block but one.
fn blocks_and_padding(b: &[u8]) -> (Vec<(u8, Vec<u8>)>, usize) {
    let all = flac_blocks(b);
    let pads: Vec<usize> = all
        .iter()
        .filter(|(t, _)| *t == 1)
        .map(|(_, d)| d.len())
        .collect();
    let padding = pads.iter().sum::<usize>() + 4 * pads.len().saturating_sub(1);
    let mut kept: Vec<_> = all.into_iter().filter(|(t, _)| *t != 1).collect();
    kept.sort();
    (kept, padding)
}

/// Where the frames start: after the blocks (and the ID3v2 prefix the blocks follow).
fn audio_start(b: &[u8]) -> usize {
    let blocks: usize = flac_blocks(b).iter().map(|(_, d)| 4 + d.len()).sum();
    let marker = b.windows(4).position(|w| w == b"fLaC").unwrap();
    marker + 4 + blocks
}

#[test]
fn flac_comes_back_with_every_block_and_the_audio_but_not_the_layout() {
    let dir = tempdir();
    for (name, padded) in [
        ("flac-pad.flac", true),
        ("flac-id3prefix.flac", true),
        ("flac-nopad.flac", false),
    ] {
        let f = copy_sample(dir.path(), name);
        let orig = bytes(&f);
        let audio = audio_md5(&f);
        noai(&["tag", p(&f)]).expect(0);
        noai(&["strip", p(&f)]).expect(0);
        let now = bytes(&f);
        assert_ne!(now, orig, "{name} came back exactly: update docs/spec.md");
        assert_eq!(audio_md5(&f), audio, "{name}: audio");
        let (was, was_pad) = blocks_and_padding(&orig);
        let (is, is_pad) = blocks_and_padding(&now);
        assert_eq!(is, was, "{name}: the blocks (padding aside)");
        assert!(ours(&mutagen(&f)).is_empty(), "{name}");
        if padded {
            assert_eq!(now.len(), orig.len(), "{name}: length");
            assert_eq!(is_pad, was_pad, "{name}: padding bytes");
            // The frames are where they were: the same bytes at the same offset.
            let at = audio_start(&orig);
            assert_eq!(audio_start(&now), at, "{name}: audio offset");
            assert!(now[at..] == orig[at..], "{name}: frames");
        } else {
            assert!(is_pad >= 8 << 10, "{name}: the rewrite's padding stays");
        }
    }
}
