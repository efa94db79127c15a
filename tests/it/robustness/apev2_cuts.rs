//! WavPack and Monkey's Audio files with an APEv2 tag (text, binary cover) and an ID3v1 tag, cut
//! short at every byte of the tail (where the tags are) and of the head, then tagged as one
//! folder: no panic, no hang (time limit), and each file either reported as an error and left
//! byte-identical, or written and then verifying. A tag cut so that its footer is gone is no tag:
//! its remains hold a signature readers would not find, so adding ours is refused.

use std::path::Path;

use crate::common::apev2::{add_id3v1, add_items, untagged};
use crate::common::{file_entry, noai, tempdir};

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

fn check(dir: &Path, originals: &[(String, Vec<u8>)]) {
    let run = noai(&["tag", dir.to_str().unwrap(), "--format", "json", "-j", "2"]);
    assert!(
        matches!(run.code, 0..=2),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let doc = run.json();
    for (name, orig) in originals {
        let e = file_entry(&doc, name);
        let now = std::fs::read(dir.join(name)).unwrap();
        if e["status"] == "error" {
            let msg = e["error"].as_str().unwrap_or("");
            assert!(
                !msg.is_empty() && !msg.contains("internal error"),
                "{name}: {msg:?}"
            );
            assert_eq!(&now, orig, "{name}: reported as an error but changed");
        } else if now != *orig {
            assert!(
                now.starts_with(&orig[..orig.len().min(64)]),
                "{name}: head changed"
            );
            let p = dir.join(name);
            noai(&["verify", p.to_str().unwrap()]).expect(0);
        }
    }
}
