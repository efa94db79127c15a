//! What `tag` then `strip` gives back for FLAC, as docs/spec.md ("`strip` as an undo") states
//! it. In place (the file has padding): the original bytes exactly (SHA-256), and after `tag`
//! metaflac lists the same blocks with the same contents apart from our two comments and the
//! padding (the comment block may have moved to the padding, past large pictures, which `tag`
//! then does not write again). Rewritten (no padding): every block
//! byte-identical, the audio frames unchanged (ffmpeg), plus the rewrite's padding.

use std::path::Path;
use std::process::Command;

use crate::common;

use common::*;

/// `metaflac --list` block by block, with what `tag` may change left out: our comments, the
/// comment count, the length of the comment block, the padding blocks, the block numbers, a
/// comment block holding only ours under our vendor string (one `tag` created), and where the
/// comment block is (listed last; the other blocks keep their order).
fn listing(f: &Path) -> Vec<Vec<String>> {
    let out = tool_ok(Command::new("metaflac").arg("--list").arg(f));
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in out.lines() {
        if line.starts_with("METADATA block #") {
            blocks.push(Vec::new());
            continue;
        }
        let Some(block) = blocks.last_mut() else {
            panic!("metaflac --list: {line:?} before the first block")
        };
        let sized = block
            .first()
            .is_some_and(|t| t.contains("VORBIS_COMMENT") || t.contains("PADDING"));
        let ours = line.contains("TDM-RESERVATION=") || line.contains("DATAMINING=");
        let resized = sized && (line.starts_with("  length: ") || line.starts_with("  comments: "));
        if !ours && !resized {
            block.push(line.to_string());
        }
    }
    blocks.retain(|b| !b.iter().any(|l| l.contains("vendor string: noai")));
    blocks.retain(|b| !b.first().is_some_and(|t| t.contains("PADDING")));
    let comments = |b: &Vec<String>| b.first().is_some_and(|t| t.contains("VORBIS_COMMENT"));
    let (vc, mut others): (Vec<_>, Vec<_>) = blocks.into_iter().partition(comments);
    others.extend(vc);
    others
}

/// Where the frames start: after the blocks (and the ID3v2 prefix the blocks follow).
fn audio_start(b: &[u8]) -> usize {
    let blocks: usize = flac_blocks(b).iter().map(|(_, d)| 4 + d.len()).sum();
    let marker = b.windows(4).position(|w| w == b"fLaC").unwrap();
    marker + 4 + blocks
}

/// A copy of flac-pad with two more pictures (20,000 and 5,000 bytes), a SEEKTABLE (metaflac)
/// and an APPLICATION block before the padding (metaflac 1.4 cannot add one: spliced here, then
/// read back by metaflac). Its comment block sits before four blocks that `tag` must shift.
fn many_blocks(dir: &Path) -> std::path::PathBuf {
    let f = copy_as(dir, "flac-pad.flac", "many-blocks.flac");
    let pic = |name: &str, len: usize| {
        let path = dir.join(name);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        std::fs::write(&path, data).unwrap();
        path
    };
    let (back, leaflet) = (pic("back.bin", 20_000), pic("leaflet.bin", 5_000));
    tool_ok(
        Command::new("metaflac")
            .arg(format!(
                "--import-picture-from=4|image/jpeg|back|300x300x24/0|{}",
                p(&back)
            ))
            .arg(format!(
                "--import-picture-from=5|image/png|leaflet|10x10x24/0|{}",
                p(&leaflet)
            ))
            .arg("--add-seekpoint=1s")
            .arg(&f),
    );
    let mut b = bytes(&f);
    let pad = padding_offset(&b);
    // metaflac prints the data as text: it ends in a newline so the next block starts a line.
    let mut app = vec![2, 0, 0, 13];
    app.extend_from_slice(b"noaiapp-data\n");
    b.splice(pad..pad, app);
    std::fs::write(&f, &b).unwrap();
    let list = tool_ok(Command::new("metaflac").arg("--list").arg(&f));
    assert!(list.contains("type: 2 (APPLICATION)"), "{list}");
    assert_eq!(list.matches("type: 6 (PICTURE)").count(), 3, "{list}");
    f
}

