//! The APEv2 tag codec and the tail planner on hand-made files: items kept byte for byte, keys
//! replaced case-insensitively, growth appended and shrinkage cut, ID3v1 kept, hostile tags
//! refused without a panic.

use super::*;
use crate::error::ErrorKind;
use crate::formats::testutil::{apply, source_of};

const WV: &[u8] = b"wvpk\x20\0\0\0fake audio block, not decoded here";

fn text(key: &str, value: &str) -> tag::Item {
    tag::Item {
        flags: 0,
        key: key.as_bytes().to_vec(),
        value: value.as_bytes().to_vec(),
    }
}

fn tag_of(items: Vec<tag::Item>) -> Vec<u8> {
    Tag {
        items,
        ..tag::empty()
    }
    .encode()
}

fn id3v1() -> Vec<u8> {
    let mut v = b"TAG".to_vec();
    v.resize(128, b'x');
    v
}

fn set(k: &str, v: &str) -> Edit {
    Edit {
        remove: vec![k.into()],
        set: vec![(k.into(), v.into())],
        ..Default::default()
    }
}

fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    let c = Apev2(Container::WavPack)
        .carriers(&source_of(bytes))
        .unwrap();
    c.last()
        .unwrap()
        .fields
        .iter()
        .map(|f| (f.key.clone(), f.value.clone()))
        .collect()
}

#[test]
fn a_new_tag_is_appended_before_the_id3v1_tag() {
    let mut file = WV.to_vec();
    file.extend(id3v1());
    let src = source_of(&file);
    let plan = Apev2(Container::WavPack)
        .plan(&src, &set("TDM-RESERVATION", "1"))
        .unwrap()
        .unwrap();
    let out = apply(&file, &plan);
    assert_eq!(&out[..WV.len()], WV, "audio untouched");
    assert_eq!(
        &out[out.len() - 128..],
        &id3v1()[..],
        "ID3v1 kept, still last"
    );
    assert_eq!(fields(&out), [("TDM-RESERVATION".into(), "1".into())]);
    let payload = Apev2(Container::WavPack).payload(&source_of(&out)).unwrap();
    assert_eq!(payload.len(), 1);
    assert_eq!((payload[0].start, payload[0].end), (0, WV.len() as u64));
}

#[test]
fn other_items_stay_byte_identical_and_ours_are_replaced_in_any_case() {
    let cover = tag::Item {
        flags: 1 << 1,
        key: b"Cover Art (Front)".to_vec(),
        value: b"cover.jpg\0\xff\xd8\xff binary".to_vec(),
    };
    let old_tag = tag_of(vec![
        text("Title", "x"),
        text("tdm-reservation", "0"),
        cover.clone(),
    ]);
    let mut file = WV.to_vec();
    file.extend(&old_tag);
    let plan = Apev2(Container::WavPack)
        .plan(&source_of(&file), &set("TDM-RESERVATION", "1"))
        .unwrap()
        .unwrap();
    assert!(matches!(plan, Plan::Patch { .. }), "same length: a patch");
    let out = apply(&file, &plan);
    let want = tag_of(vec![
        text("Title", "x"),
        cover,
        text("TDM-RESERVATION", "1"),
    ]);
    assert_eq!(&out[WV.len()..], &want[..]);
}

#[test]
fn growth_appends_and_shrinkage_cuts() {
    let mut file = WV.to_vec();
    file.extend(tag_of(vec![text("Title", "x")]));
    let src = source_of(&file);
    let grow = Apev2(Container::WavPack)
        .plan(&src, &set("DATAMINING", "long value"))
        .unwrap()
        .unwrap();
    let Plan::Patch { regions } = &grow else {
        panic!("{grow:?}")
    };
    assert_eq!(regions.last().unwrap().offset, file.len() as u64, "append");
    let grown = apply(&file, &grow);
    let strip = Edit {
        remove: vec!["DATAMINING".into()],
        layout: Layout::Restore,
        ..Default::default()
    };
    let cut = Apev2(Container::WavPack)
        .plan(&source_of(&grown), &strip)
        .unwrap()
        .unwrap();
    assert!(matches!(cut, Plan::Cut { .. }), "{cut:?}");
    assert_eq!(apply(&grown, &cut), file, "strip restores the bytes");
}

#[test]
fn strip_removes_a_tag_left_empty_only_when_the_layout_may_change() {
    let mut file = WV.to_vec();
    file.extend(tag_of(vec![text("TDM-RESERVATION", "1")]));
    file.extend(id3v1());
    let mut strip = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        layout: Layout::Restore,
        ..Default::default()
    };
    let src = source_of(&file);
    let gone = apply(
        &file,
        &Apev2(Container::WavPack)
            .plan(&src, &strip)
            .unwrap()
            .unwrap(),
    );
    let mut want = WV.to_vec();
    want.extend(id3v1());
    assert_eq!(gone, want);
    strip.layout = Layout::Keep;
    let kept = apply(
        &file,
        &Apev2(Container::WavPack)
            .plan(&src, &strip)
            .unwrap()
            .unwrap(),
    );
    assert_eq!(kept.len(), WV.len() + 64 + 128, "an empty tag stays");
    assert_eq!(fields(&kept), []);
}

