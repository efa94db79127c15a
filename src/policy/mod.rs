//! The SPEC model: policies, the fields they write, how raw fields found in a file are parsed
//! into signals, and the status decision of `verify`. Pure: no I/O, so every rule is unit-tested.

use std::fmt;

mod fields;
mod signed;
mod verdict;

pub use fields::{Signals, is_marker, parse_fields};
pub use signed::{join_signed, policy_of_entries, signed_entries};
pub use verdict::{Status, Verdict, evaluate};

pub use crate::model::{
    KEY_CONSTRAINTS, KEY_DATAMINING, KEY_POLICY, KEY_RESERVATION, PLUS_PREFIX, SPEC_KEYS,
    is_spec_key,
};

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

#[cfg(test)]
mod tests;
