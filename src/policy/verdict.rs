//! The status decision of SPEC §4: all carriers of a file taken together — conflicts between
//! them, the effective (most restrictive) policy, and the comparison with an expected policy.

use super::{DmiValue, Policy, Signals, Wanted, parse_fields};
use crate::model::Carrier;

/// A verify status (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Tagged,
    Untagged,
    Mismatch,
    Conflict,
    Invalid,
    /// A C2PA manifest that no longer verifies: the file changed after signing (SPEC §6).
    SignatureBroken,
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
            Status::SignatureBroken => "signature-broken",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Status::Untagged
                | Status::Mismatch
                | Status::Conflict
                | Status::Invalid
                | Status::SignatureBroken
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
    let Gathered {
        mut notes,
        any,
        invalid,
        mut conflict,
        claims,
        urls,
    } = gather(carriers);
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

/// What the carriers say one by one, before their claims are combined.
#[derive(Default)]
struct Gathered {
    notes: Vec<String>,
    /// Some carrier holds a field of the reservation.
    any: bool,
    invalid: bool,
    conflict: bool,
    claims: Vec<Claim>,
    urls: Vec<String>,
}

fn gather(carriers: &[Carrier]) -> Gathered {
    let mut g = Gathered::default();
    for c in carriers {
        let label = c.kind.label();
        g.notes
            .extend(c.notes.iter().map(|n| format!("{label}: {n}")));
        let s = parse_fields(&c.fields);
        if !s.present {
            continue;
        }
        g.any = true;
        g.notes
            .extend(s.noncanonical.iter().map(|n| format!("{label}: {n}")));
        if !s.invalid.is_empty() {
            g.invalid = true;
            g.notes
                .extend(s.invalid.iter().map(|n| format!("{label}: {n}")));
            continue;
        }
        g.urls.extend(s.policy_url.clone());
        match claim(&s) {
            Err(m) => {
                g.conflict = true;
                g.notes.push(format!("{label}: {m}"));
            }
            Ok(Some(c)) => g.claims.push(c),
            Ok(None) => {}
        }
    }
    g
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
