//! Unit tests on synthetic MP4 layouts built in memory: in-place edits, rewrites with and without
//! chunk offset shifts, created containers, 64-bit and size-0 boxes, and corrupt input.

use std::io::Write;

use crate::formats::Part;

use super::boxes::descend;
use super::*;

mod refusals;

const AUDIO: &[u8] = b"AUDIO-PAYLOAD-0123456789-never-touch";

fn bx(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    make(kind, parts).unwrap()
}

fn ff_atom(mean: &str, name: &str, value: &str) -> Vec<u8> {
    let mean = bx(b"mean", &[&[0; 4], mean.as_bytes()]);
    let name = bx(b"name", &[&[0; 4], name.as_bytes()]);
    let data = bx(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0], value.as_bytes()]);
    bx(b"----", &[&mean, &name, &data])
}

fn title(text: &str) -> Vec<u8> {
    bx(
        b"\xa9nam",
        &[&bx(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0], text.as_bytes()])],
    )
}

fn hdlr() -> Vec<u8> {
    bx(b"hdlr", &[&[0; 8], b"mdirappl", &[0; 9]])
}

fn free(n: usize) -> Vec<u8> {
    boxes::free(n).unwrap()
}

/// `udta(meta(hdlr, ilst(items), extra...))`.
fn udta(items: &[&[u8]], extra: &[&[u8]]) -> Vec<u8> {
    let ilst = bx(b"ilst", items);
    let mut meta_parts: Vec<&[u8]> = vec![&[0; 4]];
    let h = hdlr();
    meta_parts.push(&h);
    meta_parts.push(&ilst);
    meta_parts.extend_from_slice(extra);
    bx(b"udta", &[&bx(b"meta", &meta_parts)])
}

/// Header forms for the test file's `moov` and `mdat`.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Short,
    Large,
    ZeroSize,
}

fn header_of(kind: &[u8; 4], body_len: usize, form: Form) -> Vec<u8> {
    match form {
        Form::Short => [&((body_len + 8) as u32).to_be_bytes()[..], kind].concat(),
        Form::Large => [
            &1u32.to_be_bytes()[..],
            kind,
            &((body_len + 16) as u64).to_be_bytes(),
        ]
        .concat(),
        Form::ZeroSize => [&0u32.to_be_bytes()[..], kind].concat(),
    }
}

/// `ftyp` + `moov` and `mdat` in either order. One track whose `stco` points at the payload, so
/// a test can check the offset still finds `AUDIO` after an edit.
fn file_with(udta: Option<&[u8]>, moov_first: bool, moov_form: Form, mdat_form: Form) -> Vec<u8> {
    let ftyp = bx(b"ftyp", &[b"M4A \0\0\0\0M4A isom"]);
    let mdat = [header_of(b"mdat", AUDIO.len(), mdat_form), AUDIO.to_vec()].concat();
    let moov = |off: usize| {
        let stco = bx(
            b"stco",
            &[&[0; 4], &1u32.to_be_bytes(), &(off as u32).to_be_bytes()],
        );
        let trak = bx(
            b"trak",
            &[&bx(b"mdia", &[&bx(b"minf", &[&bx(b"stbl", &[&stco])])])],
        );
        let body = [
            bx(b"mvhd", &[&[0; 20]]),
            trak,
            udta.unwrap_or_default().to_vec(),
        ]
        .concat();
        [header_of(b"moov", body.len(), moov_form), body].concat()
    };
    let mdat_head = mdat.len() - AUDIO.len();
    if moov_first {
        let moov_len = moov(0).len();
        [ftyp.clone(), moov(ftyp.len() + moov_len + mdat_head), mdat].concat()
    } else {
        [ftyp.clone(), mdat, moov(ftyp.len() + mdat_head)].concat()
    }
}

fn file(udta: Option<&[u8]>, moov_first: bool) -> Vec<u8> {
    file_with(udta, moov_first, Form::Short, Form::Short)
}

fn with_src<T>(bytes: &[u8], f: impl FnOnce(&Source) -> T) -> T {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.write_all(bytes).unwrap();
    let file = tmp.reopen().unwrap();
    f(&Source::new(&file, bytes.len() as u64))
}

/// Carries out a plan on an in-memory copy, as the writer would on disk.
fn apply(orig: &[u8], plan: &Plan) -> Vec<u8> {
    crate::formats::testutil::apply(orig, plan)
}

fn tdm(value: &str) -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), value.into())],
        ..Default::default()
    }
}

fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    let c = with_src(bytes, carriers).unwrap();
    assert_eq!(c.len(), 1);
    c[0].fields
        .iter()
        .map(|f| (f.key.clone(), f.value.clone()))
        .collect()
}

