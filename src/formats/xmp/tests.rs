//! Unit tests of XMP reading and merging: forms of our properties, other content kept.

use super::*;

fn set() -> Vec<(String, String)> {
    vec![
        (KEY_RESERVATION.to_string(), "1".to_string()),
        (
            KEY_DATAMINING.to_string(),
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING".to_string(),
        ),
        (KEY_CONSTRAINTS.to_string(), "Ask <labels> & co".to_string()),
    ]
}

const AUDITION: &str = r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.6">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <!-- markers -->
  <rdf:Description rdf:about="" xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/DynamicMedia/"
    xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED">
   <xmpDM:Tracks><rdf:Bag><rdf:li xmpDM:trackName="CuePoint Markers"/></rdf:Bag></xmpDM:Tracks>
   <tdm:reservation xmlns:tdm="http://www.w3.org/ns/tdmrep#">0</tdm:reservation>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
                                                                                                    
<?xpacket end="w"?>"#;

#[test]
fn new_packet_round_trips() {
    let p = merge(None, &set()).unwrap();
    let f = read(&p).unwrap();
    assert_eq!(f.fields.len(), 3);
    assert!(f.fields.contains(&RawField {
        key: KEY_CONSTRAINTS.into(),
        value: "Ask <labels> & co".into()
    }));
    assert!(f.notes.is_empty());
    assert!(p.ends_with(b"<?xpacket end=\"w\"?>"));
}

#[test]
fn reads_attribute_element_and_hash_namespace_forms() {
    let f = read(AUDITION.as_bytes()).unwrap();
    assert!(f.fields.contains(&RawField {
        key: KEY_DATAMINING.into(),
        value: "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED".into()
    }));
    assert!(f.fields.contains(&RawField {
        key: KEY_RESERVATION.into(),
        value: "0".into()
    }));
    assert_eq!(f.notes.len(), 1, "the # namespace is noted");
}

#[test]
fn merge_replaces_ours_and_keeps_everything_else() {
    let merged = merge(Some(AUDITION.as_bytes()), &set()).unwrap();
    let text = String::from_utf8(merged.clone()).unwrap();
    assert!(text.contains("<!-- markers -->"));
    assert!(text.contains(r#"<rdf:li xmpDM:trackName="CuePoint Markers"/>"#));
    assert!(text.contains("x:xmptk=\"Adobe XMP Core 5.6\""));
    assert!(!text.contains("DMI-ALLOWED"), "old attribute value removed");
    let f = read(&merged).unwrap();
    let keys: Vec<_> = f.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys.iter().filter(|k| **k == KEY_RESERVATION).count(), 1);
    assert_eq!(
        f.fields
            .iter()
            .find(|f| f.key == KEY_RESERVATION)
            .unwrap()
            .value,
        "1"
    );
    // Stripping leaves none of ours and the rest intact.
    let stripped = merge(Some(&merged), &[]).unwrap();
    assert!(read(&stripped).unwrap().fields.is_empty());
    assert!(
        String::from_utf8(stripped)
            .unwrap()
            .contains("CuePoint Markers")
    );
}

#[test]
fn fit_pads_to_exact_length() {
    let p = merge(None, &set()).unwrap();
    let fitted = fit(&p, p.len() + 500).unwrap();
    assert_eq!(fitted.len(), p.len() + 500);
    assert_eq!(read(&fitted).unwrap(), read(&p).unwrap());
    let small = fit(&p, p.len() - 1000).unwrap();
    assert_eq!(small.len(), p.len() - 1000);
    assert!(fit(&p, 100).is_none());
}

#[test]
fn broken_xml_is_an_error() {
    assert!(
        read(b"<x:xmpmeta><rdf:RDF></x:xmpmeta>").is_err() || merge(Some(b"<a>"), &set()).is_err()
    );
    assert!(merge(Some(b"<x/>"), &set()).is_err(), "no rdf:RDF");
}

#[test]
fn a_packet_with_only_ours_is_empty_after_strip_and_others_are_not() {
    let set = vec![("TDM-RESERVATION".to_string(), "1".to_string())];
    let ours = merge(None, &set).unwrap();
    assert!(!is_empty(&ours).unwrap(), "our fields are content");
    assert!(is_empty(&merge(Some(&ours), &[]).unwrap()).unwrap());
    let other = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="audio/mpeg"/></rdf:RDF></x:xmpmeta>"#;
    assert!(!is_empty(&merge(Some(other), &[]).unwrap()).unwrap());
    let marker = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""><xmpDM:markers xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/DynamicMedia/">x</xmpDM:markers></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    assert!(!is_empty(marker).unwrap());
}
