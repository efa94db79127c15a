//! Ogg FLAC on synthetic streams: the comment block grows into the PADDING block in place (one
//! header packet per page, as libFLAC writes them, or packed); a stream without one gets one on
//! the comment's page, its header count raised and the last-block flag passed on; malformed
//! mappings are refused, never panic.

use super::*;
use crate::error::ErrorKind;

/// The identification packet: mapping 1.0, `count` header packets, `fLaC`, STREAMINFO.
fn flac_id(count: u16) -> Vec<u8> {
    let mut v = b"\x7fFLAC\x01\x00".to_vec();
    v.extend_from_slice(&count.to_be_bytes());
    v.extend_from_slice(b"fLaC\x00\x00\x00\x22");
    v.extend((0..34).map(|i| i as u8));
    v
}

fn block_packet(kind: u8, last: bool, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut v = vec![kind | if last { 0x80 } else { 0 }, len[1], len[2], len[3]];
    v.extend_from_slice(body);
    v
}

fn vc(entries: &[&str], last: bool) -> Vec<u8> {
    block_packet(4, last, &block(entries))
}

fn pad(n: usize, last: bool) -> Vec<u8> {
    block_packet(1, last, &vec![0; n])
}

fn app(last: bool) -> Vec<u8> {
    block_packet(2, last, b"test application data")
}

/// A stream: the id page, the header packets (each on pages of its own when `flushed`, else
/// packed), three audio pages.
fn flac_file(headers: &[Vec<u8>], flushed: bool) -> Vec<u8> {
    let refs: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
    if !flushed {
        return stream(&flac_id(headers.len() as u16), &refs, 255, &[90, 400, 30]);
    }
    let id = flac_id(headers.len() as u16);
    let mut out = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(id.len()), &id);
    let mut seq = 1;
    for h in &refs {
        let st = Stream {
            serial: SERIAL,
            first_seq: seq,
            granule: 0,
            eos_last: false,
        };
        let pages = page::paginate(&[h], &st).unwrap();
        seq += pages_of(&pages).len() as u32;
        out.extend(pages);
    }
    for (i, len) in [90usize, 400, 30].into_iter().enumerate() {
        let body: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        let flags = if i == 2 { FLAG_EOS } else { 0 };
        out.extend(raw_page(
            flags,
            4096 * (i as u64 + 1),
            SERIAL,
            seq,
            lace(len),
            &body,
        ));
        seq += 1;
    }
    out
}

