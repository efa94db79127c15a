//! The MP4 XMP carrier (SPEC §3.1): a top-level `uuid` box with the XMP UUID
//! `BE7ACFCB-97A9-42E8-9C71-999491E3AFAC`. It is edited in its own space when the merged
//! packet fits (XMP padding); otherwise the old box becomes `free` and a new box is appended
//! at the end of the file, which moves no sample data and so needs no offset changes. `strip`
//! that leaves the packet of a box at the very end with nothing in it cuts the file before the
//! box, so the box `tag` appended goes again (a `Plan::Cut`).

use super::boxes::{BoxHeader, children};
use crate::bad;
use crate::formats::{Carrier, Edit, Part, Plan, Region, Result, Source, patch_parts, xmp};

pub const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];
const PLACE: &str = "MP4 uuid box";

/// The XMP `uuid` box among the top-level boxes; two are an error (one packet per file).
fn find(src: &Source, top: &[BoxHeader]) -> Result<Option<BoxHeader>> {
    let mut found = None;
    for b in top
        .iter()
        .filter(|b| b.is(b"uuid") && b.size >= b.header + 16)
    {
        if src.read(b.body(), 16, "uuid box")? != XMP_UUID {
            continue;
        }
        if found.is_some() {
            return Err(bad!(Unsupported, "two XMP uuid boxes; not supported"));
        }
        found = Some(*b);
    }
    Ok(found)
}

fn packet_range(b: &BoxHeader) -> (u64, u64) {
    (b.body() + 16, b.end() - b.body() - 16)
}

/// The C2PA manifest store box (`uuid` d8fec3d6-1b0e-483c-9297-5828877ec481).
pub const C2PA_UUID: [u8; 16] = [
    0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81,
];

