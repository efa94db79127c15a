//! Parsing the raw fields of one carrier into SPEC signals: which keys are present, their
//! values checked against SPEC (invalid), and spellings that are accepted but not canonical.

use super::{
    DmiValue, KEY_DATAMINING, KEY_POLICY, KEY_RESERVATION, PLUS_PREFIX, Policy, SPEC_KEYS,
    is_policy_url, is_spec_key,
};
use crate::model::RawField;

/// The SPEC fields of one carrier, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    pub reservation: Option<bool>,
    pub datamining: Option<DmiValue>,
    pub policy_url: Option<String>,
    pub constraints: Option<String>,
    /// Values outside SPEC (the carrier is then `invalid`).
    pub invalid: Vec<String>,
    /// Accepted, but not as `tag` writes it (lowercase keys, bare codes, duplicates).
    pub noncanonical: Vec<String>,
    /// True when any SPEC key was present at all.
    pub present: bool,
}

/// Parses the SPEC fields among a carrier's raw fields.
pub fn parse_fields(fields: &[RawField]) -> Signals {
    let mut s = Signals::default();
    for key in SPEC_KEYS {
        let found: Vec<&RawField> = fields
            .iter()
            .filter(|f| f.key.eq_ignore_ascii_case(key))
            .collect();
        let Some(first) = found.first() else { continue };
        s.present = true;
        if found.iter().any(|f| f.key != key) {
            s.noncanonical
                .push(format!("key `{}` is not written as `{key}`", first.key));
        }
        let values: Vec<&str> = found.iter().map(|f| f.value.trim()).collect();
        if values.iter().any(|v| *v != values[0]) {
            s.invalid.push(format!(
                "{key} appears {} times with different values",
                found.len()
            ));
            continue;
        }
        if found.len() > 1 {
            s.noncanonical
                .push(format!("{key} appears {} times", found.len()));
        }
        parse_value(&mut s, key, values[0]);
    }
    for f in fields.iter().filter(|f| is_marker(&f.key)) {
        s.present = true;
        s.invalid.push(format!(
            "non-standard marker `{}={}` that crawlers do not understand; `noai tag --force` replaces it with the standard fields",
            f.key, f.value
        ));
    }
    s
}

/// Home-made "no AI" keys seen in the wild. They state an intent but no standard value, so a
/// file carrying one is `invalid` until re-tagged (which removes them).
const MARKERS: [&str; 10] = [
    "AITRAININGOPTOUT",
    "AIOPTOUT",
    "NOAI",
    "NOAITRAINING",
    "NOAIMLTRAINING",
    "DONOTTRAIN",
    "NOTRAIN",
    "AITRAINING",
    "TDMRESERVATION",
    "TDMREP",
];

/// True for a known non-standard marker key (any case, `-`/`_`/space ignored) that is not one
/// of SPEC's own keys.
pub fn is_marker(key: &str) -> bool {
    if is_spec_key(key) {
        return false;
    }
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .collect::<String>()
        .to_ascii_uppercase();
    MARKERS.contains(&norm.as_str())
}

fn parse_value(s: &mut Signals, key: &str, v: &str) {
    match key {
        KEY_RESERVATION => match v {
            "1" => s.reservation = Some(true),
            "0" => s.reservation = Some(false),
            _ => s
                .invalid
                .push(format!("{KEY_RESERVATION}={v:?} (must be 1 or 0)")),
        },
        KEY_DATAMINING => {
            let code = v.strip_prefix(PLUS_PREFIX);
            if code.is_none() {
                if v.starts_with("DMI-") {
                    s.noncanonical.push(format!(
                        "{KEY_DATAMINING} is a bare code, not the full PLUS URI"
                    ));
                } else if v.starts_with("https://ns.useplus.org/") {
                    s.noncanonical
                        .push(format!("{KEY_DATAMINING} uses https; the PLUS URI is http"));
                }
            }
            let code = code
                .or_else(|| v.strip_prefix("https://ns.useplus.org/ldf/vocab/"))
                .unwrap_or(v);
            match Policy::from_dmi_code(code) {
                Some(DmiValue::Unspecified) => {
                    s.datamining = Some(DmiValue::Unspecified);
                    s.noncanonical.push(format!(
                        "{KEY_DATAMINING} is DMI-UNSPECIFIED (states nothing)"
                    ));
                }
                Some(d) => s.datamining = Some(d),
                None => s.invalid.push(format!(
                    "{KEY_DATAMINING}={v:?} is not a PLUS Data Mining value"
                )),
            }
        }
        KEY_POLICY => {
            if is_policy_url(v) {
                s.policy_url = Some(v.to_string());
            } else {
                s.invalid
                    .push(format!("{KEY_POLICY}={v:?} is not an absolute http(s) URL"));
            }
        }
        _ => s.constraints = Some(v.to_string()),
    }
}
