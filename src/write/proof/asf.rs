//! The proof for ASF, which lofty does not read and no well-kept crate on crates.io parses: a
//! deliberately tiny walker of the Header Object, sharing no code with the planner
//! (`formats/asf`). Every sub-object but the Extended Content Description and the Padding must
//! be byte-identical and in the same order (File Properties apart from its file size, which must
//! move with the file's length); the ECD is compared as its decoded descriptors (name, type,
//! value bytes), ours left out. Everything after the header is the payload, which the write
//! layer proves by hash or by the written range.

use std::io::{self, Read, Seek, SeekFrom};

use super::items::{Item, ours};
use crate::bad;
use crate::formats::Result;
use crate::model::Edit;

// GUIDs in file byte order (first three fields little-endian), written out by hand.
const HEADER: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];
const DATA: [u8; 16] = [
    0x36, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];
const ECD: [u8; 16] = [
    0x40, 0xA4, 0xD0, 0xD2, 0x07, 0xE3, 0xD2, 0x11, 0x97, 0xF0, 0x00, 0xA0, 0xC9, 0x5E, 0xA8, 0x50,
];
const PADDING: [u8; 16] = [
    0x74, 0xD4, 0x06, 0x18, 0xDF, 0xCA, 0x09, 0x45, 0xA4, 0xBA, 0x9A, 0xAB, 0xCB, 0x96, 0xAA, 0xE8,
];
const FILE_PROPERTIES: [u8; 16] = [
    0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11, 0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65,
];

/// What the proof compares of one version.
struct Version {
    items: Vec<Item>,
    /// The File Properties' file size field, and the file's real length.
    file_size: Option<u64>,
    len: u64,
}

/// The new version keeps every header item of the old one but ours, and its file size field
/// moved exactly as the file's length did.
pub fn prove<A: Read + Seek, B: Read + Seek>(old: &mut A, new: &mut B, edit: &Edit) -> Result<()> {
    let walk = |r: &mut dyn ReadSeek, which: &str| {
        read(r, edit).map_err(|e| {
            bad!(
                Refused,
                "internal check: cannot walk the {which} ASF header ({e}); not written"
            )
        })
    };
    let was = walk(old, "old")?;
    let now = walk(new, "new")?;
    super::compare(&was.items, &now.items)?;
    let moved = match (was.file_size, now.file_size) {
        // A field of 0 gives no size (broadcast): it must stay 0.
        (Some(0), Some(b)) => b == 0,
        (Some(a), Some(b)) => {
            i128::from(b) - i128::from(a) == i128::from(now.len) - i128::from(was.len)
        }
        (None, None) => true,
        _ => false,
    };
    if !moved {
        return Err(bad!(
            Refused,
            "internal check: the write would leave the ASF file size field wrong; not written"
        ));
    }
    Ok(())
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn u64_at(b: &[u8], at: usize) -> io::Result<u64> {
    let s = b.get(at..at + 8).ok_or_else(|| invalid("short field"))?;
    Ok(u64::from_le_bytes(
        s.try_into().map_err(|_| invalid("short field"))?,
    ))
}

fn read(r: &mut dyn ReadSeek, edit: &Edit) -> io::Result<Version> {
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut fixed = [0u8; 30];
    r.read_exact(&mut fixed)?;
    if fixed[..16] != HEADER {
        return Err(invalid("no Header Object"));
    }
    let size = u64_at(&fixed, 16)?;
    if !(30..=256 << 20).contains(&size) || size > len {
        return Err(invalid("impossible header size"));
    }
    let mut head = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(0))?;
    r.read_exact(&mut head)?;
    let mut next = [0u8; 16];
    r.read_exact(&mut next)?;
    if next != DATA {
        return Err(invalid("no Data Object after the header"));
    }
    let mut v = Version {
        items: vec![Item {
            name: "ASF header reserved bytes".into(),
            value: head[28..30].to_vec(),
        }],
        file_size: None,
        len,
    };
    let mut at = 30usize;
    let mut count = 0u32;
    while at < head.len() {
        let obj_len = u64_at(&head, at + 16)?;
        if obj_len < 24 || obj_len > (head.len() - at) as u64 {
            return Err(invalid("an object size runs outside the header"));
        }
        let obj = &head[at..at + obj_len as usize];
        object(obj, edit, &mut v)?;
        at += obj_len as usize;
        count += 1;
    }
    if u32::from_le_bytes([fixed[24], fixed[25], fixed[26], fixed[27]]) != count {
        return Err(invalid("the object count does not match"));
    }
    Ok(v)
}

/// One sub-object's items.
fn object(obj: &[u8], edit: &Edit, v: &mut Version) -> io::Result<()> {
    let guid: [u8; 16] = obj[..16].try_into().map_err(|_| invalid("short GUID"))?;
    match guid {
        PADDING => {}
        ECD => descriptors(&obj[24..], edit, &mut v.items)?,
        FILE_PROPERTIES => {
            let mut kept = obj.to_vec();
            if let Some(f) = kept.get_mut(40..48) {
                v.file_size = Some(u64::from_le_bytes(f.try_into().expect("8 bytes")));
                f.fill(0);
            }
            v.items.push(Item {
                name: "ASF File Properties object".into(),
                value: kept,
            });
        }
        _ => v.items.push(Item {
            name: format!("ASF object {}", guid_text(&guid)),
            value: obj.to_vec(),
        }),
    }
    Ok(())
}

