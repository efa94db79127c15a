//! The journal format: what `parse` makes of a record, whole, cut short, of another version.

use super::*;

fn snap(size: u64) -> Snapshot {
    Snapshot::made_up(size)
}

fn record(old_size: u64, new_size: u64, regions: &[(u64, &[u8], &[u8])]) -> Vec<u8> {
    let undo: Vec<Undo> = regions
        .iter()
        .map(|(offset, old, new)| Undo {
            offset: *offset,
            old: old.to_vec(),
            new_len: new.len() as u64,
        })
        .collect();
    let changes: Vec<(&Undo, &[u8])> = undo.iter().zip(regions.iter().map(|r| r.2)).collect();
    encode(b"song.flac", &snap(old_size), new_size, &changes)
}

#[test]
fn a_whole_record_reads_back_with_old_and_new_bytes() {
    let rec = record(16, 20, &[(2, b"ab", b"xy"), (16, b"", b"tail")]);
    let Parsed::Current(d) = parse(&rec) else {
        panic!("{:?}", parse(&rec))
    };
    assert_eq!((d.dev, d.ino, d.old_size, d.new_size), (1, 2, 16, 20));
    assert_eq!(d.name, b"song.flac");
    assert_eq!(
        d.changes,
        vec![
            Change {
                offset: 2,
                old: b"ab".to_vec(),
                new: b"xy".to_vec()
            },
            Change {
                offset: 16,
                old: vec![],
                new: b"tail".to_vec()
            },
        ]
    );
}

#[test]
fn a_record_cut_short_anywhere_is_torn() {
    let rec = record(16, 16, &[(2, b"ab", b"xy")]);
    for cut in 0..rec.len() {
        assert!(matches!(parse(&rec[..cut]), Parsed::Torn), "cut at {cut}");
    }
    assert!(matches!(parse(&vec![0u8; 300]), Parsed::Torn), "zeros");
}

#[test]
fn another_version_or_another_file_is_not_ours_to_delete() {
    let mut rec = record(16, 16, &[(2, b"ab", b"xy")]);
    rec[5..8].copy_from_slice(b"002");
    assert!(matches!(parse(&rec), Parsed::OtherVersion(v) if v == "002"));
    assert!(matches!(
        parse(b"ID3\x03 something else"),
        Parsed::Foreign(_)
    ));
}

#[test]
fn regions_outside_the_sizes_are_refused_even_with_a_good_checksum() {
    // Old bytes past the old size, an append not journalled to its end (before 007, which
    // leaves holes), regions out of order.
    for rec in [
        record(16, 16, &[(15, b"ab", b"xy")]),
        rec_with_magic(&record(16, 24, &[(16, b"", b"tail")]), MAGIC_005),
        record(16, 16, &[(8, b"ab", b"xy"), (2, b"ab", b"xy")]),
        record(16, 8, &[]),
    ] {
        assert!(
            matches!(parse(&rec), Parsed::Foreign(_)),
            "{:?}",
            parse(&rec)
        );
    }
}

#[test]
fn a_change_too_large_for_a_journal_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.flac");
    let old = vec![0u8; (MAX_BYTES / 2) as usize + 1];
    let new = vec![1u8; old.len()];
    let undo = [Undo {
        offset: 0,
        old,
        new_len: new.len() as u64,
    }];
    let size = undo[0].old.len() as u64;
    let e = Journal::create(&p, &snap(size), size, &undo, &[&new])
        .err()
        .unwrap();
    assert!(e.to_string().contains("too large"), "{}", e.to_string());
    assert!(!journal_path(&p).exists());
}

#[test]
fn the_target_is_found_by_name_or_by_the_recorded_long_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("song.flac");
    let j = journal_path(&p);
    assert_eq!(target_of(&j, b"garbage"), Some(p.clone()));
    let long = dir.path().join(format!("{}.flac", "x".repeat(250)));
    let lj = journal_path(&long);
    let rec = {
        let undo: [(&Undo, &[u8]); 0] = [];
        encode(long.file_name().unwrap().as_bytes(), &snap(4), 4, &undo)
    };
    assert_eq!(target_of(&lj, &rec), Some(long));
    // A record naming another file does not redirect a journal to it.
    assert_eq!(target_of(&j, &rec), Some(p));
}

