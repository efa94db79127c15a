//! Unit tests on synthetic Ogg streams: shared builders (pages, Opus/Vorbis/Speex headers, plan
//! application with re-reading of every page), the CRC and lacing; plans and refusals follow.

use std::io::Write;

use super::page::{self, FLAG_BOS, FLAG_CONTINUED, FLAG_EOS, NO_GRANULE, PageHeader, Stream};
use super::*;
use crate::formats::vorbis::Comments;
use crate::formats::{Part, REWRITE_PADDING};

mod flac;
mod padding;
mod plans;
mod refusals;

const SERIAL: u32 = 0x1234_5678;

fn with<T>(bytes: &[u8], f: impl FnOnce(&Source) -> T) -> T {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    f(&Source::new(&file, bytes.len() as u64))
}

fn lace(len: usize) -> Vec<u8> {
    let mut v = vec![255u8; len / 255];
    v.push((len % 255) as u8);
    v
}

fn raw_page(
    flags: u8,
    granule: u64,
    serial: u32,
    seq: u32,
    lacing: Vec<u8>,
    body: &[u8],
) -> Vec<u8> {
    let h = PageHeader {
        offset: 0,
        flags,
        granule,
        serial,
        sequence: seq,
        crc: 0,
        lacing,
    };
    let mut out = h.encode(h.compute_crc(body));
    out.extend_from_slice(body);
    out
}

fn block(entries: &[&str]) -> Vec<u8> {
    let entries = entries.iter().map(|e| e.as_bytes().to_vec()).collect();
    Comments {
        vendor: b"test vendor".to_vec(),
        entries,
    }
    .encode()
}

fn opus_id() -> Vec<u8> {
    let mut v = b"OpusHead".to_vec();
    v.extend_from_slice(&[1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    v
}

fn opus_tags(entries: &[&str], pad: usize) -> Vec<u8> {
    let mut v = b"OpusTags".to_vec();
    v.extend_from_slice(&block(entries));
    v.resize(v.len() + pad, 0);
    v
}

fn vorbis_id() -> Vec<u8> {
    let mut v = b"\x01vorbis".to_vec();
    v.resize(30, 1);
    v
}

fn vorbis_comment(entries: &[&str]) -> Vec<u8> {
    let mut v = b"\x03vorbis".to_vec();
    v.extend_from_slice(&block(entries));
    v.push(1);
    v
}

fn vorbis_setup(len: usize) -> Vec<u8> {
    let mut v = b"\x05vorbis".to_vec();
    v.extend((0..len).map(|i| (i * 7 % 251) as u8));
    v
}

/// A stream: the id page, `headers` packed `segs` segments a page, then `audio` packets one a
/// page (the last with EOS).
fn stream(id: &[u8], headers: &[&[u8]], segs: usize, audio: &[usize]) -> Vec<u8> {
    let mut out = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(id.len()), id);
    let st = Stream {
        serial: SERIAL,
        first_seq: 1,
        granule: 0,
        eos_last: false,
    };
    let hdr = page::paginate_with(headers, &st, segs).unwrap();
    let n = pages_of(&hdr).len() as u32;
    out.extend_from_slice(&hdr);
    for (i, &len) in audio.iter().enumerate() {
        let body: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        let flags = if i + 1 == audio.len() { FLAG_EOS } else { 0 };
        out.extend(raw_page(
            flags,
            (i as u64 + 1) * 960,
            SERIAL,
            1 + n + i as u32,
            lace(len),
            &body,
        ));
    }
    out
}

fn speex_id() -> Vec<u8> {
    let mut id = b"Speex   ".to_vec();
    id.resize(80, 0);
    id
}

/// Where the last part of a rewrite (the audio pages) lands in the new file, and whether it is
/// a plain copy (not renumbered).
fn audio_at(plan: &Plan) -> (u64, bool) {
    let Plan::Rewrite { parts } = plan else {
        panic!("{plan:?}")
    };
    let at = parts[..parts.len() - 1]
        .iter()
        .map(|p| match p {
            Part::Bytes(b) => b.len() as u64,
            Part::Copy { len, .. } | Part::OggPages { len, .. } => *len,
        })
        .sum();
    (at, matches!(parts.last(), Some(Part::Copy { .. })))
}

fn opus_file(entries: &[&str], pad: usize) -> Vec<u8> {
    stream(
        &opus_id(),
        &[&opus_tags(entries, pad)],
        255,
        &[100, 300, 40],
    )
}

/// Every page, CRC-checked.
fn pages_of(bytes: &[u8]) -> Vec<(PageHeader, Vec<u8>)> {
    with(bytes, |src| {
        let mut out = Vec::new();
        let mut off = 0;
        while off < src.len() {
            let (h, body) = page::read_page(src, off).unwrap();
            off = h.end();
            out.push((h, body));
        }
        out
    })
}

fn apply(orig: &[u8], plan: &Plan) -> Vec<u8> {
    try_apply(orig, plan).unwrap()
}

/// Scans, takes the payload of and plans a tag on 400 damaged copies of each file (1–4 random
/// bytes changed, a quarter also cut short, xorshift from `seed`): errors, never a panic.
fn damage_never_panics(files: &[Vec<u8>], mut seed: u64) {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for file in files {
        for _ in 0..400 {
            let mut f = file.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % f.len() as u64) as usize;
                f[i] = next() as u8;
            }
            if next() % 4 == 0 {
                f.truncate((next() % f.len() as u64) as usize);
            }
            with(&f, |s| {
                let _ = carriers(s);
                let _ = payload(s);
                if let Ok(Some(p)) = plan(s, &tag_edit()) {
                    let _ = try_apply(&f, &p);
                }
            });
        }
    }
}

