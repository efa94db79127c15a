//! Unit tests of the ASF reader and planner on headers built here.

use super::*;
use crate::error::ErrorKind;
use crate::formats::testutil::{apply, source_of};
use crate::model::Layout;

fn obj(guid: [u8; 16], body: &[u8]) -> Vec<u8> {
    let mut o = guid.to_vec();
    o.extend((24 + body.len() as u64).to_le_bytes());
    o.extend(body);
    o
}

/// File Properties: a file id, the file size, then 56 bytes of other fields.
fn file_properties(size: u64) -> Vec<u8> {
    let mut b = vec![7u8; 16];
    b.extend(size.to_le_bytes());
    b.extend([9u8; 56]);
    obj(FILE_PROPERTIES, &b)
}

fn ecd(descs: &[(&str, u16, &[u8])]) -> Vec<u8> {
    let mut b = (descs.len() as u16).to_le_bytes().to_vec();
    for (name, kind, value) in descs {
        let n: Vec<u8> = name
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        b.extend((n.len() as u16).to_le_bytes());
        b.extend(n);
        b.extend(kind.to_le_bytes());
        b.extend((value.len() as u16).to_le_bytes());
        b.extend(*value);
    }
    obj(ECD, &b)
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A whole file: the header with `objects` (File Properties first, holding the real size), a
/// Data Object of 100 bytes and a 40-byte index object.
fn file(objects: &[Vec<u8>]) -> Vec<u8> {
    let build = |size: u64| {
        let mut body = file_properties(size);
        for o in objects {
            body.extend(o);
        }
        let mut h = HEADER.to_vec();
        h.extend((30 + body.len() as u64).to_le_bytes());
        h.extend((objects.len() as u32 + 1).to_le_bytes());
        h.extend([1, 2]);
        h.extend(body);
        h.extend(obj(DATA, &[0xAA; 76]));
        h.extend(obj(
            guid("33000890-E5B1-11CF-89F4-00A0C90349CB"),
            &[0xBB; 16],
        ));
        h
    };
    let len = build(0).len() as u64;
    build(len)
}

fn tag() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![
            ("TDM-RESERVATION".into(), "1".into()),
            ("DATAMINING".into(), "http://x/DMI-PROHIBITED".into()),
        ],
        layout: Layout::Restore,
        ..Default::default()
    }
}

fn strip() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        layout: Layout::Restore,
        ..Default::default()
    }
}

fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    let c = carriers(&source_of(bytes)).unwrap();
    let last = c.last().unwrap();
    assert_eq!(
        last.kind,
        CarrierKind::Asf {
            place: "Extended Content Description"
        }
    );
    last.fields
        .iter()
        .map(|f| (f.key.clone(), f.value.clone()))
        .collect()
}

fn tail(b: &[u8]) -> &[u8] {
    &b[b.len() - 140..]
}

#[test]
fn guids_are_in_file_byte_order() {
    assert_eq!(
        HEADER,
        [
            0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62,
            0xCE, 0x6C
        ]
    );
}

#[test]
fn string_descriptors_are_fields_and_others_are_not() {
    let f = file(&[ecd(&[
        ("WM/Genre", 0, &utf16z("Rock")),
        ("WM/Track", 3, &[4, 0, 0, 0]),
    ])]);
    assert_eq!(fields(&f), [("WM/Genre".into(), "Rock".into())]);
}

#[test]
fn tag_fits_in_the_padding_in_place_and_keeps_the_rest() {
    let old = file(&[
        ecd(&[("WM/Track", 3, &[4, 0, 0, 0])]),
        obj(PADDING, &[0; 400]),
    ]);
    let src = source_of(&old);
    let plan = plan::plan(&src, &tag()).unwrap().unwrap().0;
    let both = Asf.plan_with_payload(&src, &tag()).unwrap().unwrap();
    assert_eq!(
        (&both.plan, &both.payload),
        (&plan, &Asf.payload(&src).unwrap())
    );
    let r = plan.single().expect("one positioned write");
    let end = r.offset + r.bytes.len() as u64;
    assert!(
        end <= Header::read(&src).unwrap().len,
        "writes inside the header"
    );
    let new = apply(&old, &plan);
    assert_eq!(new.len(), old.len());
    assert_eq!(tail(&new), tail(&old));
    assert_eq!(
        fields(&new),
        [
            ("TDM-RESERVATION".into(), "1".into()),
            ("DATAMINING".into(), "http://x/DMI-PROHIBITED".into())
        ]
    );
    let h = Header::read(&source_of(&new)).unwrap();
    assert_eq!(
        h.descriptors().unwrap()[0].raw,
        ecd(&[("WM/Track", 3, &[4, 0, 0, 0])])[26..]
    );
    assert!(
        plan::plan(&source_of(&new), &tag()).unwrap().is_none(),
        "idempotent"
    );
}

#[test]
fn without_room_the_header_is_rewritten_and_the_file_size_follows() {
    let old = file(&[ecd(&[("WM/Genre", 0, &utf16z("Rock"))])]);
    let plan = plan::plan(&source_of(&old), &tag()).unwrap().unwrap().0;
    assert!(matches!(plan, Plan::Rewrite { .. }));
    let new = apply(&old, &plan);
    assert!(new.len() > old.len() + 8192);
    assert_eq!(tail(&new), tail(&old));
    let size = u64::from_le_bytes(new[30 + 40..30 + 48].try_into().unwrap());
    assert_eq!(size, new.len() as u64);
    assert_eq!(fields(&new).len(), 3);
    let h = Header::read(&source_of(&new)).unwrap();
    assert_eq!(h.find(PADDING).len(), 1);
    // Now there is room: strip goes in place, and the ECD stays for the genre.
    let stripped = apply(
        &new,
        &plan::plan(&source_of(&new), &strip()).unwrap().unwrap().0,
    );
    assert_eq!(stripped.len(), new.len());
    assert_eq!(fields(&stripped), [("WM/Genre".into(), "Rock".into())]);
}

