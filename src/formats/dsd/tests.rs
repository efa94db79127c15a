//! Unit tests of DSF and DSDIFF on synthetic files: the size fields follow every edit, `strip`
//! restores the file byte for byte, and broken files are refused with the right kind.

use super::*;
use crate::error::ErrorKind;
use crate::formats::testutil::{apply, source_of};
use crate::model::{Layout, SPEC_KEYS};

fn set() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Default::default()
    }
}

fn strip() -> Edit {
    Edit {
        remove: SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        layout: Layout::Restore,
        ..Default::default()
    }
}

fn dsf(tag: Option<&[u8]>) -> Vec<u8> {
    let mut fmt = b"fmt ".to_vec();
    fmt.extend_from_slice(&52u64.to_le_bytes());
    fmt.extend_from_slice(&[1; 40]);
    let mut data = b"data".to_vec();
    data.extend_from_slice(&(12u64 + 4096).to_le_bytes());
    data.extend((0..4096).map(|i| (i * 7) as u8));
    let body = [fmt, data].concat();
    let len = 28 + body.len() as u64;
    let total = len + tag.map_or(0, |t| t.len() as u64);
    let mut out = b"DSD ".to_vec();
    out.extend_from_slice(&28u64.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&(if tag.is_some() { len } else { 0 }).to_le_bytes());
    out.extend(body);
    out.extend_from_slice(tag.unwrap_or_default());
    out
}

fn dff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u64).to_be_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn dff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = [b"DSD ".to_vec(), chunks.concat()].concat();
    let mut out = b"FRM8".to_vec();
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend(body);
    out
}

fn dff_plain() -> Vec<Vec<u8>> {
    vec![
        dff_chunk(b"FVER", &[1, 5, 0, 0]),
        dff_chunk(b"PROP", b"SND some properties"),
        dff_chunk(b"DSD ", &[0x69; 1001]),
    ]
}

fn le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn fields(c: &dyn ContainerFormat, b: &[u8]) -> Vec<String> {
    let cs = c.carriers(&source_of(b)).unwrap();
    cs.iter()
        .flat_map(|c| c.fields.iter().map(|f| format!("{}={}", f.key, f.value)))
        .collect()
}

#[test]
fn dsf_tag_is_appended_in_place_and_strip_cuts_it_off() {
    let old = dsf(None);
    let plan = Dsf.plan(&source_of(&old), &set()).unwrap().unwrap();
    let Plan::Patch { regions } = &plan else {
        panic!("{plan:?}")
    };
    assert_eq!(regions[0].offset, 12, "the sizes first");
    assert_eq!(
        regions.last().unwrap().offset,
        old.len() as u64,
        "then the append"
    );
    let new = apply(&old, &plan);
    assert_eq!(le(&new, 12), new.len() as u64);
    assert_eq!(le(&new, 20), old.len() as u64);
    assert_eq!(&new[old.len()..old.len() + 3], b"ID3");
    assert_eq!(&new[28..old.len()], &old[28..], "the chunks are untouched");
    assert_eq!(fields(&Dsf, &new), ["TDM-RESERVATION=1"]);
    let again = Dsf.plan(&source_of(&new), &set()).unwrap();
    assert_eq!(again, None, "idempotent");
    let plan = Dsf.plan(&source_of(&new), &strip()).unwrap().unwrap();
    assert!(matches!(plan, Plan::Cut { .. }), "{plan:?}");
    assert_eq!(apply(&new, &plan), old);
}

#[test]
fn a_dsf_tag_that_outgrows_its_slot_grows_into_the_end() {
    let small = id3v2::new_tag(&Edit::default(), Some(20)).unwrap();
    let old = dsf(Some(&small));
    let plan = Dsf.plan(&source_of(&old), &set()).unwrap().unwrap();
    let new = apply(&old, &plan);
    assert!(new.len() > old.len());
    assert_eq!(le(&new, 12), new.len() as u64);
    assert_eq!(le(&new, 20), le(&old, 20), "the tag stays where it was");
    assert_eq!(fields(&Dsf, &new), ["TDM-RESERVATION=1"]);
    let p = Dsf.payload(&source_of(&old)).unwrap();
    assert_eq!(p, [0..12, 28..le(&old, 20)]);
}