#[test]
fn the_times_are_recorded_and_a_003_journal_still_reads() {
    let mut s = snap(16);
    (s.mtime, s.atime) = ((1_700_000_000, 5), (1_600_000_000, 9));
    let u = Undo {
        offset: 2,
        old: b"ab".to_vec(),
        new_len: 2,
    };
    let rec = encode(b"song.flac", &s, 16, &[(&u, b"xy")]);
    let Parsed::Current(d) = parse(&rec) else {
        panic!("{:?}", parse(&rec))
    };
    assert_eq!(d.times, Some([(1_700_000_000, 5), (1_600_000_000, 9)]));
    // The same record in format 003: no times between the sizes and the region count.
    let mut old = MAGIC_003.to_vec();
    let body = &rec[MAGIC.len()..rec.len() - 32];
    let cut = 8 + 9 + 4 * 8; // name length, name, dev/ino/sizes
    old.extend_from_slice(&body[..cut]);
    old.extend_from_slice(&body[cut + 32..]);
    let sum = Sha256::digest(&old);
    old.extend_from_slice(&sum);
    let Parsed::Current(d) = parse(&old) else {
        panic!("{:?}", parse(&old))
    };
    assert_eq!(
        (d.times, d.old_size, d.name.as_slice()),
        (None, 16, &b"song.flac"[..])
    );
    assert_eq!(d.changes[0].new, b"xy");
    assert_eq!(
        target_of(std::path::Path::new("/m/.song.flac.noai-journal"), &old),
        Some(std::path::PathBuf::from("/m/song.flac"))
    );
}

#[test]
fn a_cut_record_reads_back_only_with_its_whole_tail() {
    // The file goes from 20 to 16 bytes: the 4 cut bytes are a region with no new bytes.
    let rec = record(20, 16, &[(2, b"ab", b"xy"), (16, b"uuid", b"")]);
    let Parsed::Current(d) = parse(&rec) else {
        panic!("{:?}", parse(&rec))
    };
    assert_eq!((d.old_size, d.new_size), (20, 16));
    assert_eq!(d.changes[1].old, b"uuid");
    assert!(d.changes[1].new.is_empty());
    // A tail not journalled to the old end could not be put back: not trusted.
    for partial in [&[(16, &b"uu"[..], &b""[..])][..], &[(17, b"uid", b"")]] {
        let rec = record(20, 16, partial);
        assert!(matches!(parse(&rec), Parsed::Foreign(_)), "{partial:?}");
    }
    // Format 004 never cut a file: such a 004 record is not ours.
    let mut old = rec_with_magic(&record(20, 16, &[(16, b"uuid", b"")]), MAGIC_004);
    assert!(matches!(parse(&old), Parsed::Foreign(_)));
    old = rec_with_magic(&record(16, 20, &[(16, b"", b"uuid")]), MAGIC_004);
    assert!(
        matches!(parse(&old), Parsed::Current(_)),
        "004 still reads: {:?}",
        parse(&old)
    );
}

/// `rec` under another magic, its checksum made again.
fn rec_with_magic(rec: &[u8], magic: &[u8; 8]) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend_from_slice(&rec[8..rec.len() - 32]);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

#[test]
fn a_007_record_may_leave_holes_in_the_append_only() {
    // 16 -> 40 bytes: the append journals 4 bytes at 16 and 4 at 30; 20..30 and 34..40 are
    // holes (zeros in the new version).
    let rec = record(
        16,
        40,
        &[(2, b"ab", b"xy"), (16, b"", b"ID3x"), (30, b"", b"_PMX")],
    );
    assert!(rec.starts_with(MAGIC), "holes need 007");
    let Parsed::Current(d) = parse(&rec) else {
        panic!("{:?}", parse(&rec))
    };
    assert_eq!(d.gaps(), vec![20..30, 34..40]);
    // Without holes (a patch, a whole append, a cut) a record is written as 005.
    for whole in [
        record(16, 16, &[(2, b"ab", b"xy")]),
        record(16, 20, &[(2, b"ab", b"xy"), (16, b"", b"tail")]),
        record(20, 16, &[(16, b"uuid", b"")]),
    ] {
        assert!(whole.starts_with(MAGIC_005));
    }
    // A whole append has none, and a 005 record with a hole is not ours.
    let Parsed::Current(whole) = parse(&record(16, 20, &[(16, b"", b"tail")])) else {
        panic!()
    };
    assert!(whole.gaps().is_empty());
    let holed = rec_with_magic(&rec, MAGIC_005);
    assert!(matches!(parse(&holed), Parsed::Foreign(_)));
    let whole_005 = rec_with_magic(&record(16, 20, &[(16, b"", b"tail")]), MAGIC_005);
    assert!(matches!(parse(&whole_005), Parsed::Current(_)), "005 reads");
}
