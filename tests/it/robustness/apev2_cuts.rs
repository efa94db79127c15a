//! WavPack and Monkey's Audio files with an APEv2 tag (text, binary cover) and an ID3v1 tag, cut
//! short at every byte of the tail (where the tags are) and of the head, then tagged as one
//! folder: no panic, no hang (time limit), and each file either reported as an error and left
//! byte-identical, or written and then verifying. A tag cut so that its footer is gone is no tag:
//! its remains hold a signature readers would not find, so adding ours is refused.

use std::path::Path;

use crate::common::apev2::{add_id3v1, add_items, untagged};
use crate::common::{tag_damaged, tempdir};

#[test]
fn every_cut_is_an_error_or_a_verified_write() {
    for ext in ["wv", "ape"] {
        let src_dir = tempdir();
        let path = untagged(src_dir.path(), ext);
        add_items(&path);
        add_id3v1(&path);
        let whole = std::fs::read(&path).unwrap();
        let tail = whole.len().saturating_sub(2600);
        let cuts: Vec<usize> = (1..64).chain(tail..whole.len()).step_by(7).collect();
        let dir = tempdir();
        let mut originals = Vec::new();
        for n in cuts {
            let name = format!("cut{n:06}.{ext}");
            std::fs::write(dir.path().join(&name), &whole[..n]).unwrap();
            originals.push((name, whole[..n].to_vec()));
        }
        check(dir.path(), &originals);
    }
}

/// The common promises (`tag_damaged`), and an APE edit never touches the file's head.
fn check(dir: &Path, originals: &[(String, Vec<u8>)]) {
    for name in tag_damaged(dir, originals) {
        let (now, orig) = (
            std::fs::read(dir.join(&name)).unwrap(),
            &originals.iter().find(|o| o.0 == name).unwrap().1,
        );
        assert!(
            now.starts_with(&orig[..orig.len().min(64)]),
            "{name}: head changed"
        );
    }
}
