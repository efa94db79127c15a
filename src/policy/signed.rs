//! The signed carrier of SPEC §6: a C2PA manifest's training-mining entries as one more
//! signal. A Valid or Trusted manifest counts like a carrier (agreeing with the tags, or in
//! conflict with them); an Invalid one is its own status, `signature-broken`, whatever the
//! tags say.

use super::{Policy, Status, Verdict, Wanted};
use crate::model::{SignState, Signed, SignedEntry, Use};

/// The CAWG topics, by the key's name after its `cawg.` (or legacy `c2pa.`) prefix.
const TOPICS: [&str; 4] = [
    "data_mining",
    "ai_inference",
    "ai_training",
    "ai_generative_training",
];

/// What each policy signs, per topic in `TOPICS` order (SPEC §6); `None` = no statement.
fn row(p: Policy) -> [Option<Use>; 4] {
    use Use::{Allowed, Constrained, NotAllowed};
    match p {
        Policy::NoTdm => [Some(NotAllowed); 4],
        Policy::NoTdmExceptSearch => [
            Some(Constrained),
            Some(NotAllowed),
            Some(NotAllowed),
            Some(NotAllowed),
        ],
        Policy::NoAiTraining => [None, None, Some(NotAllowed), Some(NotAllowed)],
        Policy::NoGenaiTraining => [None, None, None, Some(NotAllowed)],
        Policy::License => [Some(Constrained); 4],
        Policy::Allow => [Some(Allowed); 4],
    }
}

/// The `cawg.*` entries a policy signs (SPEC §6), for a signer: key and `use`. The
/// `constraint_info` of `constrained` entries is the writer's to choose (the policy URL).
pub fn signed_entries(p: Policy) -> Vec<(String, Use)> {
    TOPICS
        .iter()
        .zip(row(p))
        .filter_map(|(t, u)| u.map(|u| (format!("cawg.{t}"), u)))
        .collect()
}

/// The policy of the most restrictive row of SPEC §6 that the entries match or exceed (an
/// entry's effective `use` at least as strict as the row's), or `None` when none matches.
pub fn policy_of_entries(entries: &[SignedEntry]) -> Option<Policy> {
    let topic = |t: &str| {
        entries
            .iter()
            .filter(|e| {
                let name = e.key.strip_prefix("cawg.").or(e.key.strip_prefix("c2pa."));
                name == Some(t)
            })
            .map(|e| e.effective)
            .max()
    };
    let have: Vec<Option<Use>> = TOPICS.iter().map(|t| topic(t)).collect();
    Policy::ALL.into_iter().find(|&p| {
        row(p)
            .iter()
            .zip(&have)
            .all(|(want, got)| want.is_none_or(|w| got.is_some_and(|g| g >= w)))
    })
}

/// The verdict of the tags joined with the file's manifest (SPEC §6).
pub fn join_signed(mut v: Verdict, s: &Signed, expected: Option<&Wanted>) -> Verdict {
    let label = format!("C2PA manifest ({})", s.place);
    if s.state == SignState::Invalid {
        let why = match (&s.error, changed(s)) {
            (Some(e), _) => e.clone(),
            (None, true) => "the file changed after signing".into(),
            (None, false) => "the signature does not verify".into(),
        };
        let codes = match s.failures.is_empty() {
            true => String::new(),
            false => format!(" ({})", s.failures.join(", ")),
        };
        v.notes
            .push(format!("{label}: signature broken: {why}{codes}"));
        v.status = Status::SignatureBroken;
        return v;
    }
    let state = match s.state {
        SignState::Trusted => "trusted",
        _ => "valid, signer not in the trust anchors",
    };
    if s.legacy {
        v.notes.push(format!(
            "{label}: the legacy C2PA 1.x assertion c2pa.training-mining (removed in C2PA 2.0)"
        ));
    }
    if !s.bad_entries.is_empty() {
        v.notes
            .extend(s.bad_entries.iter().map(|b| format!("{label}: {b}")));
        v.status = Status::Invalid;
        return v;
    }
    let Some(p) = policy_of_entries(&s.entries) else {
        v.notes.push(format!(
            "{label} ({state}): no training-mining statement that matches a policy"
        ));
        return v;
    };
    match (v.status, v.effective) {
        (Status::Untagged, _) => {
            v.notes.push(format!(
                "{label} ({state}): signs {p}; the plain tags are absent"
            ));
            v.effective = Some(p);
            v.status = match expected {
                None if p.reserved() => Status::Tagged,
                Some(w) if w.policy == p => Status::Tagged,
                _ => {
                    v.notes
                        .push(format!("signed policy is {p}, not the one expected"));
                    Status::Mismatch
                }
            };
        }
        (Status::Conflict | Status::Invalid, _) | (_, None) => {
            v.notes.push(format!("{label} ({state}): signs {p}"));
        }
        (_, Some(q)) if q != p => {
            v.notes.push(format!(
                "carriers disagree: the tags say {q}, the signed C2PA manifest says {p}"
            ));
            v.status = Status::Conflict;
        }
        (_, Some(_)) => v.notes.push(format!("{label} ({state}) agrees: {p}")),
    }
    v
}

/// True when the failures say the signed bytes changed (a hash mismatch).
fn changed(s: &Signed) -> bool {
    s.failures.iter().any(|c| c.contains("Hash.mismatch"))
}

#[cfg(test)]
#[path = "signed_tests.rs"]
mod tests;