/// The audio is intact and every chunk offset still points at it.
fn audio_found(bytes: &[u8]) {
    let ranges = with_src(bytes, payload).unwrap();
    assert_eq!(ranges.len(), 1);
    let r = ranges[0].clone();
    assert_eq!(&bytes[r.start as usize..r.end as usize], AUDIO);
    let top = children(bytes, 0, bytes.len() as u64, true).unwrap();
    let moov = top.iter().find(|b| b.is(b"moov")).unwrap();
    let traks = descend(bytes, &[*moov], b"trak").unwrap();
    let stbl = descend(
        bytes,
        &descend(bytes, &descend(bytes, &traks, b"mdia").unwrap(), b"minf").unwrap(),
        b"stbl",
    );
    let stco = descend(bytes, &stbl.unwrap(), b"stco").unwrap();
    let at = stco[0].body() as usize + 8;
    assert_eq!(
        u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64,
        r.start
    );
}

fn plan_of(bytes: &[u8], edit: &Edit) -> Result<Option<Plan>> {
    with_src(bytes, |s| plan(s, edit))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn fits_in_ilst_plus_free_in_place() {
    let orig = file(Some(&udta(&[&title("x")], &[&free(300)])), true);
    let p = plan_of(&orig, &tdm("1")).unwrap().unwrap();
    let Some(Region { offset, bytes }) = p.single() else {
        panic!("expected in place, got {p:?}")
    };
    let out = apply(&orig, &p);
    assert_eq!(out.len(), orig.len());
    assert!(
        *offset as usize + bytes.len() <= orig.len() - AUDIO.len() - 8,
        "stays inside moov"
    );
    assert_eq!(fields(&out), vec![("TDM-RESERVATION".into(), "1".into())]);
    assert!(contains(&out, &title("x")));
    audio_found(&out);
    assert_eq!(
        plan_of(&out, &tdm("1")).unwrap(),
        None,
        "second run changes nothing"
    );
}

#[test]
fn growth_rewrites_and_shifts_offsets_when_moov_is_first() {
    let orig = file(Some(&udta(&[&title("x")], &[])), true);
    let p = plan_of(&orig, &tdm("1")).unwrap().unwrap();
    let Plan::Rewrite { parts } = &p else {
        panic!("expected a rewrite")
    };
    let last = parts.last().unwrap();
    assert!(
        matches!(last, Part::Copy { len, .. } if *len as usize == AUDIO.len() + 8),
        "mdat copied"
    );
    let out = apply(&orig, &p);
    assert_eq!(fields(&out), vec![("TDM-RESERVATION".into(), "1".into())]);
    assert!(contains(&out, &title("x")));
    audio_found(&out);
    // The padding left behind takes the next edit in place.
    let again = plan_of(&out, &tdm("0")).unwrap().unwrap();
    assert!(again.single().is_some());
    assert_eq!(
        fields(&apply(&out, &again)),
        vec![("TDM-RESERVATION".into(), "0".into())]
    );
}

#[test]
fn growth_with_moov_last_moves_nothing() {
    let orig = file(Some(&udta(&[&title("x")], &[])), false);
    let p = plan_of(&orig, &tdm("1")).unwrap().unwrap();
    let Plan::Patch { regions } = &p else {
        panic!("expected a patch: moov grows into the end of the file")
    };
    assert_eq!(regions.len(), 2, "the old moov's bytes + the appended rest");
    assert_eq!(regions[1].offset, orig.len() as u64);
    let out = apply(&orig, &p);
    let moov_at =
        orig.len() - children(&orig[..], 0, orig.len() as u64, true).unwrap()[2].size as usize;
    assert_eq!(out[..moov_at], orig[..moov_at]);
    assert_eq!(fields(&out).len(), 1);
    audio_found(&out);
}

#[test]
fn creates_missing_udta_meta_and_ilst() {
    let comment = bx(b"\xa9cmt", &[b"qt"]);
    let no_meta = bx(b"udta", &[&comment]);
    let no_ilst = bx(b"udta", &[&bx(b"meta", &[&[0; 4], &hdlr()])]);
    for (udta, first, kept) in [
        (None, true, vec![]),
        (Some(&no_meta), true, comment),
        (Some(&no_ilst), false, hdlr()),
    ] {
        let orig = file(udta.map(|u| u.as_slice()), first);
        assert!(with_src(&orig, carriers).unwrap().is_empty());
        let out = apply(&orig, &plan_of(&orig, &tdm("1")).unwrap().unwrap());
        assert_eq!(fields(&out), vec![("TDM-RESERVATION".into(), "1".into())]);
        audio_found(&out);
        assert!(contains(&out, &kept), "old udta content kept");
        assert!(contains(&out, &hdlr()), "meta has an mdir handler");
    }
    // Nothing to remove and nothing to set in a file without ilst: no write at all.
    let bare = file(None, true);
    let strip = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![],
        ..Default::default()
    };
    assert_eq!(plan_of(&bare, &strip).unwrap(), None);
}

