//! Unit tests of RF64/BW64: the 32-bit sizes stay 0xFFFFFFFF, the `ds64` root size follows every
//! edit (appended, grown in place, rewritten, stripped), and a broken `ds64` is refused.

use super::super::{carriers, payload, plan as plan_edit};
use crate::error::ErrorKind;
use crate::formats::testutil::{apply, source_of};
use crate::formats::{Edit, Plan};
use crate::model::{Layout, SPEC_KEYS};

/// An RF64 file: `ds64` (with `table`), then `chunks`; a chunk named `data` gets the
/// 0xFFFFFFFF size and its real size in `ds64`.
fn rf64(form: &[u8; 4], chunks: &[(&[u8; 4], &[u8])], table: &[([u8; 4], u64)]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut data_len = 0;
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        if id == &b"data" {
            data_len = data.len() as u64;
            body.extend_from_slice(&u32::MAX.to_le_bytes());
        } else {
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        }
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let ds_len = 28 + 12 * table.len() as u32;
    let riff = 4 + 8 + u64::from(ds_len) + body.len() as u64;
    let mut out = form.to_vec();
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(b"WAVEds64");
    out.extend_from_slice(&ds_len.to_le_bytes());
    out.extend_from_slice(&riff.to_le_bytes());
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&7u64.to_le_bytes());
    out.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for (id, n) in table {
        out.extend_from_slice(id);
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend(body);
    out
}

fn set() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Default::default()
    }
}

fn riff_size(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[20..28].try_into().unwrap())
}

fn fields(b: &[u8]) -> Vec<String> {
    let cs = carriers(&source_of(b)).unwrap();
    cs.iter()
        .flat_map(|c| c.fields.iter().map(|f| format!("{}={}", f.key, f.value)))
        .collect()
}

#[test]
fn a_tag_appended_to_rf64_sets_the_ds64_size_not_the_32_bit_one() {
    let old = rf64(b"RF64", &[(b"fmt ", &[1; 16]), (b"data", &[7; 101])], &[]);
    let plan = plan_edit(&source_of(&old), &set()).unwrap().unwrap();
    let Plan::Patch { regions } = &plan else {
        panic!("{plan:?}")
    };
    assert_eq!(regions[0].offset, 20, "the ds64 riffSize, not offset 4");
    let new = apply(&old, &plan);
    assert_eq!(&new[4..8], &[0xFF; 4]);
    assert_eq!(riff_size(&new) + 8, new.len() as u64);
    assert_eq!(&new[28..36], &old[28..36], "the data size is kept");
    assert_eq!(fields(&new), ["TDM-RESERVATION=1"]);
    let p = payload(&source_of(&old)).unwrap();
    assert_eq!(p[0], 12..20);
    assert_eq!(p[1].start, 28);
    // strip (restoring the layout) removes the chunk again: the original, byte for byte.
    let strip = Edit {
        remove: SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        layout: Layout::Restore,
        ..Default::default()
    };
    let plan = plan_edit(&source_of(&new), &strip).unwrap().unwrap();
    assert!(
        matches!(plan, Plan::Cut { .. }),
        "cut off in place: {plan:?}"
    );
    assert_eq!(apply(&new, &plan), old);
}

#[test]
fn a_growing_tag_before_the_audio_is_rewritten_with_the_ds64_size() {
    let tag = crate::formats::id3v2::new_tag(&Edit::default(), Some(20)).unwrap();
    let old = rf64(
        b"BW64",
        &[(b"fmt ", &[1; 16]), (b"id3 ", &tag), (b"data", &[7; 100])],
        &[],
    );
    let plan = plan_edit(&source_of(&old), &set()).unwrap().unwrap();
    assert!(matches!(plan, Plan::Rewrite { .. }), "{plan:?}");
    let new = apply(&old, &plan);
    assert_eq!(&new[..8], b"BW64\xff\xff\xff\xff");
    assert_eq!(riff_size(&new) + 8, new.len() as u64);
    assert!(new.ends_with(&[7; 100]));
    assert_eq!(fields(&new), ["TDM-RESERVATION=1"]);
}

#[test]
fn a_chunk_sized_by_the_ds64_table_is_walked() {
    let old = rf64(
        b"RF64",
        &[(b"fmt ", &[1; 16]), (b"data", &[7; 10])],
        &[(*b"junk", 3)],
    );
    assert_eq!(plan_edit(&source_of(&old), &Edit::default()).unwrap(), None);
    let mut big = old.clone();
    let fmt = 12 + 8 + 40;
    assert_eq!(&big[fmt..fmt + 4], b"fmt ");
    big[fmt + 4..fmt + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = plan_edit(&source_of(&big), &set()).unwrap_err();
    assert!(
        err.to_string().contains("no entry in the ds64 table"),
        "{err}"
    );
}

#[test]
fn a_broken_ds64_is_refused() {
    let good = rf64(b"RF64", &[(b"fmt ", &[1; 16]), (b"data", &[7; 10])], &[]);
    let kind = |b: &[u8]| plan_edit(&source_of(b), &set()).unwrap_err().kind();
    let mut long = good.clone();
    long[20] += 40;
    assert_eq!(kind(&long), ErrorKind::Truncated);
    let mut zero = good.clone();
    zero[20..28].fill(0);
    assert_eq!(kind(&zero), ErrorKind::Unsupported, "unfinalized");
    let mut table = good.clone();
    table[44] = 200;
    assert_eq!(kind(&table), ErrorKind::Corrupt);
    let mut no_ds64 = good.clone();
    no_ds64[12..16].copy_from_slice(b"JUNK");
    assert_eq!(kind(&no_ds64), ErrorKind::Corrupt);
    let mut data_past = good.clone();
    data_past[28] = 200;
    assert_eq!(kind(&data_past), ErrorKind::Truncated);
}
