//! The carrier inside a `Tags` element: the `SimpleTag`s (TagName = key, TagString = value) of
//! every `Tag` about the whole file, that is whose `Targets` names no track, edition, chapter or
//! attachment and whose TargetTypeValue is absent or 50 (album / file level). Editing rebuilds
//! the `Tags` data: every other `Tag` and `SimpleTag` is copied byte for byte, in order.

use super::ebml::{self, Header};
use crate::formats::{RawField, Result};
use crate::model::{Edit, is_spec_key};

/// One `Tag` of a `Tags` element.
struct Tag {
    kids: Vec<Header>,
    file_level: bool,
}

/// The `Tag`s of a `Tags` element whose data is `buf` (starting at `base`), and its other
/// children.
fn parse(buf: &[u8], base: u64) -> Result<Vec<(Header, Option<Tag>)>> {
    let mut out = Vec::new();
    for head in ebml::children(buf, base)? {
        if head.id != ebml::TAG {
            out.push((head, None));
            continue;
        }
        let kids = ebml::children(ebml::data(buf, base, &head), head.body())?;
        let file_level = kids.iter().filter(|k| k.id == ebml::TARGETS).try_fold(
            true,
            |ok, t| -> Result<bool> {
                let body = ebml::data(buf, base, t);
                let whole = ebml::children(body, t.body())?.iter().all(|k| {
                    let v = ebml::uint(ebml::data(body, t.body(), k));
                    match k.id {
                        ebml::TARGET_TYPE_VALUE => v == Some(50),
                        id if ebml::TARGET_UIDS.contains(&id) => v == Some(0),
                        _ => true,
                    }
                });
                Ok(ok && whole)
            },
        )?;
        out.push((head, Some(Tag { kids, file_level })));
    }
    Ok(out)
}

/// A SimpleTag's name and string value (`None` for a binary or nameless one).
fn simple(buf: &[u8], base: u64, h: &Header) -> Result<(Option<String>, Option<String>)> {
    let body = ebml::data(buf, base, h);
    let mut name = None;
    let mut value = None;
    for k in ebml::children(body, h.body())? {
        let d = ebml::data(body, h.body(), &k);
        match k.id {
            ebml::TAG_NAME => name = ebml::text(d),
            ebml::TAG_STRING => value = ebml::text(d),
            _ => {}
        }
    }
    Ok((name, value))
}

/// The fields of the file-level `Tag`s, and notes on reservation keys found elsewhere.
pub fn fields(buf: &[u8], base: u64) -> Result<(Vec<RawField>, Vec<String>)> {
    let mut fields = Vec::new();
    let mut notes = Vec::new();
    for (_, tag) in parse(buf, base)? {
        let Some(tag) = tag else { continue };
        for k in tag.kids.iter().filter(|k| k.id == ebml::SIMPLE_TAG) {
            let (Some(key), value) = simple(buf, base, k)? else {
                continue;
            };
            match (tag.file_level, value) {
                (true, Some(value)) => fields.push(RawField { key, value }),
                (false, _) if is_spec_key(&key) => notes.push(format!(
                    "SimpleTag {key} of a Tag about a track, chapter or attachment (not the whole file) is not ours; ignored and kept"
                )),
                _ => {}
            }
        }
    }
    Ok((fields, notes))
}

/// A new `SimpleTag`.
fn new_simple(key: &str, value: &str) -> Result<Vec<u8>> {
    let name = ebml::element(ebml::TAG_NAME, key.as_bytes())?;
    let string = ebml::element(ebml::TAG_STRING, value.as_bytes())?;
    ebml::element(ebml::SIMPLE_TAG, &[name, string].concat())
}