fn try_apply(orig: &[u8], plan: &Plan) -> crate::formats::Result<Vec<u8>> {
    crate::formats::render::apply(&crate::formats::testutil::source_of(orig), plan)
}

/// Plans `edit`, applies it and checks the result: every CRC valid, sequence numbers consecutive,
/// one serial, audio pages (flags, granule, body) and header packets after the comments unchanged.
fn edit_and_check(orig: &[u8], edit: &Edit) -> (Plan, Vec<u8>) {
    let plan = with(orig, |s| plan(s, edit)).unwrap().expect("a change");
    let out = apply(orig, &plan);
    let pages = pages_of(&out);
    for (i, (h, _)) in pages.iter().enumerate() {
        assert_eq!(h.sequence, i as u32, "page {i} sequence");
        assert_eq!(h.serial, SERIAL);
        assert_eq!(h.has(FLAG_BOS), i == 0);
    }
    let audio = |bytes: &[u8]| {
        let n = with(bytes, payload).unwrap().len();
        let p = pages_of(bytes);
        p[p.len() - n..]
            .iter()
            .map(|(h, b)| (h.flags, h.granule, b.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(audio(orig), audio(&out), "audio pages unchanged");
    let (old, new) = (
        with(orig, |s| Headers::read(s, true)).unwrap(),
        with(&out, |s| Headers::read(s, true)).unwrap(),
    );
    assert_eq!(old.packets[0], new.packets[0]);
    assert_eq!(
        old.packets[2..],
        new.packets[2..],
        "later header packets byte-identical"
    );
    (plan, out)
}

fn fields(bytes: &[u8]) -> Vec<String> {
    let c = with(bytes, carriers).unwrap();
    c[0].fields
        .iter()
        .map(|f| format!("{}={}", f.key, f.value))
        .collect()
}

fn tag_edit() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![
            ("TDM-RESERVATION".into(), "1".into()),
            (
                "DATAMINING".into(),
                "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING".into(),
            ),
        ],
        ..Default::default()
    }
}

fn strip_edit() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into(), "DATAMINING".into()],
        set: vec![],
        ..Default::default()
    }
}

#[test]
fn crc_matches_the_check_value_and_a_real_page() {
    // CRC-32/CKSUM without its final xor: !0x765e7680.
    assert_eq!(page::crc(&[b"123456789"]), 0x89a1_897f);
    // crc-fast must agree with the proof's CRC (crc32fast, itself checked against the
    // definition bit by bit), at every length and split, its folding paths included.
    let data: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let other = |d: &[u8]| crate::write::ogg_crc(&[d]);
    for n in (0..300).chain([1023, 1024, 1025, 4096, 65_307, 70_000]) {
        assert_eq!(page::crc(&[&data[..n]]), other(&data[..n]), "length {n}");
        let split = n / 3;
        let two = page::crc(&[&data[..split], &data[split..n]]);
        assert_eq!(two, other(&data[..n]), "length {n} split at {split}");
    }
    // The OpusHead page of a file made by ffmpeg/libopus; its stored CRC is 0x4000eca9.
    let real: [u8; 47] = [
        0x4f, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6c,
        0x2a, 0x5a, 0x3e, 0x00, 0x00, 0x00, 0x00, 0xa9, 0xec, 0x00, 0x40, 0x01, 0x13, 0x4f, 0x70,
        0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 0x01, 0x01, 0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];
    let (h, body) = with(&real, |s| page::read_page(s, 0)).unwrap();
    assert_eq!((h.crc, h.compute_crc(&body)), (0x4000_eca9, 0x4000_eca9));
    let mut bad = real;
    bad[40] ^= 1;
    assert!(
        with(&bad, |s| page::read_page(s, 0))
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
}

#[test]
fn lacing_handles_multiples_of_255() {
    let st = Stream {
        serial: SERIAL,
        first_seq: 1,
        granule: 0,
        eos_last: false,
    };
    let p = pages_of(&page::paginate(&[&[7u8; 510]], &st).unwrap());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0.lacing, vec![255, 255, 0]);
    // 255 full segments fill a page; the terminating 0 goes on a continued second page.
    let p = pages_of(&page::paginate(&[&vec![1u8; 255 * 255]], &st).unwrap());
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].0.granule, p[0].0.has(FLAG_CONTINUED)),
        (NO_GRANULE, false)
    );
    assert_eq!(
        (
            p[1].0.lacing.clone(),
            p[1].0.granule,
            p[1].0.has(FLAG_CONTINUED)
        ),
        (vec![0], 0, true)
    );
    for len in (0..1200).chain([65024, 65025, 65026, 130050, 200_000]) {
        let packets: [&[u8]; 2] = [&vec![3u8; len], &[9u8; 300]];
        let built = page::paginate(&packets, &st).unwrap();
        assert_eq!(
            page::layout(&[len, 300]),
            (built.len() as u64, pages_of(&built).len()),
            "len {len}"
        );
    }
}
