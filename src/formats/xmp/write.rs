//! Writing XMP: our properties merged into a packet (everything else copied event by event),
//! a new packet when there is none, and the packet fitted to the space of the old one.

use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::reader::NsReader;

use super::{NS_PLUS, NS_RDF, NS_TDM, key_of, resolved, xml_err};
use crate::bad;
use crate::formats::Result;
use crate::model::{KEY_CONSTRAINTS, KEY_DATAMINING, KEY_POLICY, KEY_RESERVATION};

/// Padding a new packet gets, so later edits fit in the same space.
const NEW_PADDING: usize = 2048;

/// The packet with our properties removed everywhere and `set` (canonical keys and values)
/// added in one new `rdf:Description`; an empty `set` strips. `None` starts a new packet.
pub fn merge(packet: Option<&[u8]>, set: &[(String, String)]) -> Result<Vec<u8>> {
    let Some(packet) = packet else {
        return Ok(new_packet(set));
    };
    let mut reader = NsReader::from_reader(packet);
    let mut m = Merger {
        set,
        out: quick_xml::Writer::new(Vec::with_capacity(packet.len() + 1024)),
        skip: None,
        depth: 0,
        rdf_prefix: None,
        inserted: false,
    };
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(xml_err)?;
        let ns = resolved(&ns).to_vec();
        match ev {
            Event::Eof => break,
            _ if m.skip.is_some() => m.skipping(&ev),
            Event::Start(ref e) | Event::Empty(ref e) => m.start(&reader, &ns, e, &ev)?,
            Event::End(ref e) => m.end(&ns, e, ev.clone())?,
            other => m.out.write_event(other).map_err(xml_err)?,
        }
    }
    if !set.is_empty() && !m.inserted {
        return Err(bad!(Unsupported, "XMP packet without rdf:RDF; not changed"));
    }
    Ok(m.out.into_inner())
}

/// A merge under way: events are copied to `out` except our properties (skipped with all they
/// hold); our `rdf:Description` goes in before `rdf:RDF` closes.
struct Merger<'s> {
    set: &'s [(String, String)],
    out: quick_xml::Writer<Vec<u8>>,
    /// The depth at which the property being skipped started.
    skip: Option<usize>,
    depth: usize,
    /// The prefix the packet uses for the RDF namespace.
    rdf_prefix: Option<String>,
    inserted: bool,
}

impl Merger<'_> {
    /// Inside a property of ours: only the depth is followed, to find where it ends.
    fn skipping(&mut self, ev: &Event) {
        match ev {
            Event::Start(_) => self.depth += 1,
            Event::End(_) => {
                self.depth -= 1;
                if self.skip == Some(self.depth) {
                    self.skip = None;
                }
            }
            _ => {}
        }
    }

    /// A start or empty tag: a property of ours is skipped; any other element is copied
    /// without our properties in attribute form.
    fn start(
        &mut self,
        reader: &NsReader<&[u8]>,
        ns: &[u8],
        e: &BytesStart,
        ev: &Event,
    ) -> Result<()> {
        let is_start = matches!(ev, Event::Start(_));
        if key_of(ns, e.local_name().as_ref().as_bytes()).is_some() {
            if is_start {
                self.skip = Some(self.depth);
                self.depth += 1;
            }
            return Ok(());
        }
        if ns == NS_RDF.as_bytes() && e.local_name().as_ref().as_bytes() == b"RDF" {
            let name = e.name().as_ref().to_string();
            self.rdf_prefix = Some(
                name.split_once(':')
                    .map_or(String::new(), |(p, _)| p.to_string()),
            );
        }
        let cleaned = without_our_attributes(reader, e)?;
        let ev = match (is_start, cleaned) {
            (true, Some(c)) => Event::Start(c),
            (false, Some(c)) => Event::Empty(c),
            (_, None) => ev.clone(),
        };
        self.out.write_event(ev).map_err(xml_err)?;
        if is_start {
            self.depth += 1;
        }
        Ok(())
    }

    /// An end tag; the end of `rdf:RDF` gets our `rdf:Description` first.
    fn end(&mut self, ns: &[u8], e: &BytesEnd, ev: Event) -> Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if ns == NS_RDF.as_bytes()
            && e.local_name().as_ref().as_bytes() == b"RDF"
            && !self.set.is_empty()
            && !self.inserted
        {
            let prefix = self.rdf_prefix.clone().unwrap_or_else(|| "rdf".into());
            self.out
                .get_mut()
                .extend_from_slice(description(&prefix, self.set, " ").as_bytes());
            self.inserted = true;
        }
        self.out.write_event(ev).map_err(xml_err)?;
        Ok(())
    }
}

