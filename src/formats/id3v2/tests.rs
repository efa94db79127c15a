//! Unit tests of the ID3v2 splicer: versions, encodings, unsync, and other frames kept verbatim.

use super::*;
use frame::unsync_encode;
use id3::TagLike;

fn edit(set: &[(&str, &str)]) -> Edit {
    Edit {
        remove: set.iter().map(|(k, _)| k.to_string()).collect(),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn tag_with(version: id3::Version, frames: &[(&str, &str)], padding: usize) -> Vec<u8> {
    let mut t = id3::Tag::with_version(version);
    for (k, v) in frames {
        t.add_frame(id3::frame::ExtendedText {
            description: k.to_string(),
            value: v.to_string(),
        });
    }
    t.set_title("Song");
    if version != id3::Version::Id3v22 {
        t.add_frame(id3::frame::Frame::with_content(
            "PRIV",
            id3::Content::Private(id3::frame::Private {
                owner_identifier: "XMP".into(),
                private_data: vec![0xFF, 0xE0, 1],
            }),
        ));
    }
    let mut out = Vec::new();
    id3::Encoder::new()
        .version(version)
        .padding(padding)
        .encode(&t, &mut out)
        .unwrap();
    out
}

#[test]
fn splices_in_every_version_and_keeps_other_frames() {
    for v in [
        id3::Version::Id3v22,
        id3::Version::Id3v23,
        id3::Version::Id3v24,
    ] {
        let old = tag_with(v, &[("MOOD", "calm")], 512);
        let tag = parse(&old).unwrap();
        let e = edit(&[
            ("TDM-RESERVATION", "1"),
            ("OTHERCONSTRAINTS", "Écrivez-nous — 写"),
        ]);
        let new = tag.edited(&e, Some(old.len())).unwrap().unwrap();
        assert_eq!(new.len(), old.len(), "{v:?}: padded to the old region");
        assert_eq!(new[3], old[3], "version kept");
        cross_check(&old, &new, &e).unwrap();
        let fields = parse(&new).unwrap().fields().unwrap();
        assert!(fields.contains(&RawField {
            key: "MOOD".into(),
            value: "calm".into()
        }));
        assert!(fields.contains(&RawField {
            key: "OTHERCONSTRAINTS".into(),
            value: "Écrivez-nous — 写".into()
        }));
    }
}

#[test]
fn replaces_case_insensitively_and_is_idempotent() {
    let old = tag_with(id3::Version::Id3v23, &[("tdm-reservation", "0")], 256);
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let new = parse(&old)
        .unwrap()
        .edited(&e, Some(old.len()))
        .unwrap()
        .unwrap();
    let f = parse(&new).unwrap().fields().unwrap();
    assert_eq!(
        f.iter()
            .filter(|f| f.key.eq_ignore_ascii_case("tdm-reservation"))
            .count(),
        1
    );
    assert_eq!(
        f.iter().find(|f| f.key == "TDM-RESERVATION").unwrap().value,
        "1"
    );
    let strip = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![],
    };
    let stripped = parse(&new)
        .unwrap()
        .edited(&strip, Some(new.len()))
        .unwrap()
        .unwrap();
    assert!(
        parse(&stripped)
            .unwrap()
            .fields()
            .unwrap()
            .iter()
            .all(|f| f.key != "TDM-RESERVATION")
    );
    assert!(
        parse(&stripped)
            .unwrap()
            .edited(&strip, None)
            .unwrap()
            .is_none(),
        "nothing left to strip"
    );
}

#[test]
fn tag_level_unsync_v23_is_decoded_and_written_plain() {
    let old = tag_with(id3::Version::Id3v23, &[], 64);
    let mut t = id3::Tag::read_from2(std::io::Cursor::new(&old)).unwrap();
    t.set_artist("ÿ\u{e0}");
    let mut unsynced = Vec::new();
    id3::Encoder::new()
        .version(id3::Version::Id3v23)
        .unsynchronisation(true)
        .padding(64)
        .encode(&t, &mut unsynced)
        .unwrap();
    assert_ne!(unsynced[5] & FLAG_UNSYNC, 0);
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let new = parse(&unsynced)
        .unwrap()
        .edited(&e, Some(unsynced.len()))
        .unwrap()
        .unwrap();
    assert_eq!(new[5] & FLAG_UNSYNC, 0);
    cross_check(&unsynced, &new, &e).unwrap();
}

#[test]
fn too_small_region_does_not_fit() {
    let old = tag_with(id3::Version::Id3v24, &[], 0);
    let tag = parse(&old).unwrap();
    let e = edit(&[("TDM-RESERVATION", "1")]);
    assert!(tag.min_len(&e).unwrap().unwrap() > old.len());
    assert!(tag.edited(&e, Some(old.len())).is_err());
}

#[test]
fn hostile_headers_are_errors() {
    let mut bad_size = b"ID3\x03\x00\x00\x00\x00\x00\x20".to_vec();
    bad_size.extend_from_slice(b"TXXX\x7f\xff\xff\xff\x00\x00");
    bad_size.resize(42, 0);
    assert!(parse(&bad_size).is_err(), "frame runs past the tag");
    assert!(
        header_len(b"ID3\x03\x00\x00\x80\x00\x00\x00").is_err(),
        "not syncsafe"
    );
    assert!(
        header_len(b"ID3\x09\x00\x00\x00\x00\x00\x00").is_err(),
        "unknown version"
    );
    let mut garbage = b"ID3\x03\x00\x00\x00\x00\x00\x0a".to_vec();
    garbage.extend_from_slice(b"\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00");
    assert!(parse(&garbage).is_err(), "garbage frame id");
}

#[test]
fn unsync_round_trip() {
    let data = [0xFF, 0xE0, 0x00, 0xFF, 0x00, 0xFF];
    assert_eq!(unsync_decode(&unsync_encode(&data)), data);
}

#[test]
fn c2pa_manifest_in_geob_is_detected_and_xmp_priv_is_read() {
    let mut t = id3::Tag::with_version(id3::Version::Id3v23);
    t.add_frame(id3::frame::EncapsulatedObject {
        mime_type: "application/x-c2pa-manifest-store".into(),
        filename: "manifest.c2pa".into(),
        description: "c2pa".into(),
        data: vec![1, 2, 3],
    });
    let mut out = Vec::new();
    id3::Encoder::new()
        .version(id3::Version::Id3v23)
        .padding(64)
        .encode(&t, &mut out)
        .unwrap();
    let tag = parse(&out).unwrap();
    assert!(tag.has_c2pa());
    assert_eq!(tag.xmp().unwrap(), None);
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let new = tag.edited_xmp(&e, None, true).unwrap().unwrap();
    let packet = parse(&new).unwrap().xmp().unwrap().unwrap();
    assert!(
        crate::formats::xmp::read(&packet)
            .unwrap()
            .fields
            .iter()
            .any(|f| f.key == "TDM-RESERVATION" && f.value == "1")
    );
    assert!(
        parse(&new).unwrap().has_c2pa(),
        "the manifest frame survives"
    );
}
