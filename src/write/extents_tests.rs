//! The block-map proof on made-up maps: what counts as the same place, and how proven ranges
//! come out of the payload comparison without shifting it.

#![allow(clippy::single_range_in_vec_init)] // one-range payloads are the usual case

use super::*;

/// The comparison `split` leaves (the tail aside).
fn unproven(
    old: &[Range<u64>],
    new: &[Range<u64>],
    proven: &[Range<u64>],
    spans: &[Shared],
) -> (Vec<Range<u64>>, Vec<Range<u64>>) {
    let s = split(old, new, proven, spans, u64::MAX);
    (s.old, s.new)
}

/// The tail `split` finds.
fn tail(
    proven: &[Range<u64>],
    spans: &[Shared],
    old: &[Range<u64>],
    new: &[Range<u64>],
    len: u64,
) -> u64 {
    split(old, new, proven, spans, len).tail
}

fn ext(logical: u64, physical: u64, len: u64) -> Extent {
    Extent {
        logical,
        physical,
        len,
        shared: true,
    }
}

/// A clone of 40 KiB from 8 KiB in the original to 4 KiB in the temp file.
const SPAN: Shared = Shared {
    at: 4096,
    from: 8192,
    len: 40960,
};

#[test]
fn the_same_blocks_prove_the_span() {
    let new = [ext(0, 900_000, 4096), ext(4096, 1_000_000, 40960)];
    let old = [ext(0, 1_000_000 - 8192, 49152)];
    assert_eq!(same_place(&SPAN, &new, &old), vec![4096..45056]);
}

#[test]
fn other_blocks_unshared_extents_and_holes_prove_nothing() {
    let old = [ext(8192, 1_000_000, 40960)];
    // One block off.
    assert!(same_place(&SPAN, &[ext(4096, 1_004_096, 40960)], &old).is_empty());
    // The same place, but not marked shared: a map to distrust.
    let lone = Extent {
        shared: false,
        ..ext(4096, 1_000_000, 40960)
    };
    assert!(same_place(&SPAN, &[lone], &old).is_empty());
    // A hole in the middle of the temp file's range: only the mapped ends are proven.
    let new = [ext(4096, 1_000_000, 8192), ext(20480, 1_016_384, 24576)];
    assert_eq!(
        same_place(&SPAN, &new, &old),
        vec![4096..12288, 20480..45056]
    );
    // A different place for the second half.
    let new = [ext(4096, 1_000_000, 8192), ext(12288, 5_000_000, 32768)];
    assert_eq!(same_place(&SPAN, &new, &old), vec![4096..12288]);
}

#[test]
fn proven_ranges_leave_the_rest_aligned() {
    // Payload: old 8000..48000 is new 3904..43904 (the 4,096-byte shift of SPAN... plus a
    // head copied byte by byte before the clone starts).
    let old = [8000..49152];
    let new = [3904..45056];
    let (o, n) = unproven(&old, &new, &[4096..45056], &[SPAN]);
    assert_eq!(o, vec![8000..8192]);
    assert_eq!(n, vec![3904..4096]);
    // Part proven: the middle is left out, on both sides at the same place.
    let (o, n) = unproven(&old, &new, &[8192..12288], &[SPAN]);
    assert_eq!(o, vec![8000..12288, 16384..49152]);
    assert_eq!(n, vec![3904..8192, 12288..45056]);
}

#[test]
fn a_clone_from_the_wrong_offset_proves_nothing() {
    // The payload says old 8192.. is new 4096.., but the first half was cloned from old 28672
    // (the halves swapped): that clone's blocks are "the same place" as *its* source, yet it
    // must not stand in for the payload's bytes.
    let swapped = Shared {
        at: 4096,
        from: 28672,
        len: 20480,
    };
    let old = [8192..49152];
    let new = [4096..45056];
    let (o, n) = unproven(&old, &new, &[4096..24576], &[swapped]);
    assert_eq!(o, old.to_vec());
    assert_eq!(n, new.to_vec());
}

