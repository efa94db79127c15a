//! Unit tests of the Matroska planner on hand-built files: each layout the placement knows
//! (in place in the Tags' Void room, growing at the end, moving to a Void run, moving to the end
//! with the SeekHead repointed), and the refusals.

use super::ebml::{self, element, uint_element};
use super::*;
use crate::formats::testutil::{apply, source_of};
use crate::formats::{Plan, RawField};
use crate::model::Edit;

fn el(id: u32, body: &[u8]) -> Vec<u8> {
    element(id, body).unwrap()
}

fn ebml_head(doc: &str) -> Vec<u8> {
    el(ebml::EBML, &el(ebml::DOC_TYPE, doc.as_bytes()))
}

fn tracks(kind: u64) -> Vec<u8> {
    el(
        ebml::TRACKS,
        &el(
            ebml::TRACK_ENTRY,
            &uint_element(ebml::TRACK_TYPE, kind).unwrap(),
        ),
    )
}

fn cluster(n: u8) -> Vec<u8> {
    el(ebml::CLUSTER, &el(0xA3, &[0x81, 0, 0, 0x80, n, n, n, n]))
}

fn tags(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut body = el(ebml::TARGETS, &[]);
    for (k, v) in pairs {
        let simple = [
            el(ebml::TAG_NAME, k.as_bytes()),
            el(ebml::TAG_STRING, v.as_bytes()),
        ];
        body.extend(el(ebml::SIMPLE_TAG, &simple.concat()));
    }
    el(ebml::TAGS, &el(ebml::TAG, &body))
}

fn seek(id: u32, pos: u64) -> Vec<u8> {
    let body = [
        el(ebml::SEEK_ID, &ebml::id_bytes(id)),
        uint_element(ebml::SEEK_POSITION, pos).unwrap(),
    ];
    el(ebml::SEEK, &body.concat())
}

/// A file from level-1 elements, the Segment's size field 8 bytes long like muxers write it.
fn file(kids: &[Vec<u8>]) -> Vec<u8> {
    let body = kids.concat();
    let seg = ebml::element_sized(ebml::SEGMENT, &body, 8).unwrap();
    [ebml_head("matroska"), seg].concat()
}

/// Offset of the Segment's data in a file made by `file`.
fn data_start() -> u64 {
    ebml_head("matroska").len() as u64 + 12
}

fn set() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Edit::default()
    }
}

fn strip() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        ..Edit::default()
    }
}

fn fields(bytes: &[u8]) -> Vec<RawField> {
    carriers(&source_of(bytes)).unwrap().remove(0).fields
}

/// The plan of `edit`, its result, and a check that the clusters did not change.
fn run(bytes: &[u8], edit: &Edit) -> (Plan, Vec<u8>) {
    let src = source_of(bytes);
    let plan = place::plan(&src, edit).unwrap().expect("a change");
    let out = apply(bytes, &plan);
    let before = payload(&src).unwrap();
    let after = payload(&source_of(&out)).unwrap();
    assert_eq!(before, after, "clusters moved");
    for r in before {
        let r = r.start as usize..r.end as usize;
        assert_eq!(bytes[r.clone()], out[r]);
    }
    (plan, out)
}

/// The level-1 elements of a file: (ID, offset).
fn level1(bytes: &[u8]) -> Vec<(u32, u64)> {
    let lay = layout::walk(&source_of(bytes)).unwrap();
    lay.kids.iter().map(|k| (k.id, k.start)).collect()
}

fn seek_positions(bytes: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
    let lay = layout::walk(&source_of(bytes)).unwrap();
    let h = lay.all(ebml::SEEK_HEAD).next().unwrap();
    let buf = layout::read_data(&source_of(bytes), h, "SeekHead").unwrap();
    let mut out = Vec::new();
    for s in ebml::children(&buf, h.body()).unwrap() {
        if s.id != ebml::SEEK {
            continue;
        }
        let body = ebml::data(&buf, h.body(), &s);
        let kids = ebml::children(body, s.body()).unwrap();
        let id = kids.iter().find(|k| k.id == ebml::SEEK_ID).unwrap();
        let pos = kids.iter().find(|k| k.id == ebml::SEEK_POSITION).unwrap();
        out.push((
            ebml::data(body, s.body(), id).to_vec(),
            ebml::uint(ebml::data(body, s.body(), pos)),
        ));
    }
    out
}

#[test]
fn a_tags_with_void_room_is_edited_in_place() {
    let f = file(&[
        tracks(2),
        tags(&[("ARTIST", "Me")]),
        ebml::void(200).unwrap(),
        cluster(1),
    ]);
    let (plan, out) = run(&f, &set());
    assert!(plan.single().is_some(), "{plan:?}");
    assert_eq!(out.len(), f.len());
    assert_eq!(level1(&out).last(), level1(&f).last());
    let got = fields(&out);
    assert_eq!(got[0].key, "ARTIST");
    assert_eq!(
        (got[1].key.as_str(), got[1].value.as_str()),
        ("TDM-RESERVATION", "1")
    );
    let (_, back) = run(&out, &strip());
    assert_eq!(fields(&back), fields(&f));
    assert!(place::plan(&source_of(&back), &strip()).unwrap().is_none());
}

#[test]
fn a_tags_at_the_end_grows_there() {
    let f = file(&[tracks(2), cluster(1), tags(&[("ARTIST", "Me")])]);
    let (_, out) = run(&f, &set());
    assert!(out.len() > f.len());
    assert_eq!(fields(&out).len(), 2);
    // The Segment's size covers the grown Tags: the walk ends exactly at the end of the file.
    assert_eq!(
        layout::walk(&source_of(&out)).unwrap().end,
        out.len() as u64
    );
}