/// The new data of the `Tags` element `buf` (from `base`; empty for a file without one), or
/// `None` when `edit` changes nothing. Void elements inside it are dropped; a `CRC-32` is
/// recomputed. A file-level `Tag` left without a SimpleTag is dropped (a Tag needs one); new
/// fields go at the end of the first file-level `Tag`, or a new one (TargetTypeValue 50).
pub fn edit(buf: &[u8], base: u64, edit: &Edit) -> Result<Option<Vec<u8>>> {
    let items = parse(buf, base)?;
    let had_crc = items.iter().any(|(h, _)| h.id == ebml::CRC32);
    let mut kept = Vec::new();
    let mut new = Vec::new();
    let mut pending = Some(&edit.set).filter(|s| !s.is_empty());
    for (head, tag) in &items {
        if matches!(head.id, ebml::VOID | ebml::CRC32) {
            continue;
        }
        kept.extend_from_slice(ebml::whole(buf, base, head));
        let Some(tag) = tag.as_ref().filter(|t| t.file_level) else {
            new.extend_from_slice(ebml::whole(buf, base, head));
            continue;
        };
        let mut body = Vec::new();
        let mut simples = 0;
        for k in &tag.kids {
            if k.id == ebml::SIMPLE_TAG {
                if let (Some(name), _) = simple(buf, base, k)?
                    && edit.removes(&name)
                {
                    continue;
                }
                simples += 1;
            }
            body.extend_from_slice(ebml::whole(buf, base, k));
        }
        for (key, value) in pending.take().into_iter().flatten() {
            body.extend(new_simple(key, value)?);
            simples += 1;
        }
        if simples > 0 || !tag.kids.iter().any(|k| k.id == ebml::SIMPLE_TAG) {
            new.extend(ebml::element(ebml::TAG, &body)?);
        }
    }
    if let Some(set) = pending {
        let target = ebml::uint_element(ebml::TARGET_TYPE_VALUE, 50)?;
        let mut body = ebml::element(ebml::TARGETS, &target)?;
        for (key, value) in set {
            body.extend(new_simple(key, value)?);
        }
        new.extend(ebml::element(ebml::TAG, &body)?);
    }
    if new == kept {
        return Ok(None);
    }
    if had_crc && !new.is_empty() {
        let crc = ebml::crc32_element(&new)?;
        new.splice(0..0, crc);
    }
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(k: &str, v: &str) -> Edit {
        Edit {
            remove: vec![k.into()],
            set: vec![(k.into(), v.into())],
            ..Edit::default()
        }
    }

    fn tag(targets: &[u8], simples: &[(&str, &str)]) -> Vec<u8> {
        let mut body = ebml::element(ebml::TARGETS, targets).unwrap();
        for (k, v) in simples {
            body.extend(new_simple(k, v).unwrap());
        }
        ebml::element(ebml::TAG, &body).unwrap()
    }

    #[test]
    fn only_file_level_tags_are_the_carrier() {
        let track = ebml::uint_element(0x63C5, 7).unwrap();
        let buf = [
            tag(&[], &[("ARTIST", "Me")]),
            tag(&track, &[("TDM-RESERVATION", "1")]),
        ]
        .concat();
        let (fields, notes) = fields(&buf, 0).unwrap();
        assert_eq!(
            fields,
            [RawField {
                key: "ARTIST".into(),
                value: "Me".into()
            }]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn an_edit_keeps_other_tags_and_drops_an_emptied_tag() {
        let track = ebml::uint_element(0x63C5, 7).unwrap();
        let other = tag(&track, &[("DURATION", "00:00:03")]);
        let buf = [tag(&[], &[("ARTIST", "Me")]), other.clone()].concat();
        let tagged = edit(&buf, 0, &set("TDM-RESERVATION", "1"))
            .unwrap()
            .unwrap();
        let (fields, _) = fields(&tagged, 0).unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].key, "TDM-RESERVATION");
        assert!(tagged.ends_with(&other));
        assert_eq!(
            edit(&tagged, 0, &set("TDM-RESERVATION", "1")).unwrap(),
            None
        );
        let strip = Edit {
            remove: vec!["TDM-RESERVATION".into()],
            ..Edit::default()
        };
        assert_eq!(edit(&tagged, 0, &strip).unwrap().unwrap(), buf);
        // A file-level Tag holding only ours goes away with it.
        let only = edit(&other, 0, &set("TDM-RESERVATION", "1"))
            .unwrap()
            .unwrap();
        assert_eq!(edit(&only, 0, &strip).unwrap().unwrap(), other);
        assert_eq!(edit(&[], 0, &strip).unwrap(), None);
    }
}
