//! Unit tests of the SPEC model: every status of SPEC §4 and the edge cases it names.

use super::*;
use crate::model::{Carrier, CarrierKind, RawField};

fn carrier(kind: CarrierKind, fields: &[(&str, &str)]) -> Carrier {
    Carrier {
        notes: Vec::new(),
        editable: true,
        kind,
        fields: fields
            .iter()
            .map(|(k, v)| RawField {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

fn vc(fields: &[(&str, &str)]) -> Vec<Carrier> {
    vec![carrier(CarrierKind::VorbisComment, fields)]
}

fn wanted(policy: Policy) -> Wanted {
    Wanted {
        policy,
        policy_url: None,
        constraints: None,
    }
}

fn full(policy: Policy) -> Vec<(String, String)> {
    wanted(policy).fields()
}

fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn each_policy_writes_spec_values() {
    let table = [
        (Policy::NoAiTraining, "1", "DMI-PROHIBITED-AIMLTRAINING"),
        (
            Policy::NoGenaiTraining,
            "1",
            "DMI-PROHIBITED-GENAIMLTRAINING",
        ),
        (
            Policy::NoTdmExceptSearch,
            "1",
            "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
        ),
        (Policy::NoTdm, "1", "DMI-PROHIBITED"),
        (Policy::License, "1", "DMI-PROHIBITED-SEECONSTRAINT"),
        (Policy::Allow, "0", "DMI-ALLOWED"),
    ];
    for (p, r, code) in table {
        let f = wanted(p).fields();
        assert_eq!(f[0], ("TDM-RESERVATION".to_string(), r.to_string()));
        assert_eq!(
            f[1],
            (
                "DATAMINING".to_string(),
                format!("http://ns.useplus.org/ldf/vocab/{code}")
            )
        );
        assert_eq!(f.len(), 2);
    }
}

#[test]
fn restrictiveness_order_matches_spec() {
    use Policy::*;
    let mut all = vec![
        Allow,
        License,
        NoGenaiTraining,
        NoAiTraining,
        NoTdmExceptSearch,
        NoTdm,
    ];
    all.sort();
    assert_eq!(
        all,
        vec![
            NoTdm,
            NoTdmExceptSearch,
            NoAiTraining,
            NoGenaiTraining,
            License,
            Allow
        ]
    );
}

#[test]
fn every_policy_round_trips_to_tagged() {
    for p in Policy::ALL {
        let v = evaluate(&vc(&as_refs(&full(p))), Some(&wanted(p)));
        assert_eq!(v.status, Status::Tagged, "{p}");
        assert_eq!(v.effective, Some(p));
        assert!(v.notes.is_empty(), "{p}: {:?}", v.notes);
    }
}

#[test]
fn no_fields_is_untagged() {
    let v = evaluate(&vc(&[("TITLE", "x")]), None);
    assert_eq!(v.status, Status::Untagged);
    assert_eq!(evaluate(&[], None).status, Status::Untagged);
}

#[test]
fn allow_is_a_mismatch_when_nothing_is_expected() {
    let v = evaluate(&vc(&as_refs(&full(Policy::Allow))), None);
    assert_eq!(v.status, Status::Mismatch);
}

#[test]
fn other_policy_is_a_mismatch_for_an_expected_one() {
    let v = evaluate(
        &vc(&as_refs(&full(Policy::NoGenaiTraining))),
        Some(&wanted(Policy::NoAiTraining)),
    );
    assert_eq!(v.status, Status::Mismatch);
    assert_eq!(v.effective, Some(Policy::NoGenaiTraining));
}

#[test]
fn reservation_zero_with_prohibition_is_a_conflict() {
    let v = evaluate(
        &vc(&[
            ("TDM-RESERVATION", "0"),
            ("DATAMINING", &Policy::NoAiTraining.datamining_uri()),
        ]),
        None,
    );
    assert_eq!(v.status, Status::Conflict);
}

#[test]
fn carriers_that_disagree_are_a_conflict() {
    let a = carrier(
        CarrierKind::Id3v2 { major: 3 },
        &as_refs(&full(Policy::NoAiTraining)),
    );
    let b = carrier(CarrierKind::VorbisComment, &as_refs(&full(Policy::Allow)));
    assert_eq!(evaluate(&[a, b], None).status, Status::Conflict);
}

#[test]
fn lone_reservation_contradicts_no_prohibiting_carrier() {
    let a = carrier(CarrierKind::Id3v2 { major: 3 }, &[("TDM-RESERVATION", "1")]);
    let b = carrier(
        CarrierKind::VorbisComment,
        &as_refs(&full(Policy::NoGenaiTraining)),
    );
    let v = evaluate(&[a, b], None);
    assert_eq!(v.status, Status::Tagged);
    assert_eq!(v.effective, Some(Policy::NoGenaiTraining));
}

#[test]
fn invalid_values_are_invalid() {
    for fields in [
        vec![("TDM-RESERVATION", "yes")],
        vec![("TDM-RESERVATION", "2")],
        vec![("DATAMINING", "NO_AI")],
        vec![("TDM-RESERVATION", "1"), ("TDM-POLICY", "example.org/p")],
        vec![("TDM-RESERVATION", "1"), ("TDM-RESERVATION", "0")],
    ] {
        assert_eq!(
            evaluate(&vc(&fields), None).status,
            Status::Invalid,
            "{fields:?}"
        );
    }
}

#[test]
fn lone_signals_count_but_are_incomplete() {
    let v = evaluate(&vc(&[("TDM-RESERVATION", "1")]), None);
    assert_eq!(v.status, Status::Tagged);
    assert!(v.incomplete);
    assert!(v.notes.iter().any(|n| n.contains("incomplete")));
    // ExifTool writes only plus:DataMining.
    let v = evaluate(
        &vc(&[("DATAMINING", &Policy::NoAiTraining.datamining_uri())]),
        None,
    );
    assert_eq!((v.status, v.incomplete), (Status::Tagged, true));
    // A lone reservation does not say which policy: not the expected one.
    let v = evaluate(
        &vc(&[("TDM-RESERVATION", "1")]),
        Some(&wanted(Policy::NoAiTraining)),
    );
    assert_eq!(v.status, Status::Mismatch);
}

#[test]
fn lowercase_keys_and_bare_codes_are_accepted_as_noncanonical() {
    let v = evaluate(
        &vc(&[
            ("tdm-reservation", "1"),
            ("datamining", "DMI-PROHIBITED-AIMLTRAINING"),
        ]),
        None,
    );
    assert_eq!(v.status, Status::Tagged);
    assert_eq!(v.effective, Some(Policy::NoAiTraining));
    assert_eq!(v.notes.len(), 3, "{:?}", v.notes);
}

#[test]
fn unspecified_is_not_a_reservation() {
    let v = evaluate(
        &vc(&[(
            "DATAMINING",
            "http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED",
        )]),
        None,
    );
    assert_eq!(v.status, Status::Untagged);
}

#[test]
fn expected_policy_url_must_match() {
    let w = Wanted {
        policy: Policy::License,
        policy_url: Some("https://a.example/p.json".into()),
        constraints: None,
    };
    let fields = w.fields();
    assert_eq!(
        evaluate(&vc(&as_refs(&fields)), Some(&w)).status,
        Status::Tagged
    );
    let other = Wanted {
        policy_url: Some("https://b.example/p.json".into()),
        ..w.clone()
    };
    assert_eq!(
        evaluate(&vc(&as_refs(&fields)), Some(&other)).status,
        Status::Mismatch
    );
}

#[test]
fn policy_urls() {
    assert!(is_policy_url("https://example.org/tdm.json"));
    assert!(is_policy_url("http://example.org"));
    assert!(!is_policy_url("ftp://example.org"));
    assert!(!is_policy_url("https://"));
    assert!(!is_policy_url("https://exa mple.org"));
}

#[test]
fn known_markers_are_invalid_with_a_hint() {
    let v = evaluate(&vc(&[("AI_TRAINING_OPT_OUT", "1")]), None);
    assert_eq!(v.status, Status::Invalid);
    assert!(
        v.notes.iter().any(|n| n.contains("noai tag --force")),
        "{:?}",
        v.notes
    );
    assert!(!is_marker("TDM-RESERVATION") && !is_marker("title"));
    assert!(is_marker("tdm_reservation") && is_marker("NoAI") && is_marker("ai-training-opt-out"));
}

#[test]
fn carrier_notes_reach_the_verdict_even_without_fields() {
    let mut c = Carrier::c2pa("C2PA chunk");
    c.notes.push("something worth saying".into());
    let v = evaluate(&[c], None);
    assert_eq!(v.status, Status::Untagged);
    assert!(
        v.notes
            .iter()
            .any(|n| n.starts_with("C2PA (C2PA chunk): something")),
        "{:?}",
        v.notes
    );
}