#[test]
fn a_tags_without_room_moves_to_the_end_and_the_seek_head_follows() {
    // SeekHead: Tracks, Tags, Cues positions; a Void after it to grow into, as ffmpeg leaves.
    let d = data_start();
    let head_len = 3 * seek(ebml::TAGS, 0xFFFF).len() + 4 + 40;
    let tr = tracks(2);
    let tg = tags(&[("ARTIST", "Me")]);
    let tracks_at = head_len as u64;
    let tags_at = tracks_at + tr.len() as u64;
    let cues_at = tags_at + tg.len() as u64 + cluster(1).len() as u64;
    let sh = el(
        ebml::SEEK_HEAD,
        &[
            seek(ebml::TRACKS, tracks_at),
            seek(ebml::TAGS, tags_at),
            seek(0x1C53_BB6B, cues_at),
        ]
        .concat(),
    );
    let pad = ebml::void((head_len - sh.len()) as u64).unwrap();
    let cues = el(0x1C53_BB6B, &el(0xBB, &uint_element(0xB3, 0).unwrap()));
    let f = file(&[sh, pad, tr, tg, cluster(1), cues]);
    let (_, out) = run(&f, &set());
    let at = f.len() as u64;
    let old = level1(&f);
    let new = level1(&out);
    assert_eq!(new.last(), Some(&(ebml::TAGS, at)));
    assert_eq!(
        new[..old.len()]
            .iter()
            .filter(|k| k.0 != ebml::VOID)
            .count(),
        old.len() - 2
    );
    let seeks = seek_positions(&out);
    assert_eq!(seeks[0].1, Some(tracks_at));
    assert_eq!(seeks[1], (ebml::id_bytes(ebml::TAGS), Some(at - d)));
    assert_eq!(seeks[2].1, Some(cues_at));
    assert_eq!(fields(&out).len(), 2);
    // Strip: the Tags at the end shrinks where it is.
    let (_, back) = run(&out, &strip());
    assert_eq!(fields(&back), fields(&f));
}

#[test]
fn a_file_without_tags_gets_one_in_a_void_run() {
    let f = file(&[tracks(2), ebml::void(100).unwrap(), cluster(1)]);
    let (plan, out) = run(&f, &set());
    assert!(plan.single().is_some());
    assert_eq!(out.len(), f.len());
    assert_eq!(fields(&out).len(), 1);
    // Strip leaves no empty Tags behind: it becomes a Void again.
    let (_, back) = run(&out, &strip());
    assert!(level1(&back).iter().all(|k| k.0 != ebml::TAGS));
}

#[test]
fn refusals_are_clear_and_plan_nothing() {
    let video = file(&[tracks(1), tags(&[]), cluster(1)]);
    let e = carriers(&source_of(&video)).unwrap_err();
    assert!(e.to_string().contains("video track (no codec)"), "{e}");
    let two = file(&[
        tracks(2),
        tags(&[("A", "b")]),
        tags(&[("C", "d")]),
        cluster(1),
    ]);
    let e = place::plan(&source_of(&two), &set()).unwrap_err();
    assert!(e.to_string().contains("2 Tags elements"), "{e}");
    // A live stream: the Segment's size is unknown.
    let mut live = ebml_head("webm");
    live.extend([0x18, 0x53, 0x80, 0x67, 0xFF]);
    live.extend(tracks(2));
    live.extend(cluster(1));
    assert_eq!(carriers(&source_of(&live)).unwrap()[0].fields, []);
    let e = place::plan(&source_of(&live), &set()).unwrap_err();
    assert!(e.to_string().contains("live stream"), "{e}");
    let other = [
        el(ebml::EBML, &el(ebml::DOC_TYPE, b"other")),
        el(ebml::SEGMENT, &[]),
    ]
    .concat();
    assert!(carriers(&source_of(&other)).is_err());
    // No room, no SeekHead: refused rather than an unfindable Tags.
    let mut tail = file(&[tracks(2), tags(&[("ARTIST", "Me")]), cluster(1)]);
    tail.extend(b"junk");
    let e = place::plan(&source_of(&tail), &set()).unwrap_err();
    assert!(e.to_string().contains("no room"), "{e}");
}

#[test]
fn a_cover_picture_track_is_not_video() {
    let entry = |codec: &str, private: &[u8]| {
        let body = [
            uint_element(ebml::TRACK_TYPE, 1).unwrap(),
            el(ebml::CODEC_ID, codec.as_bytes()),
            el(ebml::CODEC_PRIVATE, private),
        ];
        el(ebml::TRACKS, &el(ebml::TRACK_ENTRY, &body.concat()))
    };
    let mut bih = [0u8; 40];
    bih[16..20].copy_from_slice(b"MPNG");
    for ok in [entry("V_MS/VFW/FOURCC", &bih), entry("V_MJPEG", &[])] {
        let f = file(&[tracks(2), ok, cluster(1)]);
        assert!(carriers(&source_of(&f)).is_ok());
    }
    bih[16..20].copy_from_slice(b"H264");
    for video in [entry("V_MS/VFW/FOURCC", &bih), entry("V_VP9", &[])] {
        let f = file(&[tracks(2), video, cluster(1)]);
        assert!(carriers(&source_of(&f)).is_err());
    }
}

#[test]
fn truncated_files_are_errors_at_every_length() {
    let f = file(&[tracks(2), tags(&[("ARTIST", "Me")]), cluster(1)]);
    for n in 0..f.len() {
        let src = source_of(&f[..n]);
        assert!(carriers(&src).is_err(), "{n} bytes");
        assert!(place::plan(&src, &set()).is_err(), "{n} bytes");
    }
}
