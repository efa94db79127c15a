//! Unit tests on MP4 input the planner must refuse or survive: corrupt and unsupported layouts,
//! chunk offsets that would overflow, offsets at the edge of `moov`, and mangled bytes.

use super::*;

#[test]
fn corrupt_and_unsupported_files_are_errors() {
    let good = file(Some(&udta(&[&title("x")], &[])), false);
    // Truncated moov (at the end of the file).
    let cut = &good[..good.len() - 10];
    assert!(with_src(cut, carriers).is_err());
    assert!(plan_of(cut, &tdm("1")).is_err());
    // A zero-size child inside udta: an error, not a hang.
    let zero = bx(b"udta", &[&[0, 0, 0, 0], b"free", &[0; 8]]);
    let f = file(Some(&zero), true);
    assert!(
        with_src(&f, carriers)
            .unwrap_err()
            .to_string()
            .contains("size 0")
    );
    // Two moov boxes, a fragmented file, a moov of size 0.
    let moov = children(&good[..], 0, good.len() as u64, true).unwrap()[2];
    let two = [&good[..], &good[moov.start as usize..]].concat();
    assert!(
        plan_of(&two, &tdm("1"))
            .unwrap_err()
            .to_string()
            .contains("more than one moov")
    );
    let frag = [&good[..], &bx(b"moof", &[&[0; 8]])].concat();
    assert!(
        plan_of(&frag, &tdm("1"))
            .unwrap_err()
            .to_string()
            .contains("fragmented")
    );
    let moov0 = file_with(Some(&udta(&[], &[])), false, Form::ZeroSize, Form::Short);
    assert!(
        plan_of(&moov0, &tdm("1"))
            .unwrap_err()
            .to_string()
            .contains("size 0")
    );
    // A box claiming more than the file.
    let mut big = good.clone();
    big[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(with_src(&big, payload).is_err());
    // Empty and tiny inputs.
    assert!(with_src(b"", carriers).is_err());
    assert!(with_src(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x02", carriers).is_err());
}

#[test]
fn stco_overflow_is_refused() {
    // A chunk offset just below 4 GiB after a moov-first layout would overflow when moov grows.
    let u = udta(&[&title("x")], &[]);
    let mut orig = file(Some(&u), true);
    let top = children(&orig[..], 0, orig.len() as u64, true).unwrap();
    let traks = descend(&orig[..], &[top[1]], b"trak").unwrap();
    let at = traks[0].body() as usize + 8 * 4 + 8; // mdia, minf, stbl, stco headers + flags, count
    orig[at..at + 4].copy_from_slice(&(u32::MAX - 10).to_be_bytes());
    assert!(
        plan_of(&orig, &tdm("1"))
            .unwrap_err()
            .to_string()
            .contains("32-bit")
    );
}

#[test]
fn chunk_offsets_move_only_past_moov() {
    let trak = |t: &[u8]| {
        bx(
            b"trak",
            &[&bx(b"mdia", &[&bx(b"minf", &[&bx(b"stbl", &[t])])])],
        )
    };
    let count = |n: u32| n.to_be_bytes();
    let stco = bx(
        b"stco",
        &[
            &[0; 4],
            &count(2),
            &10u32.to_be_bytes(),
            &500u32.to_be_bytes(),
        ],
    );
    let co64 = bx(b"co64", &[&[0; 4], &count(1), &600u64.to_be_bytes()]);
    let mut moov = bx(b"moov", &[&trak(&stco), &trak(&co64)]);
    shift_chunk_offsets(&mut moov, 100..200, 1000).unwrap();
    let want_stco = bx(
        b"stco",
        &[
            &[0; 4],
            &count(2),
            &10u32.to_be_bytes(),
            &1500u32.to_be_bytes(),
        ],
    );
    let want_co64 = bx(b"co64", &[&[0; 4], &count(1), &1600u64.to_be_bytes()]);
    assert_eq!(moov, bx(b"moov", &[&trak(&want_stco), &trak(&want_co64)]));
    // An offset into moov itself, or a count larger than the table, is refused.
    let inside = bx(b"stco", &[&[0; 4], &count(1), &150u32.to_be_bytes()]);
    assert!(shift_chunk_offsets(&mut bx(b"moov", &[&trak(&inside)]), 100..200, 8).is_err());
    let short = bx(b"co64", &[&[0; 4], &count(1000), &600u64.to_be_bytes()]);
    assert!(shift_chunk_offsets(&mut bx(b"moov", &[&trak(&short)]), 100..200, 8).is_err());
}

#[test]
fn mangled_files_give_errors_never_panics() {
    use std::os::unix::fs::FileExt;
    let smpb = ff_atom("com.apple.iTunes", "iTunSMPB", "x");
    let bases = [
        file(Some(&udta(&[&title("x"), &smpb], &[&free(40)])), true),
        file_with(Some(&udta(&[&smpb], &[])), false, Form::Large, Form::Large),
    ];
    let tmp = tempfile::NamedTempFile::new().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..4000 {
        let mut bytes = bases[round % 2].clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = [0, 1, 7, 8, 0xff, next() as u8][(next() % 6) as usize];
        }
        if next() % 4 == 0 {
            bytes.truncate((next() % bytes.len() as u64) as usize);
        }
        tmp.as_file().set_len(0).unwrap();
        tmp.as_file().write_all_at(&bytes, 0).unwrap();
        let src = Source::new(tmp.as_file(), bytes.len() as u64);
        let _ = carriers(&src);
        let _ = payload(&src);
        if let Ok(Some(p)) = plan(&src, &tdm("1")) {
            if let (Some(Region { offset, bytes: b }), Ok(audio)) = (p.single(), payload(&src)) {
                let end = offset + b.len() as u64;
                assert!(
                    audio.iter().all(|r| end <= r.start || *offset >= r.end),
                    "in place hits audio"
                );
            }
            let _ = apply(&bytes, &p);
        }
    }
}
