//! The SPEC model: policies, the fields they write, how raw fields found in a file are parsed
//! into signals, and the status decision of `verify`. Pure: no I/O, so every rule is unit-tested.

use std::fmt;

use crate::formats::{Carrier, RawField};

pub const KEY_RESERVATION: &str = "TDM-RESERVATION";
pub const KEY_DATAMINING: &str = "DATAMINING";
pub const KEY_POLICY: &str = "TDM-POLICY";
pub const KEY_CONSTRAINTS: &str = "OTHERCONSTRAINTS";
/// Every key of SPEC §1, canonical spelling.
pub const SPEC_KEYS: [&str; 4] = [KEY_RESERVATION, KEY_DATAMINING, KEY_POLICY, KEY_CONSTRAINTS];
/// The PLUS vocabulary prefix (scheme `http`, as registered).
pub const PLUS_PREFIX: &str = "http://ns.useplus.org/ldf/vocab/";

/// A reservation policy (SPEC §2), declared most restrictive first so `Ord` ranks them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    NoTdm,
    NoTdmExceptSearch,
    NoAiTraining,
    NoGenaiTraining,
    License,
    Allow,
}

impl Policy {
    pub const ALL: [Policy; 6] = [
        Policy::NoTdm,
        Policy::NoTdmExceptSearch,
        Policy::NoAiTraining,
        Policy::NoGenaiTraining,
        Policy::License,
        Policy::Allow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::NoTdm => "no-tdm",
            Policy::NoTdmExceptSearch => "no-tdm-except-search",
            Policy::NoAiTraining => "no-ai-training",
            Policy::NoGenaiTraining => "no-genai-training",
            Policy::License => "license",
            Policy::Allow => "allow",
        }
    }

    /// The `DMI-…` code of the PLUS vocabulary this policy writes.
    pub fn dmi_code(self) -> &'static str {
        match self {
            Policy::NoTdm => "DMI-PROHIBITED",
            Policy::NoTdmExceptSearch => "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
            Policy::NoAiTraining => "DMI-PROHIBITED-AIMLTRAINING",
            Policy::NoGenaiTraining => "DMI-PROHIBITED-GENAIMLTRAINING",
            Policy::License => "DMI-PROHIBITED-SEECONSTRAINT",
            Policy::Allow => "DMI-ALLOWED",
        }
    }

    pub fn datamining_uri(self) -> String {
        format!("{PLUS_PREFIX}{}", self.dmi_code())
    }

    /// The `TDM-RESERVATION` value: `1` reserved, `0` not.
    pub fn reserved(self) -> bool {
        self != Policy::Allow
    }

    /// The policy a `DMI-…` code stands for. The two rights-expression codes are prohibitions
    /// that point elsewhere for terms, so they rank with `license`.
    pub fn from_dmi_code(code: &str) -> Option<DmiValue> {
        if code == "DMI-UNSPECIFIED" {
            return Some(DmiValue::Unspecified);
        }
        if matches!(
            code,
            "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR" | "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR"
        ) {
            return Some(DmiValue::Policy(Policy::License));
        }
        Policy::ALL
            .into_iter()
            .find(|p| p.dmi_code() == code)
            .map(DmiValue::Policy)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `DATAMINING` value from the PLUS vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmiValue {
    Policy(Policy),
    /// `DMI-UNSPECIFIED`: a valid PLUS term that states no reservation.
    Unspecified,
}

/// What `tag` writes: the canonical field set for one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub policy: Policy,
    pub policy_url: Option<String>,
    pub constraints: Option<String>,
}

impl Wanted {
    /// The canonical `(KEY, value)` pairs, in SPEC order.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                KEY_RESERVATION.to_string(),
                if self.policy.reserved() { "1" } else { "0" }.to_string(),
            ),
            (KEY_DATAMINING.to_string(), self.policy.datamining_uri()),
        ];
        if let Some(url) = &self.policy_url {
            out.push((KEY_POLICY.to_string(), url.trim().to_string()));
        }
        if let Some(c) = &self.constraints {
            out.push((KEY_CONSTRAINTS.to_string(), c.trim().to_string()));
        }
        out
    }
}

/// True when `url` is an absolute http(s) URL with a host, as `TDM-POLICY` requires.
pub fn is_policy_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// True for a key of SPEC §1 in any letter case.
pub fn is_spec_key(key: &str) -> bool {
    SPEC_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

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
    s
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

/// A verify status (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Tagged,
    Untagged,
    Mismatch,
    Conflict,
    Invalid,
    Error,
    Skipped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Tagged => "tagged",
            Status::Untagged => "untagged",
            Status::Mismatch => "mismatch",
            Status::Conflict => "conflict",
            Status::Invalid => "invalid",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Status::Untagged | Status::Mismatch | Status::Conflict | Status::Invalid
        )
    }
}

/// What the carriers of one file say, taken together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    /// The most restrictive valid signal, if any.
    pub effective: Option<Policy>,
    /// True when a lone `TDM-RESERVATION=1` or a lone `DATAMINING` value is all there is.
    pub incomplete: bool,
    /// Why the status is what it is, and non-canonical spellings worth fixing.
    pub notes: Vec<String>,
}

/// What one carrier's valid signals say on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// A `DATAMINING` policy (with or without a matching `TDM-RESERVATION`).
    Specific { policy: Policy, complete: bool },
    /// `TDM-RESERVATION` alone: reserved (`1`) or not (`0`), scope unspecified.
    Lone { reserved: bool },
}

