//! The training-mining assertion's entries, checked against CAWG v1.1 (the SDK stores the
//! assertion as opaque JSON and checks none of it): `use` is `allowed`, `notAllowed` or
//! `constrained`, and `constrained` without `constraint_info` counts as `notAllowed`.

use serde_json::Value;

use crate::model::{SignedEntry, Use};

/// The entries of one assertion and what was wrong with the rest.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Assertion {
    pub entries: Vec<SignedEntry>,
    pub bad: Vec<String>,
}

/// Reads `{"entries": {KEY: {"use": …, "constraint_info": …}}}`. A v1.0 assertion, whose
/// schema left out the `entries` map by mistake, holds the keys at the top level: read too.
pub fn parse_assertion(data: &Value) -> Assertion {
    let mut out = Assertion::default();
    let Some(map) = data
        .get("entries")
        .unwrap_or(data)
        .as_object()
        .filter(|_| data.is_object())
    else {
        out.bad.push("the assertion is not a map of entries".into());
        return out;
    };
    for (key, entry) in map {
        if key == "metadata" && data.get("entries").is_none() {
            continue;
        }
        match parse_entry(key, entry) {
            Ok(e) => out.entries.push(e),
            Err(why) => out.bad.push(format!("{key}: {why}")),
        }
    }
    out
}

fn parse_entry(key: &str, entry: &Value) -> Result<SignedEntry, String> {
    let use_ = match entry.get("use").and_then(Value::as_str) {
        Some("allowed") => Use::Allowed,
        Some("notAllowed") => Use::NotAllowed,
        Some("constrained") => Use::Constrained,
        Some(other) => {
            return Err(format!(
                "`use` is {other:?}, not allowed/notAllowed/constrained"
            ));
        }
        None => return Err("no `use` value".into()),
    };
    let constraint_info = match entry.get("constraint_info") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`constraint_info` is not text".into()),
    };
    let effective = match (use_, &constraint_info) {
        (Use::Constrained, None) => Use::NotAllowed,
        (u, _) => u,
    };
    Ok(SignedEntry {
        key: key.to_string(),
        use_,
        constraint_info,
        effective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_three_uses_and_constrained_without_info_is_not_allowed() {
        let a = parse_assertion(&json!({"entries": {
            "cawg.ai_training": {"use": "notAllowed"},
            "cawg.data_mining": {"use": "constrained", "constraint_info": "https://x.example/t"},
            "cawg.ai_inference": {"use": "constrained"},
            "cawg.ai_generative_training": {"use": "allowed"},
        }}));
        assert!(a.bad.is_empty(), "{:?}", a.bad);
        let eff = |k: &str| a.entries.iter().find(|e| e.key == k).unwrap().effective;
        assert_eq!(eff("cawg.ai_training"), Use::NotAllowed);
        assert_eq!(eff("cawg.data_mining"), Use::Constrained);
        assert_eq!(eff("cawg.ai_inference"), Use::NotAllowed);
        assert_eq!(eff("cawg.ai_generative_training"), Use::Allowed);
    }

    #[test]
    fn values_outside_the_spec_are_reported_not_guessed() {
        let a = parse_assertion(&json!({"entries": {
            "cawg.ai_training": {"use": "no"},
            "cawg.data_mining": {},
            "cawg.ai_inference": {"use": "constrained", "constraint_info": 5},
        }}));
        assert!(a.entries.is_empty());
        assert_eq!(a.bad.len(), 3, "{:?}", a.bad);
        assert!(!parse_assertion(&json!([1, 2])).bad.is_empty());
    }

    #[test]
    fn a_v1_0_assertion_without_the_entries_map_is_read() {
        let a =
            parse_assertion(&json!({"c2pa.ai_training": {"use": "notAllowed"}, "metadata": {}}));
        assert_eq!(a.entries.len(), 1);
        assert!(a.bad.is_empty());
    }
}