/// The offset of the PADDING block's header (a file with no ID3v2 prefix).
fn padding_offset(b: &[u8]) -> usize {
    let mut at = 4;
    while b[at] & 0x7f != 1 {
        assert_eq!(b[at] & 0x80, 0, "no PADDING block");
        at += 4
            + usize::from(b[at + 1]) * 65536
            + usize::from(b[at + 2]) * 256
            + usize::from(b[at + 3]);
    }
    at
}

/// A copy of flac-pad without its comment block (metaflac removes it; the padding stays).
fn no_comments(dir: &Path) -> std::path::PathBuf {
    let f = copy_as(dir, "flac-pad.flac", "no-comments.flac");
    tool_ok(
        Command::new("metaflac")
            .args([
                "--remove",
                "--block-type=VORBIS_COMMENT",
                "--dont-use-padding",
            ])
            .arg(&f),
    );
    let list = tool_ok(Command::new("metaflac").arg("--list").arg(&f));
    assert!(!list.contains("VORBIS_COMMENT"), "{list}");
    f
}

#[test]
fn flac_with_padding_comes_back_exactly() {
    let dir = tempdir();
    let files = [
        copy_sample(dir.path(), "flac-pad.flac"),
        copy_sample(dir.path(), "flac-id3prefix.flac"),
        many_blocks(dir.path()),
        no_comments(dir.path()),
    ];
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let orig = bytes(&f);
        let (audio, list) = (audio_md5(&f), listing(&f));
        let run = noai(&["tag", "--format", "json", p(&f)]).expect(0);
        let written = run.json()["files"][0]["action"]["bytes"].as_u64().unwrap();
        // Cover art is not written again: the comment block moves past it instead.
        assert!(written < 2048, "{name}: tag wrote {written} bytes");
        let tagged = bytes(&f);
        assert_ne!(tagged, orig, "{name}: tag changed nothing");
        assert_eq!(tagged.len(), orig.len(), "{name}: tag was not in place");
        assert_eq!(listing(&f), list, "{name}: metaflac --list after tag");
        let at = audio_start(&orig);
        assert!(tagged[at..] == orig[at..], "{name}: the frames moved");
        noai(&["strip", p(&f)]).expect(0);
        assert_eq!(
            sha256_hex(&bytes(&f)),
            sha256_hex(&orig),
            "{name}: strip did not give back the original bytes"
        );
        assert_eq!(audio_md5(&f), audio, "{name}: audio");
        noai(&["verify", p(&f)]).expect(1);
    }
}

/// The non-padding blocks, in order.
fn blocks(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    flac_blocks(b)
        .into_iter()
        .filter(|(t, _)| *t != 1)
        .collect()
}

#[test]
fn flac_without_padding_comes_back_with_every_block_and_the_rewrites_padding() {
    let dir = tempdir();
    let f = copy_sample(dir.path(), "flac-nopad.flac");
    let orig = bytes(&f);
    let audio = audio_md5(&f);
    noai(&["tag", p(&f)]).expect(0);
    noai(&["strip", p(&f)]).expect(0);
    let now = bytes(&f);
    assert_eq!(audio_md5(&f), audio, "audio");
    assert_eq!(
        blocks(&now),
        blocks(&orig),
        "the blocks (padding aside), in order"
    );
    assert!(ours(&mutagen(&f)).is_empty());
    let padding: Vec<usize> = flac_blocks(&now)
        .iter()
        .filter(|(t, _)| *t == 1)
        .map(|(_, d)| d.len())
        .collect();
    assert_eq!(padding.len(), 1, "one padding block");
    assert!(padding[0] >= 8 << 10, "the rewrite's padding stays");
}