/// The claim of one carrier's signals, or a conflict message.
fn claim(s: &Signals) -> Result<Option<Claim>, String> {
    let dmi = match s.datamining {
        Some(DmiValue::Policy(p)) => Some(p),
        _ => None,
    };
    match (s.reservation, dmi) {
        (Some(r), Some(p)) if r != p.reserved() => Err(format!(
            "TDM-RESERVATION={} contradicts DATAMINING {}",
            u8::from(r),
            p.dmi_code()
        )),
        (r, Some(policy)) => Ok(Some(Claim::Specific {
            policy,
            complete: r.is_some(),
        })),
        (Some(reserved), None) => Ok(Some(Claim::Lone { reserved })),
        (None, None) => Ok(None),
    }
}

/// Combines the claims of all carriers: the effective policy and whether the set is complete,
/// or a conflict message. A lone `TDM-RESERVATION=1` contradicts no prohibiting policy.
fn combine(claims: &[Claim]) -> Result<Option<(Policy, bool)>, String> {
    let specific: Vec<(Policy, bool)> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Specific { policy, complete } => Some((*policy, *complete)),
            Claim::Lone { .. } => None,
        })
        .collect();
    let lone = |want: bool| claims.contains(&Claim::Lone { reserved: want });
    if let Some(&(first, _)) = specific.first() {
        if let Some((other, _)) = specific.iter().find(|(p, _)| *p != first) {
            return Err(format!("carriers disagree: {first} vs {other}"));
        }
        if (first.reserved() && lone(false)) || (!first.reserved() && lone(true)) {
            return Err(format!(
                "carriers disagree: {first} vs a lone TDM-RESERVATION"
            ));
        }
        return Ok(Some((first, specific.iter().all(|(_, c)| !c))));
    }
    match (lone(true), lone(false)) {
        (true, true) => Err("carriers disagree: TDM-RESERVATION=1 vs 0".into()),
        (true, false) => Ok(Some((Policy::NoTdm, true))),
        (false, true) => Ok(Some((Policy::Allow, true))),
        (false, false) => Ok(None),
    }
}

/// Decides the status of a file from all its carriers (SPEC §4). `expected` is the policy a
/// `verify --policy` asks for; `None` accepts any reserving policy.
pub fn evaluate(carriers: &[Carrier], expected: Option<&Wanted>) -> Verdict {
    let mut notes = Vec::new();
    let (mut any, mut invalid, mut conflict) = (false, false, false);
    let mut claims = Vec::new();
    let mut urls = Vec::new();
    for c in carriers {
        let s = parse_fields(&c.fields);
        if !s.present {
            continue;
        }
        any = true;
        let label = c.kind.label();
        notes.extend(c.notes.iter().map(|n| format!("{label}: {n}")));
        notes.extend(s.noncanonical.iter().map(|n| format!("{label}: {n}")));
        if !s.invalid.is_empty() {
            invalid = true;
            notes.extend(s.invalid.iter().map(|n| format!("{label}: {n}")));
            continue;
        }
        urls.extend(s.policy_url.clone());
        match claim(&s) {
            Err(m) => {
                conflict = true;
                notes.push(format!("{label}: {m}"));
            }
            Ok(Some(c)) => claims.push(c),
            Ok(None) => {}
        }
    }
    if !any {
        return Verdict {
            status: Status::Untagged,
            effective: None,
            incomplete: false,
            notes,
        };
    }
    let (effective, incomplete) = match combine(&claims) {
        Ok(Some((p, inc))) => (Some(p), inc),
        Ok(None) => (None, false),
        Err(m) => {
            conflict = true;
            notes.push(m);
            (None, false)
        }
    };
    let lone_only = claims.iter().all(|c| matches!(c, Claim::Lone { .. }));
    let status = if invalid {
        Status::Invalid
    } else if conflict {
        Status::Conflict
    } else {
        let found = Found {
            effective,
            incomplete,
            lone_only,
            urls: &urls,
        };
        match_expected(&found, expected, &mut notes)
    };
    Verdict {
        status,
        effective,
        incomplete,
        notes,
    }
}

/// The combined valid signals of a file, for the comparison with what is expected.
struct Found<'a> {
    effective: Option<Policy>,
    incomplete: bool,
    lone_only: bool,
    urls: &'a [String],
}

fn match_expected(found: &Found, expected: Option<&Wanted>, notes: &mut Vec<String>) -> Status {
    let Some(effective) = found.effective else {
        notes.push("no reservation: DATAMINING is DMI-UNSPECIFIED".into());
        return Status::Untagged;
    };
    if found.incomplete {
        notes.push(
            "incomplete set: TDM-RESERVATION or DATAMINING is missing (`noai tag` completes it)"
                .into(),
        );
    }
    match expected {
        None if effective.reserved() => Status::Tagged,
        None => {
            notes.push(format!("policy is {effective}: mining is allowed"));
            Status::Mismatch
        }
        Some(w) if effective != w.policy || found.lone_only => {
            notes.push(format!("expected policy {}, found {}", w.policy, effective));
            Status::Mismatch
        }
        Some(w) => match &w.policy_url {
            Some(url) if !found.urls.iter().any(|u| u == url) => {
                notes.push(format!("expected TDM-POLICY {url}"));
                Status::Mismatch
            }
            _ => Status::Tagged,
        },
    }
}

#[cfg(test)]
mod tests;
