//! Unit tests of the FLAC block patcher on synthetic streams.

use super::*;
use crate::formats::testutil::{apply, source_of};

fn block(kind: u8, data: &[u8], last: bool) -> Vec<u8> {
    let mut out = header(kind, data.len() as u64, last).to_vec();
    out.extend_from_slice(data);
    out
}

fn flac(blocks: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    for (i, (k, d)) in blocks.iter().enumerate() {
        out.extend(block(*k, d, i + 1 == blocks.len()));
    }
    out.extend_from_slice(&[0xFF, 0xF8, 1, 2, 3, 4, 5]);
    out
}

fn vc(entries: &[&str]) -> Vec<u8> {
    Comments {
        vendor: b"ref".to_vec(),
        entries: entries.iter().map(|e| e.as_bytes().to_vec()).collect(),
    }
    .encode()
}

fn set(v: &str) -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), v.into())],
        ..Default::default()
    }
}

fn values(bytes: &[u8]) -> Vec<String> {
    let src = source_of(bytes);
    let c = carriers(&src).unwrap();
    c.last()
        .unwrap()
        .fields
        .iter()
        .map(|f| format!("{}={}", f.key, f.value))
        .collect()
}

#[test]
fn grows_into_padding_in_place_keeping_other_blocks() {
    let picture = vec![9u8; 300];
    let old = flac(&[
        (0, vec![1; 34]),
        (4, vc(&["TITLE=x"])),
        (6, picture.clone()),
        (1, vec![0; 200]),
    ]);
    let src = source_of(&old);
    let plan = plan(&src, &set("1")).unwrap().unwrap();
    assert!(plan.single().is_some());
    let new = apply(&old, &plan);
    assert_eq!(new.len(), old.len());
    assert_eq!(values(&new), ["TITLE=x", "TDM-RESERVATION=1"]);
    assert!(
        new.windows(300).any(|w| w == picture.as_slice()),
        "picture kept"
    );
    assert_eq!(
        &new[new.len() - 7..],
        &old[old.len() - 7..],
        "audio untouched"
    );
}

#[test]
fn no_padding_means_rewrite_with_fresh_padding() {
    let old = flac(&[(0, vec![1; 34]), (6, vec![9; 50]), (4, vc(&["TITLE=x"]))]);
    let src = source_of(&old);
    let plan = plan(&src, &set("1")).unwrap().unwrap();
    assert!(matches!(plan, Plan::Rewrite { .. }));
    let new = apply(&old, &plan);
    assert_eq!(values(&new), ["TITLE=x", "TDM-RESERVATION=1"]);
    let nsrc = source_of(&new);
    let lay = layout(&nsrc).unwrap();
    let pad = lay.blocks.iter().find(|b| b.kind == PADDING).unwrap();
    assert_eq!(pad.len as usize, crate::formats::REWRITE_PADDING);
    assert_eq!(
        lay.blocks.iter().map(|b| b.kind).collect::<Vec<_>>(),
        [0, 6, 4, 1],
        "order kept, padding last"
    );
    assert!(
        super::plan(&nsrc, &set("0"))
            .unwrap()
            .unwrap()
            .single()
            .is_some()
    );
}

#[test]
fn missing_comment_block_is_inserted_after_streaminfo() {
    let old = flac(&[(0, vec![1; 34]), (1, vec![0; 100])]);
    let src = source_of(&old);
    let new = apply(&old, &plan(&src, &set("1")).unwrap().unwrap());
    assert_eq!(new.len(), old.len());
    assert_eq!(values(&new), ["TDM-RESERVATION=1"]);
}

#[test]
fn id3_prefix_is_kept() {
    let tag = id3v2::new_tag(&Edit::default(), Some(64)).unwrap();
    let mut old = tag.clone();
    old.extend(flac(&[(0, vec![1; 34]), (4, vc(&[]))]));
    let src = source_of(&old);
    let new = apply(&old, &plan(&src, &set("1")).unwrap().unwrap());
    assert_eq!(&new[..64], &tag[..]);
    assert_eq!(values(&new), ["TDM-RESERVATION=1"]);
}

#[test]
fn corrupt_streams_are_errors() {
    let good = flac(&[(0, vec![1; 34]), (4, vc(&["A=b"]))]);
    for cut in [3, 6, 20, 45] {
        let src = source_of(&good[..cut]);
        assert!(plan(&src, &set("1")).is_err(), "cut at {cut}");
    }
    let no_streaminfo = flac(&[(4, vc(&[]))]);
    let src = source_of(&no_streaminfo);
    assert!(carriers(&src).is_err());
    let two_vc = flac(&[(0, vec![1; 34]), (4, vc(&[])), (4, vc(&[]))]);
    let src = source_of(&two_vc);
    assert!(carriers(&src).is_err());
}

#[test]
fn comments_move_into_padding_instead_of_shifting_a_picture() {
    let picture = vec![9u8; 3000];
    let old = flac(&[
        (0, vec![1; 34]),
        (4, vc(&["TITLE=x"])),
        (6, picture.clone()),
        (1, vec![0; 500]),
    ]);
    let src = source_of(&old);
    let plan = plan(&src, &set("1")).unwrap().unwrap();
    let new = apply(&old, &plan);
    assert_eq!(new.len(), old.len());
    assert_eq!(values(&new), ["TITLE=x", "TDM-RESERVATION=1"]);
    let pic_at = old
        .windows(3000)
        .position(|w| w == picture.as_slice())
        .unwrap();
    assert_eq!(
        &new[pic_at..pic_at + 3000],
        &picture[..],
        "the picture did not move"
    );
    let nsrc = source_of(&new);
    let kinds: Vec<u8> = layout(&nsrc)
        .unwrap()
        .blocks
        .iter()
        .map(|b| b.kind)
        .collect();
    assert_eq!(
        kinds,
        [0, 1, 6, 4, 1],
        "old comments became padding, new ones sit in the old padding"
    );
    assert_eq!(
        &new[new.len() - 7..],
        &old[old.len() - 7..],
        "audio untouched"
    );
}