#[test]
fn apev1_is_read_but_never_written() {
    // APEv1: no header, version 1000 in the footer.
    let mut items = Vec::new();
    items.extend(1u32.to_le_bytes());
    items.extend(0u32.to_le_bytes());
    items.extend(b"TDM-RESERVATION\x001");
    let mut file = WV.to_vec();
    file.extend(&items);
    file.extend(b"APETAGEX");
    for v in [1000u32, items.len() as u32 + 32, 1, 0] {
        file.extend(v.to_le_bytes());
    }
    file.extend([0; 8]);
    let src = source_of(&file);
    let c = Apev2(Container::WavPack).carriers(&src).unwrap();
    assert!(!c[0].editable);
    assert_eq!(c[0].fields[0].value, "1");
    let err = Apev2(Container::WavPack)
        .plan(&src, &set("TDM-RESERVATION", "1"))
        .unwrap_err();
    assert!(err.to_string().contains("APEv1"), "{err}");
}

#[test]
fn a_binary_item_under_our_key_is_refused() {
    let mut file = WV.to_vec();
    file.extend(tag_of(vec![tag::Item {
        flags: 1 << 1,
        key: b"DATAMINING".to_vec(),
        value: vec![0, 1, 2],
    }]));
    let err = Apev2(Container::WavPack)
        .plan(&source_of(&file), &set("DATAMINING", "x"))
        .unwrap_err();
    assert!(err.to_string().contains("binary"), "{err}");
}

#[test]
fn hostile_tails_are_errors_not_panics() {
    let good = {
        let mut f = WV.to_vec();
        f.extend(tag_of(vec![text("Title", "x"), text("Artist", "y")]));
        f
    };
    let foot = good.len() - 32;
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for (at, v) in [(12, u32::MAX), (12, 31), (16, u32::MAX), (16, 3), (8, 3000)] {
        let mut f = good.clone();
        f[foot + at..foot + at + 4].copy_from_slice(&v.to_le_bytes());
        cases.push(f);
    }
    let mut keyless = good.clone();
    let first_key = WV.len() + 32 + 8;
    keyless[first_key] = 0x01;
    cases.push(keyless);
    let mut no_header = good.clone();
    no_header[WV.len()] = b'X';
    cases.push(no_header);
    for (n, f) in cases.iter().enumerate() {
        let src = source_of(f);
        assert!(locate(&src).is_err(), "case {n} should be refused");
        assert!(
            Apev2(Container::WavPack)
                .plan(&src, &set("A1", "1"))
                .is_err()
        );
    }
    // Truncating anywhere never panics.
    for cut in 0..good.len() {
        let src = source_of(&good[..cut]);
        let _ = Apev2(Container::WavPack).carriers(&src);
        let _ = Apev2(Container::WavPack).plan(&src, &set("A1", "1"));
    }
}

#[test]
fn lyrics3_and_tag_plus_blocks_are_refused() {
    let plus = [b"TAG+".as_slice(), &[b' '; 223]].concat();
    for (block, says) in [
        (b"LYRICSBEGINxxx000017LYRICS200".as_slice(), "Lyrics3"),
        (b"LYRICSBEGINsome lyricsLYRICSEND".as_slice(), "Lyrics3"),
        (plus.as_slice(), "TAG+"),
    ] {
        let mut file = WV.to_vec();
        file.extend(block);
        file.extend(id3v1());
        let e = locate(&source_of(&file)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
}

#[test]
fn tta_writes_into_its_id3v2_tag_only_without_an_ape_tag() {
    let mut id3 = b"ID3\x03\0\0\0\0\0\x20".to_vec();
    id3.resize(10 + 32, 0);
    let mut file = id3.clone();
    file.extend(b"TTA1 fake audio");
    let tta = Apev2(Container::Tta);
    let src = source_of(&file);
    let c = tta.carriers(&src).unwrap();
    assert!(
        c.last().unwrap().editable,
        "the ID3v2 tag is the primary carrier"
    );
    let plan = tta
        .plan(&src, &set("TDM-RESERVATION", "1"))
        .unwrap()
        .unwrap();
    let out = apply(&file, &plan);
    assert!(out.ends_with(b"TTA1 fake audio"), "no APE tag added");
    assert_eq!(
        tta.carriers(&source_of(&out)).unwrap()[0].fields[0].key,
        "TDM-RESERVATION"
    );
    // With an APE tag too, the APE tag is ours and the ID3v2 tag is only read.
    file.extend(tag_of(vec![text("Title", "x")]));
    let c = tta.carriers(&source_of(&file)).unwrap();
    assert!(!c[0].editable && c[1].editable && c[1].kind == CarrierKind::Apev2);
    // WavPack never writes into a head ID3v2 tag.
    let c = Apev2(Container::WavPack)
        .carriers(&source_of(&file))
        .unwrap();
    assert!(!c[0].editable);
}

#[test]
fn a_tag_ending_the_file_is_not_taken_for_an_id3v1_tag() {
    // The item's value puts "TAG" exactly 128 bytes before the end of the file.
    // The last 128 bytes are the value's last 96 and the 32-byte footer.
    let mut value = "x".repeat(200);
    value.replace_range(104..107, "TAG");
    let mut file = WV.to_vec();
    file.extend(tag_of(vec![text("Comment", &value)]));
    assert_eq!(&file[file.len() - 128..file.len() - 125], b"TAG");
    let l = locate(&source_of(&file)).unwrap();
    assert!(l.id3v1.is_none() && l.ape.is_some());
}

#[test]
fn a_stray_tag_signature_refuses_a_new_tag() {
    let mut file = WV.to_vec();
    file.extend(tag_of(vec![text("Title", "x")]));
    file.extend(b"junk after the tag");
    let err = Apev2(Container::WavPack)
        .plan(&source_of(&file), &set("TDM-RESERVATION", "1"))
        .unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}