#[test]
fn a_new_ecd_goes_before_the_padding_and_strip_takes_it_away() {
    let old = file(&[obj(PADDING, &[0; 300])]);
    let new = apply(
        &old,
        &plan::plan(&source_of(&old), &tag()).unwrap().unwrap().0,
    );
    let h = Header::read(&source_of(&new)).unwrap();
    let guids: Vec<_> = h.objects.iter().map(|o| o.guid).collect();
    assert_eq!(guids, [FILE_PROPERTIES, ECD, PADDING]);
    let back = apply(
        &new,
        &plan::plan(&source_of(&new), &strip()).unwrap().unwrap().0,
    );
    assert_eq!(back, old, "strip restores the file byte for byte");
    let keep = Edit {
        layout: Layout::Keep,
        ..strip()
    };
    let kept = apply(
        &new,
        &plan::plan(&source_of(&new), &keep).unwrap().unwrap().0,
    );
    let h = Header::read(&source_of(&kept)).unwrap();
    assert_eq!(h.find(ECD).len(), 1, "Layout::Keep leaves an empty ECD");
}

#[test]
fn metadata_library_strings_are_a_read_only_carrier() {
    let mut rec = 1u16.to_le_bytes().to_vec();
    let name = utf16z("TDM-RESERVATION");
    rec.extend([0, 0, 0, 0]);
    rec.extend((name.len() as u16).to_le_bytes());
    rec.extend(0u16.to_le_bytes());
    rec.extend((utf16z("1").len() as u32).to_le_bytes());
    rec.extend(&name);
    rec.extend(utf16z("1"));
    let lib = obj(METADATA_LIBRARY, &rec);
    let mut ext = [0u8; 18].to_vec();
    ext.extend((lib.len() as u32).to_le_bytes());
    ext.extend(lib);
    let f = file(&[obj(HEADER_EXTENSION, &ext)]);
    let c = carriers(&source_of(&f)).unwrap();
    assert_eq!(c.len(), 2);
    assert!(!c[0].editable);
    assert_eq!(c[0].fields[0].key, "TDM-RESERVATION");
    assert!(c[1].editable && c[1].fields.is_empty());
}

fn kind_of(bytes: &[u8]) -> ErrorKind {
    carriers(&source_of(bytes)).unwrap_err().kind()
}

#[test]
fn protected_and_video_files_are_refused() {
    let drm = file(&[obj(PROTECTED[0].0, &[0; 8])]);
    assert_eq!(kind_of(&drm), ErrorKind::Unsupported);
    let video = file(&[obj(STREAM_PROPERTIES, &[VIDEO_MEDIA, [0; 16]].concat())]);
    assert_eq!(kind_of(&video), ErrorKind::Unsupported);
    let two = file(&[ecd(&[]), ecd(&[])]);
    assert_eq!(kind_of(&two), ErrorKind::Unsupported);
}

#[test]
fn hostile_headers_are_errors() {
    let good = file(&[ecd(&[("A", 0, &utf16z("b"))])]);
    // A wrong count, an object size past the header, a descriptor past its object.
    let mut count = good.clone();
    count[24] = 9;
    assert_eq!(kind_of(&count), ErrorKind::Corrupt);
    let mut size = good.clone();
    size[30 + 16] = 0xFF;
    assert_eq!(kind_of(&size), ErrorKind::Corrupt);
    let mut desc = good.clone();
    let at = 30 + 104 + 24 + 2;
    desc[at] = 0xF0;
    assert_eq!(kind_of(&desc), ErrorKind::Corrupt);
    let mut huge = good.clone();
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(kind_of(&huge), ErrorKind::Corrupt);
    for n in [10, 29, 30, 100, good.len() - 140, good.len() - 50] {
        assert!(carriers(&source_of(&good[..n])).is_err(), "cut at {n}");
    }
}

#[test]
fn padding_before_the_ecd_gets_one_new_ecd_in_the_old_ones_place() {
    // In place (room in the padding) and rewritten (none): one ECD, where it was, every time.
    for pad in [600, 30] {
        let old = file(&[
            obj(PADDING, &vec![0; pad]),
            ecd(&[("WM/Genre", 0, &utf16z("Rock"))]),
        ]);
        let plan = plan::plan(&source_of(&old), &tag()).unwrap().unwrap().0;
        let new = apply(&old, &plan);
        let h = Header::read(&source_of(&new)).unwrap();
        let guids: Vec<_> = h.objects.iter().map(|o| o.guid).collect();
        assert_eq!(guids, [FILE_PROPERTIES, PADDING, ECD], "padding {pad}");
        assert_eq!(fields(&new).len(), 3, "padding {pad}");
        assert_eq!(tail(&new), tail(&old));
    }
}

#[test]
fn a_file_size_of_zero_stays_zero() {
    let mut old = file(&[ecd(&[("WM/Genre", 0, &utf16z("Rock"))])]);
    old[30 + 40..30 + 48].fill(0); // a broadcast header gives no file size
    let new = apply(
        &old,
        &plan::plan(&source_of(&old), &tag()).unwrap().unwrap().0,
    );
    assert!(new.len() > old.len());
    assert_eq!(new[30 + 40..30 + 48], [0; 8]);
}
