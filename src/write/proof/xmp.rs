//! The XMP packet, compared apart because our merge rewrites it: the new packet must parse and
//! keep every element, attribute and value of the old one other than our properties (and what
//! is nested inside them). New content is allowed (our fresh `rdf:Description`); nothing of
//! the old packet may go missing. Namespace declarations and whitespace are not compared. `packet`
//! finds each version's packet where its container keeps it (an ID3v2 `PRIV` frame, a RIFF or
//! AIFF chunk, an MP4 `uuid` box).

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

use super::items::Item;

use super::{Tags, View, chunked, raw};
use crate::bad;
use crate::formats::id3v2;
use crate::model::Container;

const NS_PLUS: &[u8] = b"http://ns.useplus.org/ldf/xmp/1.0/";
const NS_TDM: &[u8] = b"http://www.w3.org/ns/tdmrep/";
const NS_TDM_HASH: &[u8] = b"http://www.w3.org/ns/tdmrep#";
const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Our XMP properties (SPEC §3.1): PLUS data mining and other constraints, TDMRep.
fn ours(ns: &[u8], local: &[u8]) -> bool {
    match local {
        b"DataMining" | b"OtherConstraints" => ns == NS_PLUS,
        b"reservation" | b"policy" => ns == NS_TDM || ns == NS_TDM_HASH,
        _ => false,
    }
}

fn uri(r: &ResolveResult) -> String {
    match r {
        ResolveResult::Bound(Namespace(ns)) => ns.to_string(),
        _ => String::new(),
    }
}

/// Every element (with its attributes) and every text value of the packet outside our
/// properties, in document order.
pub fn kept(packet: &[u8]) -> Result<Vec<Item>, String> {
    let mut reader = NsReader::from_reader(packet);
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    // The depth at which one of our properties opened: everything below it is ours too.
    let mut skip: Option<usize> = None;
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name();
                let name = format!("{}{}", uri(&ns), local.as_ref());
                let is_ours = ours(ns_bytes(&ns), local.as_ref().as_bytes());
                if skip.is_none() && !is_ours {
                    let mut attrs = Vec::new();
                    for a in e.attributes() {
                        let a = a.map_err(|e| e.to_string())?;
                        if a.key.as_namespace_binding().is_some() {
                            continue;
                        }
                        let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
                        if ours(ns_bytes(&ans), alocal.as_ref().as_bytes()) {
                            continue;
                        }
                        attrs.push(format!("{}{}={}", uri(&ans), alocal.as_ref(), a.value));
                    }
                    attrs.sort();
                    out.push(item(format!("XMP element {name}"), attrs.join("\n")));
                }
                if matches!(ev, Event::Start(_)) {
                    if skip.is_none() && is_ours {
                        skip = Some(path.len());
                    }
                    path.push(name);
                }
            }
            Event::End(_) => {
                path.pop();
                if skip == Some(path.len()) {
                    skip = None;
                }
            }
            Event::Text(ref t) if skip.is_none() => {
                text(&path, t.xml10_content().as_bytes(), &mut out)
            }
            Event::CData(ref t) if skip.is_none() => {
                text(&path, t.clone().into_inner().as_bytes(), &mut out)
            }
            Event::GeneralRef(ref r) if skip.is_none() => {
                let r = format!("&{};", r.xml10_content());
                text(&path, r.as_bytes(), &mut out);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // A packet whose only elements are its frame (x:xmpmeta, rdf:RDF, rdf:Description about
    // nothing) says nothing: `strip` may drop it, and nothing is lost with it.
    if out.iter().all(is_frame) {
        out.clear();
    }
    Ok(out)
}

/// An element of the XMP packet's frame, with no attribute other than `rdf:about=""` and
/// `x:xmptk`.
fn is_frame(i: &Item) -> bool {
    let x = "XMP element adobe:ns:meta/xmpmeta";
    let rdf = ["RDF", "Description"].map(|l| format!("XMP element {NS_RDF}{l}"));
    let attrs_ok = i.value.split(|&b| b == b'\n').all(|a| {
        a.is_empty()
            || a == format!("{NS_RDF}about=").as_bytes()
            || a.starts_with(b"adobe:ns:meta/xmptk=")
    });
    (i.name == x || rdf.contains(&i.name)) && attrs_ok
}

fn ns_bytes<'a>(r: &'a ResolveResult) -> &'a [u8] {
    match r {
        ResolveResult::Bound(Namespace(ns)) => ns.as_bytes(),
        _ => b"",
    }
}

fn item(name: String, value: String) -> Item {
    Item {
        name,
        value: value.into_bytes(),
    }
}

fn text(path: &[String], t: &[u8], out: &mut Vec<Item>) {
    let s = String::from_utf8_lossy(t);
    let s = s.trim();
    if !s.is_empty() {
        // Named after the property it belongs to, not the rdf:Alt/rdf:li around the value.
        let at = path
            .iter()
            .rev()
            .find(|p| !p.starts_with(NS_RDF))
            .or(path.last())
            .map_or("", String::as_str);
        out.push(item(format!("XMP value of {at}"), s.to_string()));
    }
}

