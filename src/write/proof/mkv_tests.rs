//! The Matroska proof on hand-built files: what it lets through and what it catches.

use super::*;
use std::io::Cursor;

/// An element with a one- or two-byte size (tests use small bodies only).
fn el(id: &[u8], body: &[u8]) -> Vec<u8> {
    let n = body.len();
    assert!(n < 0x3FFF);
    match n < 127 {
        true => [id, &[0x80 | n as u8], body].concat(),
        false => [id, &[0x40 | (n >> 8) as u8, n as u8], body].concat(),
    }
}

fn simple(k: &str, v: &str) -> Vec<u8> {
    let body = [
        el(&[0x45, 0xA3], k.as_bytes()),
        el(&[0x44, 0x87], v.as_bytes()),
    ];
    el(&[0x67, 0xC8], &body.concat())
}

fn tags(simples: &[(&str, &str)]) -> Vec<u8> {
    let mut body = el(&[0x63, 0xC0], &[]);
    for (k, v) in simples {
        body.extend(simple(k, v));
    }
    el(&TAGS_ID, &el(&[0x73, 0x73], &body))
}

/// EBML header, then a Segment (8-byte size) holding `kids`.
fn file(kids: &[Vec<u8>]) -> Vec<u8> {
    let head = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"matroska"));
    let body = kids.concat();
    let mut seg = vec![0x18, 0x53, 0x80, 0x67, 0x01];
    seg.extend(&(body.len() as u64).to_be_bytes()[1..]);
    [head, seg, body].concat()
}

fn cluster() -> Vec<u8> {
    el(
        &[0x1F, 0x43, 0xB6, 0x75],
        &el(&[0xA3], &[0x81, 0, 0, 0x80, 1, 2, 3]),
    )
}

/// A SeekHead with one entry: Tags at `pos` (from the Segment's data).
fn seek_head(pos: u8) -> Vec<u8> {
    let seek = [el(&[0x53, 0xAB], &TAGS_ID), el(&[0x53, 0xAC], &[pos])].concat();
    el(&[0x11, 0x4D, 0x9B, 0x74], &el(&[0x4D, 0xBB], &seek))
}

fn check(old: &[u8], new: &[u8]) -> Result<()> {
    let edit = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Edit::default()
    };
    prove(&mut Cursor::new(old), &mut Cursor::new(new), &edit, None)
}

/// An in-place write's two views of one file: blocks that both read from the file are
/// compared by place, but a region laid over a block still gets it compared byte by byte.
#[test]
fn a_region_over_a_block_is_still_compared_by_its_bytes() {
    use crate::formats::Region;
    use crate::write::overlay::Overlay;
    use std::os::unix::fs::FileExt;
    let bytes = file(&[tags(&[("ARTIST", "Me")]), cluster()]);
    let f = tempfile::tempfile().unwrap();
    f.write_all_at(&bytes, 0).unwrap();
    let len = bytes.len() as u64;
    let edit = Edit::default();
    let run = |regions: &[Region]| {
        let mut old = Overlay::plain(&f, len);
        let mut new = Overlay::new(&f, len, regions);
        let same = old.unchanged_with(&new);
        assert!(same.is_some(), "two views of one file share its bytes");
        prove(&mut old, &mut new, &edit, same.as_ref())
    };
    run(&[]).unwrap();
    // The block's last byte, flipped by a region.
    let last = Region {
        offset: len - 1,
        bytes: vec![bytes[bytes.len() - 1] ^ 1],
    };
    let e = run(&[last]).unwrap_err().to_string();
    assert!(e.contains("Cluster"), "{e}");
    // A long block, flipped at its first and at a middle byte of audio: still caught.
    let frame: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let block = el(&[0xA3], &[&[0x81, 0, 0, 0x80][..], &frame].concat());
    let long = file(&[
        tags(&[("ARTIST", "Me")]),
        el(&[0x1F, 0x43, 0xB6, 0x75], &block),
    ]);
    let g = tempfile::tempfile().unwrap();
    g.write_all_at(&long, 0).unwrap();
    let glen = long.len() as u64;
    let first = glen - frame.len() as u64;
    for at in [first, first + 150] {
        let flip = [Region {
            offset: at,
            bytes: vec![long[at as usize] ^ 1],
        }];
        let mut old = Overlay::plain(&g, glen);
        let mut new = Overlay::new(&g, glen, &flip);
        let same = old.unchanged_with(&new);
        let e = prove(&mut old, &mut new, &edit, same.as_ref()).unwrap_err();
        assert!(e.to_string().contains("Cluster"), "byte {at}: {e}");
    }
    // An unknown element with the longest header (an 8-byte ID, an 8-byte size): a region
    // over its last byte is still caught.
    let mut odd = vec![0x01, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF1, 0x23];
    odd.extend([0x01, 0, 0, 0, 0, 0, 0, 6]);
    odd.extend([9, 8, 7, 6, 5, 4]);
    let cl = el(
        &[0x1F, 0x43, 0xB6, 0x75],
        &[el(&[0xA3], &[0x81, 0, 0, 0x80, 1]), odd].concat(),
    );
    let odd_file = file(&[tags(&[("ARTIST", "Me")]), cl]);
    let h = tempfile::tempfile().unwrap();
    h.write_all_at(&odd_file, 0).unwrap();
    let hlen = odd_file.len() as u64;
    let flip = [Region {
        offset: hlen - 1,
        bytes: vec![odd_file[odd_file.len() - 1] ^ 1],
    }];
    let (mut old, mut new) = (Overlay::plain(&h, hlen), Overlay::new(&h, hlen, &flip));
    let same = old.unchanged_with(&new);
    prove(
        &mut old,
        &mut Overlay::plain(&h, hlen),
        &edit,
        same.as_ref(),
    )
    .unwrap();
    let e = prove(&mut old, &mut new, &edit, same.as_ref()).unwrap_err();
    assert!(e.to_string().contains("Cluster"), "{e}");
    // Views of two files share nothing.
    let g = tempfile::tempfile().unwrap();
    assert!(
        Overlay::plain(&f, len)
            .unchanged_with(&Overlay::plain(&g, len))
            .is_none()
    );
}

