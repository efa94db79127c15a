//! SPEC §6: the policy table both ways, and how a manifest joins the tags' verdict.

use super::*;
use crate::model::{Carrier, CarrierKind, RawField};
use crate::policy::evaluate;

fn entry(key: &str, use_: Use, info: Option<&str>) -> SignedEntry {
    let effective = match (use_, info) {
        (Use::Constrained, None) => Use::NotAllowed,
        (u, _) => u,
    };
    SignedEntry {
        key: key.into(),
        use_,
        constraint_info: info.map(str::to_string),
        effective,
    }
}

fn signed(state: SignState, entries: Vec<SignedEntry>) -> Signed {
    Signed {
        place: "ID3 GEOB",
        state,
        assertion: Some("cawg.training-mining".into()),
        legacy: false,
        entries,
        bad_entries: Vec::new(),
        issuer: None,
        common_name: None,
        failures: Vec::new(),
        error: None,
    }
}

fn tags(policy: Policy) -> Vec<Carrier> {
    let w = Wanted {
        policy,
        policy_url: None,
        constraints: None,
    };
    let fields = w
        .fields()
        .into_iter()
        .map(|(key, value)| RawField { key, value })
        .collect();
    vec![Carrier::new(CarrierKind::Id3v2 { major: 3 }, fields)]
}

#[test]
fn every_policy_reads_back_from_what_it_signs() {
    for p in Policy::ALL {
        let entries: Vec<_> = signed_entries(p)
            .into_iter()
            .map(|(k, u)| entry(&k, u, Some("https://terms.example/")))
            .collect();
        assert_eq!(policy_of_entries(&entries), Some(p), "{p}");
    }
}

#[test]
fn constrained_without_info_counts_as_not_allowed_and_legacy_keys_count() {
    let all: Vec<_> = ["c2pa.data_mining", "c2pa.ai_inference", "c2pa.ai_training"]
        .into_iter()
        .map(|k| entry(k, Use::NotAllowed, None))
        .chain([entry("c2pa.ai_generative_training", Use::Constrained, None)])
        .collect();
    assert_eq!(policy_of_entries(&all), Some(Policy::NoTdm));
    let lone = [entry("cawg.data_mining", Use::NotAllowed, None)];
    assert_eq!(policy_of_entries(&lone), None);
}

#[test]
fn a_valid_manifest_alone_makes_a_file_tagged() {
    let s = signed(
        SignState::Valid,
        vec![entry("cawg.ai_generative_training", Use::NotAllowed, None)],
    );
    let v = join_signed(evaluate(&[], None), &s, None);
    assert_eq!(v.status, Status::Tagged, "{:?}", v.notes);
    assert_eq!(v.effective, Some(Policy::NoGenaiTraining));
}

#[test]
fn agreeing_and_disagreeing_with_the_tags() {
    let entries = signed_entries(Policy::NoAiTraining)
        .into_iter()
        .map(|(k, u)| entry(&k, u, None))
        .collect();
    let s = signed(SignState::Trusted, entries);
    let agree = join_signed(evaluate(&tags(Policy::NoAiTraining), None), &s, None);
    assert_eq!(agree.status, Status::Tagged);
    assert!(
        agree.notes.iter().any(|n| n.contains("agrees")),
        "{:?}",
        agree.notes
    );
    let differ = join_signed(evaluate(&tags(Policy::NoTdm), None), &s, None);
    assert_eq!(differ.status, Status::Conflict, "{:?}", differ.notes);
}

#[test]
fn an_invalid_manifest_is_signature_broken_whatever_the_tags_say() {
    let mut s = signed(SignState::Invalid, Vec::new());
    s.failures = vec!["assertion.dataHash.mismatch".into()];
    let v = join_signed(evaluate(&tags(Policy::NoAiTraining), None), &s, None);
    assert_eq!(v.status, Status::SignatureBroken);
    assert!(v.status.is_finding());
    let note = v.notes.last().unwrap();
    assert!(note.contains("the file changed after signing"), "{note}");
    assert!(note.contains("assertion.dataHash.mismatch"), "{note}");
}

#[test]
fn bad_entry_values_make_the_file_invalid() {
    let mut s = signed(SignState::Valid, Vec::new());
    s.bad_entries = vec!["cawg.ai_training: `use` is \"no\"".into()];
    let v = join_signed(evaluate(&[], None), &s, None);
    assert_eq!(v.status, Status::Invalid);
}