/// Plans `edit`, applies it and checks what must not change: every CRC and sequence number,
/// the audio pages, the identification packet, and every header packet but the comment block
/// and PADDING. Returns the plan, the result and its header packets.
fn flac_edit(orig: &[u8], edit: &Edit) -> (Plan, Vec<u8>, Vec<Vec<u8>>) {
    let plan = with(orig, |s| plan(s, edit)).unwrap().expect("a change");
    let out = apply(orig, &plan);
    for (i, (h, _)) in pages_of(&out).iter().enumerate() {
        assert_eq!((h.sequence, h.serial), (i as u32, SERIAL), "page {i}");
    }
    let audio = |b: &[u8]| {
        let p = with(b, payload).unwrap();
        p.iter()
            .flat_map(|r| b[r.start as usize..r.end as usize].to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(audio(orig), audio(&out), "audio unchanged");
    let old = with(orig, |s| Headers::read(s, true)).unwrap();
    let new = with(&out, |s| Headers::read(s, true)).unwrap();
    let (o, n) = (&old.packets[0], &new.packets[0]);
    assert_eq!(
        (&o[..7], &o[9..]),
        (&n[..7], &n[9..]),
        "mapping and STREAMINFO kept"
    );
    let count = |h: &Headers| u16::from_be_bytes([h.packets[0][7], h.packets[0][8]]) as usize;
    for h in [&old, &new] {
        assert!([0, h.packets.len() - 1].contains(&count(h)), "header count");
    }
    assert_eq!(
        count(&old) == 0,
        count(&new) == 0,
        "an unknown count stays unknown"
    );
    let kept = |h: &Headers| {
        h.packets[2..]
            .iter()
            .filter(|p| p[0] & 0x7f != 1)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(kept(&old), kept(&new), "other blocks byte-identical");
    let types = |h: &Headers| {
        let t = h.packets[1..].iter().map(|p| p[0] & 0x7f);
        t.filter(|&t| t != 1).collect::<Vec<_>>()
    };
    assert_eq!(types(&old), types(&new), "block types kept");
    let lasts = |h: &Headers| h.packets[1..].iter().map(|p| p[0] >> 7).collect::<Vec<_>>();
    let mut want = vec![0; new.packets.len() - 2];
    want.push(1);
    assert_eq!(lasts(&new), want, "only the last block is flagged last");
    (plan, out, new.packets)
}

#[test]
fn grows_into_padding_in_place_and_strip_restores_the_bytes() {
    for flushed in [true, false] {
        let orig = flac_file(
            &[vc(&["TITLE=x"], false), app(false), pad(300, true)],
            flushed,
        );
        let (plan, tagged, packets) = flac_edit(&orig, &tag_edit());
        assert!(plan.single().is_some(), "in place ({flushed}): {plan:?}");
        assert_eq!(tagged.len(), orig.len());
        assert!(packets[3].len() < 4 + 300, "the padding shrank");
        assert!(fields(&tagged).contains(&"TDM-RESERVATION=1".to_string()));
        if flushed {
            let h = with(&tagged, |s| Headers::read(s, true)).unwrap();
            assert!(h.ends.iter().all(|e| e.1), "one packet per page kept");
            assert_eq!(h.pages.len(), 4);
        }
        let (plan, stripped, _) = flac_edit(&tagged, &strip_edit());
        assert!(plan.single().is_some());
        assert_eq!(stripped, orig, "strip gives the padding back ({flushed})");
    }
}

#[test]
fn padding_too_small_is_a_rewrite_that_leaves_fresh_padding() {
    let orig = flac_file(&[vc(&["TITLE=x"], false), pad(3, true)], true);
    let (plan, out, packets) = flac_edit(&orig, &tag_edit());
    assert!(matches!(plan, Plan::Rewrite { .. }), "{plan:?}");
    assert_eq!(packets[2].len(), 4 + REWRITE_PADDING);
    // The next edit fits in place.
    let (plan, _, _) = flac_edit(&out, &strip_edit());
    assert!(plan.single().is_some());
}

#[test]
fn extra_padding_goes_into_the_padding_block_and_moves_the_audio_exactly() {
    let orig = flac_file(&[vc(&["TITLE=x"], false), pad(3, true)], true);
    let (base, copied) = audio_at(&flac_edit(&orig, &tag_edit()).0);
    assert!(copied, "the audio pages are copied, not renumbered");
    for extra in [1i32, 254, 255, 256, 1000, 4095, -1, -255, -4095] {
        let edit = Edit {
            extra_padding: extra,
            ..tag_edit()
        };
        let (plan, _, packets) = flac_edit(&orig, &edit);
        let want = base.checked_add_signed(extra.into()).unwrap();
        assert_eq!(audio_at(&plan), (want, true), "{extra}");
        assert!(packets[2].len() > 4 + REWRITE_PADDING - 4096, "{extra}");
    }
}

/// The header count the identification packet declares, and the header pages after it.
fn count_and_pages(file: &[u8]) -> (u16, usize) {
    let h = with(file, |s| Headers::read(s, true)).unwrap();
    let id = &h.packets[0];
    (u16::from_be_bytes([id[7], id[8]]), h.pages.len() - 1)
}

#[test]
fn without_padding_a_rewrite_adds_one_on_the_comment_page() {
    for count in [1u16, 0] {
        let mut orig = flac_file(&[vc(&["title=T", "encoder=Lavc"], true)], true);
        if count == 0 {
            orig = unknown_count(orig);
        }
        let (plan, out, packets) = flac_edit(&orig, &tag_edit());
        assert!(matches!(plan, Plan::Rewrite { .. }), "{plan:?}");
        assert_eq!(packets.len(), 3);
        assert_eq!(
            (packets[1][0], packets[2][0]),
            (0x04, 0x81),
            "the flag moves"
        );
        assert_eq!(packets[2].len(), 4 + REWRITE_PADDING);
        assert_eq!(
            count_and_pages(&out),
            (count * 2, 1),
            "one page, count raised"
        );
        assert!(audio_at(&plan).1, "the audio pages are copied unrenumbered");
        assert_eq!(
            fields(&out),
            [
                "title=T",
                "encoder=Lavc",
                "TDM-RESERVATION=1",
                "DATAMINING=http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
            ]
        );
        // The next edit happens in place, in the new padding.
        let (plan, stripped, packets) = flac_edit(&out, &strip_edit());
        assert!(plan.single().is_some(), "{plan:?}");
        assert_eq!((stripped.len(), packets.len()), (out.len(), 3));
        assert_eq!(fields(&stripped), ["title=T", "encoder=Lavc"]);
    }
}

#[test]
fn a_new_padding_block_keeps_later_blocks_on_their_own_pages() {
    let orig = flac_file(&[vc(&["A=b"], false), app(true)], true);
    for extra in [0i32, 1, 255, 4095, -1, -4095] {
        let edit = Edit {
            extra_padding: extra,
            ..tag_edit()
        };
        let (plan, out, packets) = flac_edit(&orig, &edit);
        let base = audio_at(&flac_edit(&orig, &tag_edit()).0).0;
        assert_eq!(
            audio_at(&plan),
            (base.saturating_add_signed(extra.into()), true)
        );
        assert_eq!(packets[2][0], 0x01, "PADDING, not last: {extra}");
        assert_eq!(packets[3], app(true), "the APPLICATION block stays last");
        let h = with(&out, |s| Headers::read(s, true)).unwrap();
        assert_eq!(h.ends[1..], [(1, false), (1, true), (2, true)], "{extra}");
        assert_eq!(count_and_pages(&out), (3, 2));
    }
}

#[test]
fn a_shorter_comment_without_padding_gets_one_in_place() {
    let tagged = fields_file(&[
        "title=T",
        "TDM-RESERVATION=1",
        "DATAMINING=http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING",
    ]);
    let (plan, out, packets) = flac_edit(&tagged, &strip_edit());
    assert!(plan.single().is_some(), "{plan:?}");
    assert_eq!(out.len(), tagged.len());
    assert_eq!(packets[2][0], 0x81);
    assert_eq!(count_and_pages(&out), (2, 1));
    assert_eq!(fields(&out), ["title=T"]);
}

/// A libFLAC-like stream whose lone comment block (flagged last) holds `entries`.
fn fields_file(entries: &[&str]) -> Vec<u8> {
    flac_file(&[vc(entries, true)], true)
}

/// `file` with its header count set to 0 ("unknown") and the identification page's CRC fixed.
fn unknown_count(mut file: Vec<u8>) -> Vec<u8> {
    file[27 + 1 + 7..27 + 1 + 9].copy_from_slice(&[0, 0]);
    let id = file[28..28 + 51].to_vec();
    let fixed = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(51), &id);
    file[..fixed.len()].copy_from_slice(&fixed);
    file
}

#[test]
fn an_unknown_header_count_is_read_to_the_last_block() {
    let orig = unknown_count(flac_file(&[vc(&["A=b"], false), pad(200, true)], true));
    let (plan, _, packets) = flac_edit(&orig, &tag_edit());
    assert!(plan.single().is_some());
    assert_eq!(packets.len(), 3);
}

fn flac_err(bytes: &[u8]) -> (ErrorKind, String) {
    let e = with(bytes, |s| plan(s, &tag_edit())).unwrap_err();
    (e.kind(), e.to_string())
}

#[test]
fn malformed_mappings_are_refused() {
    let good = [vc(&["A=b"], false), pad(50, true)];
    let with_id = |id: Vec<u8>, headers: &[Vec<u8>]| {
        let mut f = flac_file(headers, true);
        let page = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(id.len()), &id);
        let old_len = 27 + 1 + 51;
        f.splice(..old_len, page);
        f
    };
    let mut v2 = flac_id(2);
    v2[5] = 2;
    let mut lone = flac_id(2);
    lone[13] |= 0x80;
    let mut long = flac_id(2);
    long.push(0);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (with_id(v2, &good), "mapping version 2.0"),
        (with_id(flac_id(3), &good), "declares 3 header packets"),
        (with_id(lone, &good), "no metadata after STREAMINFO"),
        (with_id(long, &good), "identification header is malformed"),
        (
            flac_file(&[app(false), vc(&["A=b"], true)], true),
            "type 2, not a Vorbis comment",
        ),
        (
            flac_file(&[vc(&["A=b"], false), pad(50, false)], true),
            "last-block flag",
        ),
        (
            flac_file(
                &[
                    vc(&["A=b"], false),
                    block_packet(1, true, &[0; 9])[..8].to_vec(),
                ],
                true,
            ),
            "not one whole metadata block",
        ),
    ];
    for (file, says) in cases {
        let (_, msg) = flac_err(&file);
        assert!(msg.contains(says), "{says}: {msg}");
        // The reading path refuses alike, or reads only the comment block.
        let _ = with(&file, carriers);
    }
    let (kind, _) = flac_err(&with_id(
        {
            let mut v = flac_id(2);
            v[5] = 2;
            v
        },
        &good,
    ));
    assert_eq!(kind, ErrorKind::Unsupported);
}

#[test]
fn random_damage_to_ogg_flac_never_panics() {
    let files = [
        flac_file(&[vc(&["TITLE=a"], false), app(false), pad(300, true)], true),
        flac_file(&[vc(&["TITLE=a"], true)], false),
    ];
    damage_never_panics(&files, 0x2545_f491_4f6c_dd1d);
}