/// The first item of `was` with no equal item left in `now` (each item of `now` matches once).
pub fn missing<'a>(was: &'a [Item], now: &[Item]) -> Option<&'a Item> {
    let mut left: Vec<&Item> = now.iter().collect();
    for w in was {
        match left.iter().position(|n| *n == w) {
            Some(i) => {
                left.swap_remove(i);
            }
            None => return Some(w),
        }
    }
    None
}

/// The XMP packet of each version, found where its container keeps it: the new one must parse
/// and keep everything of the old one but ours.
pub(super) fn packet(
    container: Container,
    old: &mut View,
    new: &mut View,
    tags: Tags,
) -> crate::formats::Result<()> {
    // A `PRIV` frame's owner `XMP` stands in the tag bytes as written (unsynchronisation leaves
    // ASCII alone): a tag that does not mention it is not parsed again, it has no packet. (Only
    // a compressed frame could hide it; our planner copies such frames verbatim.)
    let mentioned = |t: Option<Vec<u8>>| t.filter(|t| memchr::memmem::find(t, b"XMP").is_some());
    let tags = (mentioned(tags.0), mentioned(tags.1));
    if container == Container::Mpeg && tags.0.is_none() && tags.1.is_none() {
        return Ok(());
    }
    let find =
        |r: &mut View, tag: Option<Vec<u8>>| -> std::result::Result<Option<Vec<u8>>, String> {
            match container {
                Container::Mpeg => {
                    let Some(tag) = tag else {
                        return Ok(None);
                    };
                    // The id3 crate finds the packet; in a tag it cannot read (plain v2.4 frame
                    // sizes, grouped frames) our walker does, whose reading of every frame
                    // `cross_check` has just proven byte for byte.
                    match id3::Tag::read_from2(std::io::Cursor::new(&tag)) {
                        Ok(t) => Ok(t.frames().find_map(|f| match f.content() {
                            id3::Content::Private(p) if p.owner_identifier == "XMP" => {
                                Some(p.private_data.clone())
                            }
                            _ => None,
                        })),
                        Err(_) => id3v2::parse(&tag)
                            .and_then(|t| t.xmp())
                            .map_err(|e| e.to_string()),
                    }
                }
                Container::Wav | Container::Aiff => raw::chunk_xmp(r).map_err(|e| e.to_string()),
                Container::Rf64 => chunked::xmp(container, r).map_err(|e| e.to_string()),
                Container::Mp4 => raw::mp4_xmp(r).map_err(|e| e.to_string()),
                _ => Ok(None),
            }
        };
    let packets = |r: &mut View, tag, which: &str| {
        let p = find(r, tag).map_err(|e| {
            bad!(
                Refused,
                "internal check: cannot find the {which} XMP packet ({e}); not written"
            )
        })?;
        p.map(|p| kept(&p)).transpose().map_err(|e| {
            bad!(
                Refused,
                "internal check: the {which} XMP packet does not parse ({e}); not written"
            )
        })
    };
    let was = packets(old, tags.0, "old")?.unwrap_or_default();
    let now = packets(new, tags.1, "new")?.unwrap_or_default();
    match missing(&was, &now) {
        Some(lost) => Err(bad!(
            Refused,
            "internal check: the write would drop or change the {}; not written",
            lost.name
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::xmp::merge;

    const OLD: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Song &amp; Dance</rdf:li></rdf:Alt></dc:title>
<plus:OtherConstraints><rdf:Alt><rdf:li xml:lang="x-default">old terms</rdf:li></rdf:Alt></plus:OtherConstraints>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"#;

    fn set() -> Vec<(String, String)> {
        vec![(
            "DATAMINING".into(),
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED".into(),
        )]
    }

    #[test]
    fn our_merge_keeps_every_other_property() {
        let was = kept(OLD.as_bytes()).unwrap();
        assert!(was.iter().any(|i| i.value == b"Dance"), "{was:?}");
        assert!(
            !was.iter().any(|i| i.value == b"old terms"),
            "ours is left out"
        );
        let new = merge(Some(OLD.as_bytes()), &set()).unwrap();
        assert_eq!(missing(&was, &kept(&new).unwrap()), None);
    }

    #[test]
    fn a_packet_of_only_ours_keeps_nothing_so_strip_may_drop_it() {
        let set = [("TDM-RESERVATION".to_string(), "1".to_string())];
        let ours = merge(None, &set).unwrap();
        assert!(kept(&ours).unwrap().is_empty(), "{:?}", kept(&ours));
        assert!(!kept(OLD.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn a_lost_title_is_named() {
        let was = kept(OLD.as_bytes()).unwrap();
        let new = merge(Some(OLD.as_bytes()), &set()).unwrap();
        let damaged = String::from_utf8(new).unwrap().replace("Song", "Sing");
        let lost = missing(&was, &kept(damaged.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            lost.name,
            "XMP value of http://purl.org/dc/elements/1.1/title"
        );
        assert!(
            kept(b"<a><b></a>").is_err(),
            "a broken packet does not parse"
        );
    }
}