#[test]
fn large_sizes_and_size_zero_mdat() {
    let u = udta(&[&title("x")], &[]);
    for (moov_form, mdat_form) in [(Form::Large, Form::Large), (Form::Short, Form::ZeroSize)] {
        let orig = file_with(Some(&u), true, moov_form, mdat_form);
        let out = apply(&orig, &plan_of(&orig, &tdm("1")).unwrap().unwrap());
        assert_eq!(fields(&out).len(), 1);
        audio_found(&out);
        let top = children(&out[..], 0, out.len() as u64, true).unwrap();
        assert_eq!(top[1].header, if moov_form == Form::Large { 16 } else { 8 });
        assert_eq!(top[2].to_end, mdat_form == Form::ZeroSize);
    }
}

#[test]
fn strips_lowercase_freeform_and_keeps_everything_else() {
    let smpb = ff_atom("com.apple.iTunes", "iTunSMPB", " 00000000 00000840");
    let ours = ff_atom("com.apple.iTunes", "tdm-reservation", "1");
    let orig = file(
        Some(&udta(&[&title("x"), &ours, &smpb], &[&free(64)])),
        true,
    );
    assert_eq!(fields(&orig).len(), 2);
    let strip = Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![],
        ..Default::default()
    };
    let p = plan_of(&orig, &strip).unwrap().unwrap();
    assert!(p.single().is_some(), "a shrink always fits");
    let out = apply(&orig, &p);
    assert_eq!(
        fields(&out),
        vec![("iTunSMPB".into(), " 00000000 00000840".into())]
    );
    assert!(
        contains(&out, &[title("x"), smpb].concat()),
        "other items byte-identical, in order"
    );
    assert!(!contains(&out, b"tdm-reservation"));
    assert_eq!(
        out[out.len() - AUDIO.len() - 8..],
        orig[orig.len() - AUDIO.len() - 8..]
    );
}

#[test]
fn foreign_mean_atoms_are_not_ours_and_stay_byte_identical() {
    let foreign = ff_atom("org.example.vendor", "DATAMINING", "vendor value");
    let orig = file(Some(&udta(&[&title("x"), &foreign], &[&free(256)])), true);
    let c = with_src(&orig, carriers).unwrap();
    assert!(c[0].fields.is_empty(), "a foreign atom is no field of ours");
    assert!(
        c[0].notes.iter().any(|n| n.contains("org.example.vendor")),
        "{:?}",
        c[0].notes
    );
    let strip = Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![],
        ..Default::default()
    };
    assert_eq!(plan_of(&orig, &strip).unwrap(), None, "strip leaves it");
    let edit = Edit {
        remove: strip.remove.clone(),
        set: vec![("DATAMINING".into(), "http://x".into())],
        ..Default::default()
    };
    let out = apply(&orig, &plan_of(&orig, &edit).unwrap().unwrap());
    assert!(
        contains(&out, &foreign),
        "tag keeps the foreign atom byte-identical"
    );
    assert_eq!(fields(&out), vec![("DATAMINING".into(), "http://x".into())]);
}

#[test]
fn spare_of_one_to_seven_bytes_forces_a_rewrite() {
    // The new atom is exactly the size of the old one plus 3 bytes.
    let old = ff_atom("com.apple.iTunes", "TDM-RESERVATION", "1");
    let orig = file(Some(&udta(&[&old], &[&free(8)])), true);
    let edit = tdm("1234");
    let p = plan_of(&orig, &edit).unwrap().unwrap();
    assert!(matches!(p, Plan::Rewrite { .. }));
    assert_eq!(
        fields(&apply(&orig, &p)),
        vec![("TDM-RESERVATION".into(), "1234".into())]
    );
}

#[test]
fn free_after_meta_in_udta_is_used_in_place() {
    let inner = udta(&[&title("x")], &[]);
    let udta = bx(b"udta", &[&inner[8..], &free(500)]);
    let orig = file(Some(&udta), true);
    let p = plan_of(&orig, &tdm("1")).unwrap().unwrap();
    assert!(p.single().is_some());
    let out = apply(&orig, &p);
    assert_eq!(fields(&out), vec![("TDM-RESERVATION".into(), "1".into())]);
    audio_found(&out);
}

#[test]
fn quicktime_meta_without_version_flags_is_read() {
    let ilst = bx(
        b"ilst",
        &[&ff_atom("com.apple.iTunes", "TDM-RESERVATION", "1")],
    );
    let udta = bx(b"udta", &[&bx(b"meta", &[&hdlr(), &ilst])]);
    let orig = file(Some(&udta), false);
    assert_eq!(fields(&orig), vec![("TDM-RESERVATION".into(), "1".into())]);
    assert_eq!(plan_of(&orig, &tdm("1")).unwrap(), None);
}
