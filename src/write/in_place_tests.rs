//! The in-place strategy's pure parts: a cut's checks, the runs that differ, the holes an
//! append leaves.

use super::{HOLE, Region, Undo, check_cut, differing_runs, leave_holes, outside_zero_runs};
use crate::write::journal::gaps;

#[test]
fn a_cut_shortens_the_file_and_keeps_audio_and_writes_whole() {
    let audio = std::slice::from_ref(&(100..900));
    let r = |offset, n| Region {
        offset,
        bytes: vec![0; n],
    };
    assert!(check_cut(900, 1000, audio, &[r(10, 90)]).is_ok());
    assert!(check_cut(1000, 1000, audio, &[]).is_err(), "not shorter");
    assert!(check_cut(899, 1000, audio, &[]).is_err(), "into the audio");
    assert!(
        check_cut(950, 1000, audio, &[r(940, 20)]).is_err(),
        "into a write"
    );
}

#[test]
fn only_differing_runs_are_written() {
    assert_eq!(differing_runs(b"abcdef", b"abcdef"), vec![]);
    assert_eq!(differing_runs(b"abcdef", b"abXdef"), vec![(2, 1)]);
    let old = vec![0u8; 300];
    let mut new = old.clone();
    new[0] = 1;
    new[10] = 1;
    new[200] = 1;
    assert_eq!(
        differing_runs(&old, &new),
        vec![(0, 11), (200, 1)],
        "near runs merge"
    );
    // Every single-byte change in a long run of equal bytes is found, wherever it falls
    // relative to the strides that skip equal bytes.
    for at in 0..300 {
        let mut one = old.clone();
        one[at] = 7;
        assert_eq!(differing_runs(&old, &one), vec![(at, 1)], "change at {at}");
    }
}

#[test]
fn long_zero_runs_are_left_out() {
    let mut b = vec![1u8; 10];
    b.extend(vec![0; 5000]);
    b.extend([2; 3]);
    b.extend(vec![0; 100]);
    b.extend([3; 3]);
    b.extend(vec![0; 4096]);
    assert_eq!(outside_zero_runs(&b, HOLE), vec![(0, 10), (5010, 106)]);
    assert_eq!(outside_zero_runs(&[0; 4095], HOLE), vec![(0, 4095)]);
    assert_eq!(outside_zero_runs(&[0; 4096], HOLE), vec![]);
    assert_eq!(outside_zero_runs(&[], HOLE), vec![]);
}

#[test]
fn only_an_append_gets_holes() {
    let undo = |offset, new_len| Undo {
        offset,
        old: Vec::new(),
        new_len,
    };
    let mut bytes = b"ID3".to_vec();
    bytes.extend(vec![0; 8192]);
    bytes.extend(b"_PMX");
    let append = Region {
        offset: 100,
        bytes: bytes.clone(),
    };
    let mut regions = vec![
        Region {
            offset: 4,
            bytes: vec![0; 90],
        },
        append,
    ];
    let mut undos = vec![undo(4, 90), undo(100, bytes.len() as u64)];
    leave_holes(&mut regions, &mut undos, 100);
    let at: Vec<_> = regions.iter().map(|r| (r.offset, r.bytes.len())).collect();
    assert_eq!(
        at,
        [(4, 90), (100, 3), (8295, 4)],
        "zeros inside the file stay"
    );
    let at: Vec<_> = undos.iter().map(|u| (u.offset, u.new_len)).collect();
    assert_eq!(at, [(4, 90), (100, 3), (8295, 4)]);
    // What the journal and `apply` take for the hole.
    assert_eq!(gaps(100, 8299, at.iter().copied()), vec![103..8295]);
    // Not an append (the file is longer): nothing changes.
    let mut same = vec![Region {
        offset: 100,
        bytes: vec![0; 8192],
    }];
    let mut u = vec![undo(100, 8192)];
    leave_holes(&mut same, &mut u, 200);
    assert_eq!((same[0].bytes.len(), u[0].new_len), (8192, 8192));
}