/// The ECD's descriptors other than ours, as (name, type + value) items.
fn descriptors(body: &[u8], edit: &Edit, out: &mut Vec<Item>) -> io::Result<()> {
    let take = |pos: &mut usize, n: usize| -> io::Result<&[u8]> {
        let s = body
            .get(*pos..*pos + n)
            .ok_or_else(|| invalid("ECD runs short"))?;
        *pos += n;
        Ok(s)
    };
    let short = |s: &[u8]| u16::from_le_bytes([s[0], s[1]]) as usize;
    let mut pos = 0;
    let count = short(take(&mut pos, 2)?);
    for _ in 0..count {
        let n = short(take(&mut pos, 2)?);
        let name = take(&mut pos, n)?;
        let kind = take(&mut pos, 2)?.to_vec();
        let vlen = short(take(&mut pos, 2)?);
        let value = take(&mut pos, vlen)?;
        let units = name
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0);
        let name: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        if !ours(edit, &name) {
            out.push(Item {
                name: format!("ASF attribute {name}"),
                value: [kind, value.to_vec()].concat(),
            });
        }
    }
    if pos != body.len() {
        return Err(invalid("bytes after the ECD's descriptors"));
    }
    Ok(())
}

/// A GUID as text, for messages.
fn guid_text(g: &[u8; 16]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let rev = |b: &[u8]| hex(&b.iter().rev().copied().collect::<Vec<_>>());
    format!(
        "{}-{}-{}-{}-{}",
        rev(&g[..4]),
        rev(&g[4..6]),
        rev(&g[6..8]),
        hex(&g[8..10]),
        hex(&g[10..])
    )
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::formats::testutil::{apply, source_of};
    use crate::formats::{Container, Plan, plan};

    fn obj(guid: [u8; 16], body: &[u8]) -> Vec<u8> {
        [&guid[..], &(24 + body.len() as u64).to_le_bytes(), body].concat()
    }

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    /// File Properties, an ECD holding WM/Genre = Rock, `pad` bytes of padding, a Data Object.
    fn file(pad: usize) -> Vec<u8> {
        let (n, v) = (utf16z("WM/Genre"), utf16z("Rock"));
        let mut ecd = 1u16.to_le_bytes().to_vec();
        ecd.extend((n.len() as u16).to_le_bytes());
        ecd.extend(&n);
        ecd.extend([0, 0]);
        ecd.extend((v.len() as u16).to_le_bytes());
        ecd.extend(&v);
        let mut body = obj(
            FILE_PROPERTIES,
            &[[5u8; 16].as_slice(), &[0; 8], &[6; 56]].concat(),
        );
        body.extend(obj(ECD, &ecd));
        let count = if pad > 0 { 3u32 } else { 2 };
        if pad > 0 {
            body.extend(obj(PADDING, &vec![0; pad]));
        }
        let mut f = HEADER.to_vec();
        f.extend((30 + body.len() as u64).to_le_bytes());
        f.extend(count.to_le_bytes());
        f.extend([1, 2]);
        f.extend(body);
        f.extend(obj(DATA, &[0xAA; 60]));
        let len = f.len() as u64;
        f[30 + 40..30 + 48].copy_from_slice(&len.to_le_bytes());
        f
    }

    fn tag() -> Edit {
        Edit {
            remove: vec!["TDM-RESERVATION".into()],
            set: vec![("TDM-RESERVATION".into(), "1".into())],
            ..Default::default()
        }
    }

    fn check(old: &[u8], new: &[u8]) -> Result<()> {
        prove(&mut Cursor::new(old), &mut Cursor::new(new), &tag())
    }

    fn planned(old: &[u8]) -> Vec<u8> {
        let p: Plan = plan(&source_of(old), Container::Asf, &tag())
            .unwrap()
            .unwrap();
        apply(old, &p)
    }

    #[test]
    fn the_planners_writes_pass_in_place_and_rewritten() {
        for pad in [0, 500] {
            let old = file(pad);
            let new = planned(&old);
            assert_ne!(new, old);
            check(&old, &new).unwrap();
        }
    }

    #[test]
    fn a_changed_attribute_a_lost_object_or_a_stale_size_is_refused() {
        let old = file(0);
        let new = planned(&old);
        let rock = utf16z("Rock");
        let at = memchr::memmem::find(&new, &rock).unwrap();
        let mut changed = new.clone();
        changed[at] = b'S';
        let e = check(&old, &changed).unwrap_err().to_string();
        assert!(e.contains("change the ASF attribute WM/Genre"), "{e}");
        let mut stale = new.clone();
        stale[30 + 40..30 + 48].copy_from_slice(&(old.len() as u64).to_le_bytes());
        let e = check(&old, &stale).unwrap_err().to_string();
        assert!(e.contains("file size field"), "{e}");
        let mut reserved = new.clone();
        reserved[28] = 9;
        assert!(check(&old, &reserved).is_err());
        let e = check(&old, &new[..100]).unwrap_err().to_string();
        assert!(e.contains("cannot walk the new ASF header"), "{e}");
    }
}
