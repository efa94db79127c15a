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

fn strip() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        ..Default::default()
    }
}

fn kinds(bytes: &[u8]) -> Vec<u8> {
    let src = source_of(bytes);
    layout(&src)
        .unwrap()
        .blocks
        .iter()
        .map(|b| b.kind)
        .collect()
}

/// `tag` then `strip` on `old`, both in place: the tagged file, after checking the stripped one
/// is byte-identical to `old` and the tagged one is as long, with the audio in place.
fn round_trip(old: &[u8]) -> Vec<u8> {
    let plan = plan(&source_of(old), &set("1")).unwrap().unwrap();
    assert!(matches!(plan, Plan::Patch { .. }), "tag in place");
    let tagged = apply(old, &plan);
    assert_eq!(tagged.len(), old.len());
    assert!(tagged.ends_with(&old[old.len() - 7..]), "audio untouched");
    let plan = plan_strip(&tagged);
    assert!(matches!(plan, Plan::Patch { .. }), "strip in place");
    assert!(
        apply(&tagged, &plan) == old,
        "strip gives back the original bytes"
    );
    tagged
}

fn plan_strip(bytes: &[u8]) -> Plan {
    plan(&source_of(bytes), &strip()).unwrap().unwrap()
}

#[test]
fn comments_grow_where_they_are_and_the_picture_shifts_into_the_padding() {
    let picture = vec![9u8; 3000];
    let old = flac(&[
        (0, vec![1; 34]),
        (4, vc(&["TITLE=x"])),
        (6, picture.clone()),
        (2, b"appl-data".to_vec()),
        (1, vec![0; 500]),
    ]);
    let tagged = round_trip(&old);
    assert_eq!(values(&tagged), ["TITLE=x", "TDM-RESERVATION=1"]);
    assert_eq!(kinds(&tagged), [0, 4, 6, 2, 1], "block order kept");
    assert!(tagged.windows(3000).any(|w| w == picture.as_slice()));
}

/// Cover art between the comments and the padding is neither read nor written: the comment
/// block moves to the padding and leaves a PADDING block of its old length, and `strip` moves it
/// back, giving back the original bytes.
#[test]
fn comments_before_a_large_picture_move_to_the_padding_and_back() {
    let picture: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    let old = flac(&[
        (0, vec![1; 34]),
        (4, vc(&["TITLE=x"])),
        (6, picture.clone()),
        (1, vec![0; 500]),
    ]);
    let first = plan(&source_of(&old), &set("1")).unwrap().unwrap();
    let Plan::Patch { regions } = &first else {
        panic!("not in place: {first:?}")
    };
    let written: usize = regions.iter().map(|r| r.bytes.len()).sum();
    assert!(
        written < 1000,
        "{written} bytes planned: the picture is written again"
    );
    let tagged = round_trip(&old);
    assert_eq!(
        kinds(&tagged),
        [0, 1, 6, 4, 1],
        "old slot padded, comments at the padding"
    );
    assert_eq!(values(&tagged), ["TITLE=x", "TDM-RESERVATION=1"]);
    // A later, longer value grows into the padding after the comments, not the slot before
    // the picture (which would move the picture).
    let policy = Edit {
        set: vec![(
            "TDM-POLICY".into(),
            "https://example.com/a/long/policy/url".into(),
        )],
        ..Default::default()
    };
    let again = plan(&source_of(&tagged), &policy).unwrap().unwrap();
    let Plan::Patch { regions } = &again else {
        panic!("not in place: {again:?}")
    };
    assert!(regions.iter().all(|r| r.bytes.len() < 1000), "{regions:?}");
    let longer = apply(
        &tagged,
        &plan(&source_of(&tagged), &policy).unwrap().unwrap(),
    );
    assert_eq!(kinds(&longer), [0, 1, 6, 4, 1], "the picture stays");
    assert!(
        longer
            .windows(picture.len())
            .any(|w| w == picture.as_slice())
    );
    let untagged = flac(&[(0, vec![1; 34]), (6, picture), (1, vec![0; 500])]);
    let created = round_trip(&untagged);
    assert_eq!(
        kinds(&created),
        [0, 6, 4, 1],
        "a new comment block goes to the padding"
    );
}

#[test]
fn padding_before_the_comments_gives_the_room() {
    let old = flac(&[
        (0, vec![1; 34]),
        (1, vec![0; 300]),
        (6, vec![9; 100]),
        (4, vc(&["TITLE=x"])),
        (3, vec![7; 18]),
    ]);
    let tagged = round_trip(&old);
    assert_eq!(kinds(&tagged), [0, 1, 6, 4, 3]);
}

#[test]
fn a_comment_block_tag_created_goes_again_on_strip() {
    let old = flac(&[(0, vec![1; 34]), (6, vec![9; 100]), (1, vec![0; 300])]);
    let tagged = round_trip(&old);
    assert_eq!(kinds(&tagged), [0, 4, 6, 1], "created after STREAMINFO");
    // Only when it is ours and empty: another vendor's empty block stays.
    let theirs = flac(&[
        (0, vec![1; 34]),
        (4, vc(&["TDM-RESERVATION=1"])),
        (1, vec![0; 50]),
    ]);
    let stripped = apply(&theirs, &plan_strip(&theirs));
    assert_eq!(kinds(&stripped), [0, 4, 1]);
    assert!(values(&stripped).is_empty());
}

#[test]
fn removing_the_last_block_marks_the_one_before_last() {
    let ours = Comments {
        vendor: VENDOR.to_vec(),
        entries: vec![b"TDM-RESERVATION=1".to_vec()],
    };
    let old = flac(&[(0, vec![1; 34]), (1, vec![0; 40]), (4, ours.encode())]);
    let new = apply(&old, &plan_strip(&old));
    assert_eq!(new.len(), old.len());
    assert_eq!(kinds(&new), [0, 1], "the padding is now the last block");
    assert!(new.ends_with(&old[old.len() - 7..]), "audio untouched");
}