/// True when a top-level `uuid` box holds a C2PA manifest store.
pub fn has_c2pa(src: &Source) -> Result<bool> {
    let top = children(src, 0, src.len(), true)?;
    for b in top
        .iter()
        .filter(|b| b.is(b"uuid") && b.size >= b.header + 16)
    {
        if src.read(b.body(), 16, "uuid box")? == C2PA_UUID {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The XMP carrier, if the file has one.
pub fn carrier(src: &Source) -> Result<Option<Carrier>> {
    let top = children(src, 0, src.len(), true)?;
    let Some(b) = find(src, &top)? else {
        return Ok(None);
    };
    let (at, len) = packet_range(&b);
    let packet = src.read(at, len, "XMP packet")?;
    xmp::carrier(&packet, PLACE).map(Some)
}

/// What the XMP box needs: nothing, a same-size rewrite of the packet, the file cut before it,
/// or a new box at the end (with the old one, if any, retyped to `free`).
enum Change {
    None,
    InPlace(Region),
    /// The file's length without the box.
    Cut(u64),
    Append {
        retire: Option<u64>,
        new_box: Vec<u8>,
    },
}

fn change(src: &Source, top: &[BoxHeader], edit: &Edit) -> Result<Change> {
    let existing = find(src, top)?;
    let old = existing
        .map(|b| {
            let (at, len) = packet_range(&b);
            src.read(at, len, "XMP packet").map(|old| (at, old))
        })
        .transpose()?;
    let old_packet = old.as_ref().map(|(_, p)| p.as_slice());
    let Some(merged) = xmp::merged(old_packet, &edit.set)?.filter(|m| m.changed) else {
        return Ok(Change::None);
    };
    // `strip` that empties the packet of a box at the very end cuts the file before the box.
    if let Some(b) = existing.filter(|b| b.end() == src.len())
        && merged.is_emptied(&edit.set)?
    {
        return Ok(Change::Cut(b.start));
    }
    let packet = match old {
        Some((at, old)) => match merged.fit_in(old.len()) {
            Ok(fitted) => {
                return Ok(Change::InPlace(Region {
                    offset: at,
                    bytes: fitted,
                }));
            }
            Err(grown) => grown,
        },
        None => merged.packet,
    };
    let size = u32::try_from(8 + 16 + packet.len())
        .map_err(|_| bad!(Unsupported, "XMP packet too large"))?;
    let mut new_box = size.to_be_bytes().to_vec();
    new_box.extend_from_slice(b"uuid");
    new_box.extend_from_slice(&XMP_UUID);
    new_box.extend_from_slice(&packet);
    Ok(Change::Append {
        retire: existing.map(|b| b.start + 4),
        new_box,
    })
}

/// Combines the plain-tag plan with the XMP change: one patch when both stay in place (or
/// the XMP box is appended), the rewrite with the XMP change folded into its parts otherwise.
pub fn combine(src: &Source, ilst: Option<Plan>, edit: &Edit) -> Result<Option<Plan>> {
    let top = children(src, 0, src.len(), true)?;
    let mut writes: Vec<Region> = match change(src, &top, edit)? {
        Change::None => return Ok(ilst),
        Change::Cut(len) => return cut(src, ilst, len).map(Some),
        Change::InPlace(r) => vec![r],
        Change::Append { retire, new_box } => {
            let mut w: Vec<Region> = retire
                .map(|at| Region {
                    offset: at,
                    bytes: b"free".to_vec(),
                })
                .into_iter()
                .collect();
            // A last box that runs to the end of the file gets an explicit size, or the new
            // box would become part of it.
            if let Some(last) = top.last().filter(|b| b.to_end) {
                let size = u32::try_from(src.len() - last.start).map_err(|_| {
                    bad!(
                        Unsupported,
                        "the last box runs to the end of a file over 4 GiB; cannot append XMP"
                    )
                })?;
                w.push(Region {
                    offset: last.start,
                    bytes: size.to_be_bytes().to_vec(),
                });
            }
            w.push(Region {
                offset: src.len(),
                bytes: new_box,
            });
            w
        }
    };
    match ilst {
        Some(Plan::Rewrite { mut parts }) => {
            let append = writes.pop_if(|r| r.offset == src.len());
            for r in &writes {
                parts = patch_parts(parts, r.offset, &r.bytes)?;
            }
            if let Some(a) = append {
                parts.push(Part::Bytes(a.bytes));
            }
            Ok(Some(Plan::Rewrite { parts }))
        }
        other => {
            let mut regions = other.and_then(Plan::regions).unwrap_or_default();
            // Both may append (a growing last moov, the new XMP box): one append, moov first.
            if let (Some(a), Some(x)) = (
                regions.iter().position(|r| r.offset == src.len()),
                writes.iter().position(|r| r.offset == src.len()),
            ) {
                let xmp_box = writes.remove(x).bytes;
                regions[a].bytes.extend_from_slice(&xmp_box);
            }
            regions.extend(writes);
            regions.sort_by_key(|r| r.offset);
            Ok(Some(Plan::Patch { regions }))
        }
    }
}

/// The plain-tag plan, then the file cut to `len`: a rewrite stops copying there; positioned
/// writes (all before the box, which is last) become a `Plan::Cut`.
fn cut(src: &Source, ilst: Option<Plan>, len: u64) -> Result<Plan> {
    match ilst {
        Some(Plan::Rewrite { parts }) => Ok(Plan::Rewrite {
            parts: without_tail(parts, src.len() - len, src.len())?,
        }),
        other => Ok(Plan::Cut {
            regions: other.and_then(Plan::regions).unwrap_or_default(),
            len,
        }),
    }
}

/// `parts` without their last `drop` bytes, which must be copies of the end of the file
/// (`file_len` bytes long).
fn without_tail(mut parts: Vec<Part>, mut drop: u64, file_len: u64) -> Result<Vec<Part>> {
    let mut end = file_len;
    while drop > 0 {
        let Some(Part::Copy { offset, len }) = parts.pop().filter(|p| match p {
            Part::Copy { offset, len } => offset + len == end,
            _ => false,
        }) else {
            return Err(bad!(
                Internal,
                "internal: the rewrite does not end with the XMP box to cut"
            ));
        };
        if len > drop {
            parts.push(Part::Copy {
                offset,
                len: len - drop,
            });
            break;
        }
        (drop, end) = (drop - len, offset);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_stops_copying_where_the_file_is_cut() {
        let copy = |offset, len| Part::Copy { offset, len };
        let parts = vec![copy(0, 10), Part::Bytes(vec![1; 5]), copy(20, 30)];
        let cut = without_tail(parts.clone(), 8, 50).unwrap();
        assert_eq!(cut[2], copy(20, 22));
        let cut = without_tail(parts.clone(), 30, 50).unwrap();
        assert_eq!(cut.len(), 2, "the whole last copy goes");
        assert!(
            without_tail(parts.clone(), 31, 50).is_err(),
            "new bytes are never cut"
        );
        assert!(
            without_tail(parts, 5, 60).is_err(),
            "the tail must be the file's"
        );
    }
}