#[test]
fn payloads_cut_differently_stay_in_step() {
    // Ogg-like: the old payload in two ranges, the new one in three, the same 30 bytes.
    let old = [100..110, 200..220];
    let new = [50..55, 55..60, 150..170];
    let spans = [Shared {
        at: 150,
        from: 200,
        len: 20,
    }];
    let (o, n) = unproven(&old, &new, &[150..170], &spans);
    assert_eq!(o, vec![100..105, 105..110]);
    assert_eq!(n, vec![50..55, 55..60]);
    // Different lengths stay different, so the comparison fails.
    let (o, n) = unproven(&[0..10], &[0..12], &[], &[]);
    assert_eq!((total(&o), total(&n)), (10, 12));
}

fn total(r: &[Range<u64>]) -> u64 {
    r.iter().map(|r| r.end - r.start).sum()
}

/// On a file system without shared extents (the test's temp folder: ext4, tmpfs, …) the maps
/// prove nothing, whatever the spans say, so every byte is compared.
#[test]
fn nothing_is_proven_without_a_clone() {
    let a = tempfile::tempfile().unwrap();
    let b = tempfile::tempfile().unwrap();
    a.set_len(1 << 20).unwrap();
    b.set_len(1 << 20).unwrap();
    let spans = [Shared {
        at: 0,
        from: 0,
        len: 1 << 20,
    }];
    assert!(proven(&a, &b, &spans).is_empty());
}

#[test]
fn the_tail_is_the_last_proven_range_when_the_payload_moves_with_it() {
    // A clone of everything from 4,096 on (old 8,192 on), the payload's two stretches both
    // moved by the same 4,096 bytes.
    let span = [Shared {
        at: 4096,
        from: 8192,
        len: 15904,
    }];
    let (old, new) = ([5000..15000, 15100..24096], [904..10904, 11004..20000]);
    assert_eq!(tail(&[4096..20000], &span, &old, &new, 20000), 4096);
    // The last block copied, not cloned: nothing reaches the end.
    assert_eq!(tail(&[4096..16384], &span, &old, &new, 20000), 20000);
    assert_eq!(tail(&[], &span, &old, &new, 20000), 20000);
    // A stretch after the tail's start that moves by another shift (a body cloned from
    // elsewhere, say): the pages there are checked.
    let (old, new) = ([5000..15000, 16100..25096], [904..10904, 11004..20000]);
    assert_eq!(tail(&[4096..20000], &span, &old, &new, 20000), 20000);
    // Payloads of different lengths: no tail either.
    let (old, new) = ([5000..15000], [904..10904, 11004..20000]);
    assert_eq!(tail(&[4096..20000], &span, &old, &new, 20000), 20000);
}

#[test]
fn kernel_releases_compare_by_major_and_minor() {
    assert!(kernel_at_least("6.18.0-1-amd64", (6, 1)));
    assert!(kernel_at_least("6.1.0", (6, 1)));
    assert!(!kernel_at_least("6.0.19-foo", (6, 1)));
    assert!(!kernel_at_least("5.10.0-28-amd64", (6, 1)));
    assert!(!kernel_at_least("garbage", (6, 1)));
}

#[test]
fn overlapping_extents_are_a_map_to_distrust() {
    let sorted = ordered(vec![ext(8192, 9, 4096), ext(0, 5, 8192)]).unwrap();
    assert_eq!(sorted[0].logical, 0);
    assert!(ordered(vec![ext(0, 5, 8192), ext(4096, 9, 8192)]).is_none());
}

#[test]
fn many_extents_are_walked_in_order() {
    // 100,000 one-block extents on both sides, the same places (apart on the disk): proven
    // whole, as one range, and quickly.
    let n = 100_000u64;
    let span = Shared {
        at: 0,
        from: 1 << 30,
        len: n * 4096,
    };
    let new: Vec<Extent> = (0..n)
        .map(|i| ext(i * 4096, (7 << 30) + i * 8192, 4096))
        .collect();
    let old: Vec<Extent> = (0..n)
        .map(|i| ext((1 << 30) + i * 4096, (7 << 30) + i * 8192, 4096))
        .collect();
    let start = std::time::Instant::now();
    assert_eq!(same_place(&span, &new, &old), vec![0..n * 4096]);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}
