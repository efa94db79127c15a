//! XMP packets (SPEC §3.1): read `plus:DataMining`, `tdm:reservation`, `tdm:policy` and
//! `plus:OtherConstraints` as fields, and merge ours into an existing packet without disturbing
//! anything else in it (other namespaces, Audition markers, comments, whitespace): events are
//! copied verbatim except our properties, and our values go into one new `rdf:Description`.
//! Pure: bytes in, bytes out. Reading is here, writing in `write`.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

mod write;

pub use write::{Merged, compact, fit, is_empty, merge, merged};

use crate::bad;
use crate::formats::{FormatError, RawField, Result};
use crate::model::{KEY_CONSTRAINTS, KEY_DATAMINING, KEY_POLICY, KEY_RESERVATION};

pub const NS_PLUS: &str = "http://ns.useplus.org/ldf/xmp/1.0/";
pub const NS_TDM: &str = "http://www.w3.org/ns/tdmrep/";
/// The TDMRep JSON-LD/EPUB form, accepted when reading.
pub const NS_TDM_HASH: &str = "http://www.w3.org/ns/tdmrep#";
pub const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Our four properties, as (namespace, local name) → SPEC key.
fn key_of(ns: &[u8], local: &[u8]) -> Option<(&'static str, bool)> {
    let tdm = ns == NS_TDM.as_bytes() || ns == NS_TDM_HASH.as_bytes();
    let key = match (ns, local) {
        (n, b"DataMining") if n == NS_PLUS.as_bytes() => KEY_DATAMINING,
        (n, b"OtherConstraints") if n == NS_PLUS.as_bytes() => KEY_CONSTRAINTS,
        (_, b"reservation") if tdm => KEY_RESERVATION,
        (_, b"policy") if tdm => KEY_POLICY,
        _ => return None,
    };
    Some((key, ns == NS_TDM_HASH.as_bytes()))
}

fn resolved<'a>(r: &'a ResolveResult) -> &'a [u8] {
    match r {
        ResolveResult::Bound(Namespace(ns)) => ns.as_bytes(),
        _ => b"",
    }
}

fn xml_err(e: impl std::fmt::Display) -> FormatError {
    bad!("corrupt XMP packet: {e}")
}

/// What a packet says: our properties as fields, and notes on non-canonical forms.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    pub fields: Vec<RawField>,
    pub notes: Vec<String>,
}

/// Reads our properties from a packet, in element, attribute or `rdf:resource` form; a
/// `plus:OtherConstraints` language alternative yields its first (`x-default`) entry.
pub fn read(packet: &[u8]) -> Result<Found> {
    let mut reader = NsReader::from_reader(packet);
    let mut found = Found::default();
    // The property being read and the text gathered for it.
    let mut open: Option<(&'static str, usize, String, bool)> = None;
    let mut depth = 0usize;
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(xml_err)?;
        let ns = resolved(&ns).to_vec();
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                if open.is_none() {
                    attributes(&reader, e, &mut found)?;
                    if let Some((key, hash)) = key_of(&ns, e.local_name().as_ref().as_bytes()) {
                        note_hash(&mut found, hash);
                        let resource = rdf_resource(&reader, e)?;
                        match (empty, resource) {
                            (_, Some(v)) => push(&mut found, key, &v),
                            (true, None) => push(&mut found, key, ""),
                            (false, None) => open = Some((key, depth, String::new(), false)),
                        }
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text, false)) = &mut open {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, text, false)) = &mut open {
                    let name = r.xml10_content();
                    let entity = format!("&{name};");
                    let s = quick_xml::escape::unescape(&entity).map_err(xml_err)?;
                    text.push_str(&s);
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                match &mut open {
                    Some((key, d, text, _)) if *d == depth => {
                        push(&mut found, key, text.trim());
                        open = None;
                    }
                    // The first language alternative (an `rdf:li`) closed: it is the value.
                    Some((_, _, text, done)) if !text.trim().is_empty() => *done = true,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(found)
}

fn push(found: &mut Found, key: &str, value: &str) {
    found.fields.push(RawField {
        key: key.to_string(),
        value: value.to_string(),
    });
}

fn note_hash(found: &mut Found, hash: bool) {
    let note = "XMP uses the TDMRep namespace with `#`; the XMP form ends in `/`";
    if hash && !found.notes.iter().any(|n| n == note) {
        found.notes.push(note.to_string());
    }
}

/// Our properties written as attributes of an element (`rdf:Description plus:DataMining="…"`).
fn attributes(reader: &NsReader<&[u8]>, e: &BytesStart, found: &mut Found) -> Result<()> {
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        let (ns, local) = reader.resolver().resolve_attribute(a.key);
        if let Some((key, hash)) = key_of(resolved(&ns), local.as_ref().as_bytes()) {
            note_hash(found, hash);
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            push(found, key, v.trim());
        }
    }
    Ok(())
}

fn rdf_resource(reader: &NsReader<&[u8]>, e: &BytesStart) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        let (ns, local) = reader.resolver().resolve_attribute(a.key);
        if resolved(&ns) == NS_RDF.as_bytes() && local.as_ref().as_bytes() == b"resource" {
            return Ok(Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(xml_err)?
                    .trim()
                    .to_string(),
            ));
        }
    }
    Ok(None)
}

/// A carrier for a packet found in a file (`place` names where).
pub fn carrier(packet: &[u8], place: &'static str) -> Result<crate::formats::Carrier> {
    let found = read(packet)?;
    let mut c =
        crate::formats::Carrier::new(crate::formats::CarrierKind::Xmp { place }, found.fields);
    c.notes = found.notes;
    Ok(c)
}

#[cfg(test)]
mod tests;
