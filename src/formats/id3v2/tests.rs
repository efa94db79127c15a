//! Unit tests of the ID3v2 splicer: versions, encodings, unsync, and other frames kept verbatim.

use super::*;
use frame::{unsync_decode, unsync_encode};
use id3::TagLike;

pub(super) fn edit(set: &[(&str, &str)]) -> Edit {
    Edit {
        remove: set.iter().map(|(k, _)| k.to_string()).collect(),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// `old` with `e` applied in the same space (the edit must fit and change something).
pub(super) fn edited_in_place(old: &[u8], e: &Edit) -> Vec<u8> {
    parse(old)
        .unwrap()
        .edited(e, Some(old.len()))
        .unwrap()
        .unwrap()
}

pub(super) fn tag_with(version: id3::Version, frames: &[(&str, &str)], padding: usize) -> Vec<u8> {
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
    let new = edited_in_place(&old, &e);
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
        ..Default::default()
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

/// A hand-made v2.3/v2.4 frame; `plain` writes a v2.4 size as a plain u32 (iTunes).
fn raw_frame(major: u8, id: &[u8; 4], body: &[u8], plain: bool) -> Vec<u8> {
    let n = body.len() as u32;
    let mut out = id.to_vec();
    if major == 3 || plain {
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.extend_from_slice(&to_syncsafe(n));
    }
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
    out
}

fn raw_tag(major: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![b'I', b'D', b'3', major, 0, flags];
    out.extend_from_slice(&to_syncsafe(body.len() as u32));
    out.extend_from_slice(body);
    out
}

/// The issue 9 recipe: TIT2, a UTF-16BE COMM and an APIC with plain sizes, 1 KiB padding.
fn itunes_tag() -> Vec<u8> {
    let mut comm = b"\x02eng\0\0".to_vec();
    comm.extend(
        "A comment long enough "
            .repeat(8)
            .encode_utf16()
            .flat_map(u16::to_be_bytes),
    );
    let mut apic = b"\0image/jpeg\0\x03\0".to_vec();
    apic.extend((0..300u32).map(|i| (i * 37) as u8));
    let mut body = raw_frame(4, b"TIT2", b"\x03Title", false);
    body.extend(raw_frame(4, b"COMM", &comm, true));
    body.extend(raw_frame(4, b"APIC", &apic, true));
    body.resize(body.len() + 1024, 0);
    raw_tag(4, 0, &body)
}

#[test]
fn itunes_plain_sizes_are_detected_and_kept() {
    let old = itunes_tag();
    let tag = parse(&old).unwrap();
    assert_eq!(tag.sizes, Sizes::Plain);
    assert_eq!(tag.spans.len(), 3, "TIT2, COMM and APIC");
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let new = tag.edited_xmp(&e, Some(old.len()), true).unwrap().unwrap();
    let back = parse(&new).unwrap();
    assert_eq!(
        back.sizes,
        Sizes::Plain,
        "our frames follow the tag's convention"
    );
    assert_eq!(
        back.frames[..tag.frames.len()],
        tag.frames[..],
        "old frames verbatim"
    );
    let xmp = back.spans.iter().find(|s| back.is_xmp(s)).unwrap();
    assert!(
        xmp.len() > 137,
        "the XMP frame is big enough to tell the conventions apart"
    );
    let size = &back.frames[xmp.start + 4..xmp.start + 8];
    assert_eq!(size, ((xmp.len() - 10) as u32).to_be_bytes());
    let last = back.spans.last().unwrap();
    assert!(
        back.is_user_text(last),
        "a TXXX follows the XMP frame (TagLib's size guess)"
    );
    cross_check(&old, &new, &e).unwrap();
}

#[test]
fn a_syncsafe_last_frame_running_into_padding_stays_syncsafe() {
    let mut body = raw_frame(4, b"TXXX", &[b'a'; 200], false);
    body.resize(body.len() + 1024, 0);
    let tag = parse(&raw_tag(4, 0, &body)).unwrap();
    assert_eq!(tag.sizes, Sizes::Syncsafe);
    assert_eq!(tag.spans, vec![0..210]);
}

#[test]
fn mixed_size_conventions_are_refused() {
    let mut body = raw_frame(4, b"TIT2", &[b'a'; 200], false);
    body.extend(raw_frame(4, b"TALB", &[b'b'; 200], true));
    let err = parse(&raw_tag(4, 0, &body)).unwrap_err().to_string();
    assert!(err.contains("plain 32-bit sizes either"), "{err}");
}

#[test]
fn padding_must_be_zeros_to_the_end() {
    let mut body = raw_frame(3, b"TIT2", b"\0Title", false);
    body.extend_from_slice(&[0; 20]);
    body.extend_from_slice(b"junk");
    body.extend_from_slice(&[0; 20]);
    let err = parse(&raw_tag(3, 0, &body)).unwrap_err().to_string();
    assert!(err.contains("padding at byte 46 of the tag"), "{err}");
    let mut short = raw_frame(3, b"TIT2", b"\0Title", false);
    short.extend_from_slice(b"TAL");
    let err = parse(&raw_tag(3, 0, &short)).unwrap_err().to_string();
    assert!(
        err.contains("after the last ID3v2 frame at byte 26"),
        "{err}"
    );
}

#[test]
fn extended_headers_are_read_and_dropped_on_rebuild() {
    let frames = raw_frame(3, b"TIT2", b"\0Title", false);
    let mut v23 = vec![0, 0, 0, 10, 0x80, 0, 0, 0, 1, 0, 1, 2, 3, 4];
    v23.extend_from_slice(&frames);
    v23.resize(v23.len() + 256, 0);
    let frames4 = raw_frame(4, b"TIT2", b"\x03Title", false);
    let mut v24 = vec![0, 0, 0, 14, 1, 0x30, 5, 1, 2, 3, 4, 5, 1, 0];
    v24.extend_from_slice(&frames4);
    v24.resize(v24.len() + 256, 0);
    for (major, body) in [(3, v23), (4, v24)] {
        let old = raw_tag(major, FLAG_EXTENDED, &body);
        let tag = parse(&old).unwrap();
        assert_eq!(
            tag.spans.len(),
            1,
            "v2.{major}: TIT2 after the extended header"
        );
        let e = edit(&[("TDM-RESERVATION", "1")]);
        let new = tag.edited(&e, Some(old.len())).unwrap().unwrap();
        assert_eq!(
            new[5] & FLAG_EXTENDED,
            0,
            "the stale extended header is dropped"
        );
        cross_check(&old, &new, &e).unwrap();
    }
    let bad = raw_tag(3, FLAG_EXTENDED, &[0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    assert!(
        parse(&bad).is_err(),
        "a v2.3 extended header is 6 or 10 bytes"
    );
}

#[test]
fn footer_must_repeat_the_header() {
    let body = raw_frame(4, b"TIT2", b"\x03Title", false);
    let mut tag = raw_tag(4, FLAG_FOOTER, &body);
    let mut footer = tag[..10].to_vec();
    footer[..3].copy_from_slice(b"3DI");
    tag.extend_from_slice(&footer);
    assert_eq!(parse(&tag).unwrap().spans.len(), 1);
    let n = tag.len();
    tag[n - 1] ^= 1;
    assert!(parse(&tag).unwrap_err().to_string().contains("footer"));
}

#[test]
fn c2pa_geob_with_the_current_mime_type_is_detected_and_a_lookalike_is_not() {
    let geob = |mime: &str| {
        let mut t = id3::Tag::with_version(id3::Version::Id3v24);
        t.add_frame(id3::frame::EncapsulatedObject {
            mime_type: mime.into(),
            filename: "c2pa".into(),
            description: "c2pa manifest store".into(),
            data: vec![1, 2, 3],
        });
        let mut out = Vec::new();
        id3::Encoder::new()
            .version(id3::Version::Id3v24)
            .encode(&t, &mut out)
            .unwrap();
        parse(&out).unwrap().has_c2pa()
    };
    assert!(geob("application/c2pa"));
    assert!(!geob("application/c2paX"));
    assert!(!geob("application/octet-stream"));
}