#[test]
fn broken_dsf_files_are_refused() {
    let good = dsf(None);
    let kind = |b: &[u8]| Dsf.plan(&source_of(b), &set()).unwrap_err().kind();
    let mut wrong_total = good.clone();
    wrong_total[12] ^= 1;
    assert!(matches!(
        kind(&wrong_total),
        ErrorKind::Truncated | ErrorKind::Corrupt
    ));
    let mut into_audio = good.clone();
    into_audio[20] = 40;
    assert_eq!(kind(&into_audio), ErrorKind::Corrupt);
    let mut cut = good.clone();
    cut.truncate(good.len() - 10);
    let n = cut.len() as u64;
    cut[12..20].copy_from_slice(&n.to_le_bytes());
    assert_eq!(kind(&cut), ErrorKind::Truncated);
    // Bytes after the tag that are not padding: nothing explains them.
    let mut tag = id3v2::new_tag(&Edit::default(), Some(40)).unwrap();
    tag.push(b'x');
    assert_eq!(kind(&dsf(Some(&tag))), ErrorKind::Corrupt);
}

#[test]
fn dsdiff_tag_is_appended_and_strip_restores_the_file() {
    let old = dff(&dff_plain());
    let plan = Dsdiff.plan(&source_of(&old), &set()).unwrap().unwrap();
    assert!(
        matches!(&plan, Plan::Patch { regions } if regions[0].offset == 4),
        "{plan:?}"
    );
    let new = apply(&old, &plan);
    assert_eq!(
        u64::from_be_bytes(new[4..12].try_into().unwrap()) + 12,
        new.len() as u64
    );
    assert_eq!(&new[old.len()..old.len() + 4], b"ID3 ");
    assert_eq!(fields(&Dsdiff, &new), ["TDM-RESERVATION=1"]);
    let plan = Dsdiff.plan(&source_of(&new), &strip()).unwrap().unwrap();
    assert!(matches!(plan, Plan::Cut { .. }), "{plan:?}");
    assert_eq!(apply(&new, &plan), old);
}

#[test]
fn a_dsdiff_tag_before_the_audio_that_grows_means_a_rewrite() {
    let small = id3v2::new_tag(&Edit::default(), Some(21)).unwrap();
    let mut chunks = dff_plain();
    chunks.insert(1, dff_chunk(b"ID3 ", &small));
    let old = dff(&chunks);
    let plan = Dsdiff.plan(&source_of(&old), &set()).unwrap().unwrap();
    assert!(matches!(plan, Plan::Rewrite { .. }), "{plan:?}");
    let new = apply(&old, &plan);
    assert_eq!(
        u64::from_be_bytes(new[4..12].try_into().unwrap()) + 12,
        new.len() as u64
    );
    assert!(new.ends_with(&chunks[3]), "the audio chunk moved whole");
    assert_eq!(fields(&Dsdiff, &new), ["TDM-RESERVATION=1"]);
    // Strip takes the chunk out again (a rewrite, as it is not last).
    let plan = Dsdiff.plan(&source_of(&new), &strip()).unwrap().unwrap();
    let back = apply(&new, &plan);
    let mut without = dff_plain();
    without.truncate(3);
    assert_eq!(back, dff(&without));
}

#[test]
fn a_rewrite_that_would_move_dst_frames_under_their_index_is_refused() {
    let small = id3v2::new_tag(&Edit::default(), Some(21)).unwrap();
    let mut chunks = dff_plain();
    chunks.insert(1, dff_chunk(b"ID3 ", &small));
    chunks.push(dff_chunk(b"DSTI", &[0; 24]));
    let old = dff(&chunks);
    let e = Dsdiff.plan(&source_of(&old), &set()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("DSTI"), "{e}");
    // With the tag last there is no move: the index stays right and the write goes ahead.
    let mut last = dff_plain();
    last.push(dff_chunk(b"DSTI", &[0; 24]));
    last.push(dff_chunk(b"ID3 ", &small));
    assert!(Dsdiff.plan(&source_of(&dff(&last)), &set()).is_ok());
}

#[test]
fn broken_dsdiff_files_are_refused() {
    let kind = |b: &[u8]| Dsdiff.plan(&source_of(b), &set()).unwrap_err().kind();
    let good = dff(&dff_plain());
    let mut long = good.clone();
    long[11] += 40;
    assert_eq!(kind(&long), ErrorKind::Truncated);
    let mut chunk_past = good.clone();
    let n = chunk_past.len();
    chunk_past.truncate(n - 100);
    chunk_past[4..12].copy_from_slice(&((n - 100 - 12) as u64).to_be_bytes());
    assert_eq!(kind(&chunk_past), ErrorKind::Truncated);
    let mut huge = good.clone();
    huge[4..12].copy_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(kind(&huge), ErrorKind::Corrupt);
    let tag = id3v2::new_tag(&Edit::default(), Some(20)).unwrap();
    let mut two = dff_plain();
    two.push(dff_chunk(b"ID3 ", &tag));
    two.push(dff_chunk(b"ID3 ", &tag));
    assert_eq!(kind(&dff(&two)), ErrorKind::Unsupported);
}