/// A carrier's packet after an edit: the bytes, and whether they differ from the old packet.
pub struct Merged {
    pub packet: Vec<u8>,
    pub changed: bool,
}

/// The first step every XMP carrier shares: `set` merged into the carrier's packet `old`, or a
/// new packet when it has none and fields are set; `None` when it has none and nothing is set.
/// Then each carrier asks: changed? emptied (`is_emptied`)? fits the old space (`fit_in`), or
/// grows?
pub fn merged(old: Option<&[u8]>, set: &[(String, String)]) -> Result<Option<Merged>> {
    Ok(match old {
        None if set.is_empty() => None,
        None => Some(Merged {
            packet: merge(None, set)?,
            changed: true,
        }),
        Some(old) => {
            let packet = merge(Some(old), set)?;
            let changed = packet != old;
            Some(Merged { packet, changed })
        }
    })
}

impl Merged {
    /// True when `strip` left nothing in the packet: it (and its carrier) may go.
    pub fn is_emptied(&self, set: &[(String, String)]) -> Result<bool> {
        Ok(set.is_empty() && is_empty(&self.packet)?)
    }

    /// The packet padded to exactly `room` bytes, the old packet's space (`Ok`), or as merged
    /// when it is larger (`Err`): then its carrier grows.
    pub fn fit_in(self, room: usize) -> std::result::Result<Vec<u8>, Vec<u8>> {
        match fit(&self.packet, room) {
            Some(fitted) => Ok(fitted),
            None => Err(self.packet),
        }
    }
}

/// True when a packet says nothing at all: only the `x:xmpmeta`/`rdf:RDF`/`rdf:Description`
/// frame (with `rdf:about`, `xmlns` and `x:xmptk` attributes), the `xpacket` wrapper, comments
/// and white space. `strip` removes such a packet and its carrier instead of leaving an empty
/// shell behind (any other element, attribute or text keeps it).
pub fn is_empty(packet: &[u8]) -> Result<bool> {
    const NS_X: &[u8] = b"adobe:ns:meta/";
    let mut reader = NsReader::from_reader(packet);
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(xml_err)?;
        let ns = resolved(&ns).to_vec();
        match ev {
            Event::Eof => return Ok(true),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().as_bytes().to_vec();
                let frame = (ns == NS_X && local == b"xmpmeta")
                    || (ns == NS_RDF.as_bytes() && matches!(&local[..], b"RDF" | b"Description"));
                if !frame {
                    return Ok(false);
                }
                for a in e.attributes().with_checks(false) {
                    let a = a.map_err(xml_err)?;
                    let key = a.key.as_ref().as_bytes();
                    let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
                    let allowed = key == b"xmlns"
                        || key.starts_with(b"xmlns:")
                        || (resolved(&ans) == NS_RDF.as_bytes()
                            && alocal.as_ref().as_bytes() == b"about")
                        || (resolved(&ans) == NS_X && alocal.as_ref().as_bytes() == b"xmptk");
                    if !allowed {
                        return Ok(false);
                    }
                }
            }
            Event::Text(t) if !t.as_ref().trim().is_empty() => return Ok(false),
            Event::CData(_) => return Ok(false),
            _ => {}
        }
    }
}