#[test]
fn a_changed_byte_in_a_block_or_a_block_split_differently_is_caught() {
    let old = file(&[tags(&[("ARTIST", "Me")]), cluster()]);
    let mut new = old.clone();
    *new.last_mut().unwrap() ^= 1;
    let e = check(&old, &new).unwrap_err().to_string();
    assert!(e.contains("Cluster"), "{e}");
    // The same bytes in two blocks instead of one: not the same Cluster.
    let two = el(
        &[0x1F, 0x43, 0xB6, 0x75],
        &[el(&[0xA3], &[0x81, 0, 0, 0x80]), el(&[0xA3], &[1, 2, 3])].concat(),
    );
    let split = file(&[tags(&[("ARTIST", "Me")]), two]);
    assert!(check(&old, &split).is_err());
}

#[test]
fn only_our_simple_tags_may_change() {
    let old = file(&[tags(&[("ARTIST", "Me")]), cluster()]);
    check(&old, &old).unwrap();
    let ours = tags(&[("ARTIST", "Me"), ("TDM-RESERVATION", "1")]);
    // The Tags grew: the Cluster moved, which the check names.
    let grown = file(&[ours.clone(), cluster()]);
    let e = check(&old, &grown).unwrap_err().to_string();
    assert!(e.contains("move a Matroska element"), "{e}");
    // The same Tags at the end, the old one voided (Void of its size: 0xEC + size + zeros).
    let old_len = tags(&[("ARTIST", "Me")]).len();
    let void = el(&[0xEC], &vec![0; old_len - 2]);
    let seek = seek_head(0);
    let sh_len = seek.len();
    let old = file(&[
        seek_head(sh_len as u8),
        tags(&[("ARTIST", "Me")]),
        cluster(),
    ]);
    let at = (sh_len + old_len + cluster().len()) as u8;
    let moved = file(&[seek_head(at), void.clone(), cluster(), ours]);
    check(&old, &moved).unwrap();
    let changed = tags(&[("ARTIST", "You"), ("TDM-RESERVATION", "1")]);
    let e = check(
        &old,
        &file(&[seek_head(at), void.clone(), cluster(), changed]),
    );
    assert!(e.unwrap_err().to_string().contains("Tags content"));
    // A SeekHead entry that misses the new Tags by one byte.
    let ours = tags(&[("ARTIST", "Me"), ("TDM-RESERVATION", "1")]);
    let e = check(&old, &file(&[seek_head(at + 1), void, cluster(), ours]));
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("no Tags element starts")
    );
}