/// A start tag without our properties as attributes, or `None` if it had none.
fn without_our_attributes(
    reader: &NsReader<&[u8]>,
    e: &BytesStart,
) -> Result<Option<BytesStart<'static>>> {
    let mut ours = false;
    let mut kept = Vec::new();
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(xml_err)?;
        let (ns, local) = reader.resolver().resolve_attribute(a.key);
        if key_of(resolved(&ns), local.as_ref().as_bytes()).is_some() {
            ours = true;
        } else {
            kept.push(a);
        }
    }
    if !ours {
        return Ok(None);
    }
    let name = e.name().as_ref().to_string();
    let mut start = BytesStart::new(name);
    start.extend_attributes(kept);
    Ok(Some(start.into_owned()))
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// One `rdf:Description` holding `set`, declaring the namespaces it uses.
fn description(rdf: &str, set: &[(String, String)], indent: &str) -> String {
    let r = if rdf.is_empty() {
        String::new()
    } else {
        format!("{rdf}:")
    };
    let mut d = format!(
        "{indent}<{r}Description {r}about=\"\" xmlns:plus=\"{NS_PLUS}\" xmlns:tdm=\"{NS_TDM}\">\n"
    );
    for (k, v) in set {
        let v = escape(v);
        let line = match k.as_str() {
            KEY_DATAMINING => format!("<plus:DataMining>{v}</plus:DataMining>"),
            KEY_RESERVATION => format!("<tdm:reservation>{v}</tdm:reservation>"),
            KEY_POLICY => format!("<tdm:policy>{v}</tdm:policy>"),
            KEY_CONSTRAINTS => format!(
                "<plus:OtherConstraints><{r}Alt><{r}li xml:lang=\"x-default\">{v}</{r}li></{r}Alt></plus:OtherConstraints>"
            ),
            _ => continue,
        };
        d += &format!("{indent} {line}\n");
    }
    d += &format!("{indent}</{r}Description>\n");
    d
}

fn new_packet(set: &[(String, String)]) -> Vec<u8> {
    let mut p = String::from("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    p += "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n";
    p += &format!(" <rdf:RDF xmlns:rdf=\"{NS_RDF}\">\n");
    p += &description("rdf", set, "  ");
    p += " </rdf:RDF>\n</x:xmpmeta>\n";
    let mut bytes = p.into_bytes();
    bytes.extend(padding(NEW_PADDING));
    bytes.extend_from_slice(b"<?xpacket end=\"w\"?>");
    bytes
}

/// Whitespace padding in lines of 100, as XMP writers do.
fn padding(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| if i % 100 == 99 { b'\n' } else { b' ' })
        .collect()
}

/// The packet padded (or its padding trimmed) to exactly `len` bytes, so it fits a carrier of
/// fixed size; `None` when even without padding it is longer. Padding is the whitespace before
/// the closing `<?xpacket end…?>` (or at the end of a packet without one).
pub fn fit(packet: &[u8], len: usize) -> Option<Vec<u8>> {
    let (body_end, tail_at) = padding_bounds(packet);
    let core = body_end + (packet.len() - tail_at);
    // Keep one newline between the body and the trailer.
    let need = core + 1;
    let spare = crate::formats::filler(need as u64, len as u64, 0)? as usize;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&packet[..body_end]);
    out.push(b'\n');
    out.extend(padding(spare));
    out.extend_from_slice(&packet[tail_at..]);
    Some(out)
}

/// The packet with its padding removed (for carriers whose container has padding of its own,
/// such as an ID3v2 tag).
pub fn compact(packet: &[u8]) -> Vec<u8> {
    let (body_end, tail_at) = padding_bounds(packet);
    fit(packet, body_end + (packet.len() - tail_at) + 1).unwrap_or_else(|| packet.to_vec())
}

/// Where the padding of a packet starts and where the trailer after it starts.
fn padding_bounds(packet: &[u8]) -> (usize, usize) {
    let tail_at = find_last(packet, b"<?xpacket end").unwrap_or(packet.len());
    let mut body_end = tail_at;
    while body_end > 0 && packet[body_end - 1].is_ascii_whitespace() {
        body_end -= 1;
    }
    (body_end, tail_at)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
