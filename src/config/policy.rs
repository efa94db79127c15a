//! The policy a run writes or expects, resolved from the flags, then the config file, then the
//! default: a policy's URL and text stay with the policy that brought them.

use anyhow::{Result, bail};

use super::file;
use crate::policy::{Policy, Wanted, is_policy_url};

/// The flags of `tag` that a config file can also give.
pub(super) struct PolicyFlags {
    pub policy: Option<Policy>,
    pub policy_url: Option<String>,
    pub constraints: Option<String>,
}

/// The policy to write or expect: flags first, then the config file, then `default`; `None`
/// when none of them names one.
pub(super) fn wanted_from(
    flags: PolicyFlags,
    file: &file::FileConfig,
    default: Option<Policy>,
) -> Result<Option<Wanted>> {
    let from_file = flags.policy.is_none() && file.policy.is_some();
    let Some(policy) = flags.policy.or(file.policy()?).or(default) else {
        if flags.policy_url.is_some() {
            bail!("--policy-url needs --policy license");
        }
        return Ok(None);
    };
    // The file's URL and text belong to the file's policy: a flag naming another policy
    // leaves them behind.
    let same_policy = file.policy()? == Some(policy) || file.policy.is_none();
    let from = |v: &Option<String>| if same_policy { v.clone() } else { None };
    let url = flags.policy_url.or_else(|| from(&file.policy_url));
    let constraints = flags.constraints.or_else(|| from(&file.constraints));
    wanted(policy, url, constraints).map(Some).map_err(|e| {
        if from_file {
            anyhow::anyhow!("{}: {e}", file.source_name())
        } else {
            e
        }
    })
}

/// `wanted_from` with the default policy, which always yields a set.
pub(super) fn wanted_or_default(flags: PolicyFlags, file: &file::FileConfig) -> Result<Wanted> {
    wanted_from(flags, file, Some(Policy::NoAiTraining))?
        .ok_or_else(|| anyhow::anyhow!("no policy"))
}

/// The `site` command's policy: flags, then the config file, then the default.
pub fn site_wanted(
    policy: Option<Policy>,
    policy_url: Option<String>,
    config: Option<&std::path::Path>,
) -> Result<Wanted> {
    let file = file::load(config, std::path::Path::new("."))?;
    let flags = PolicyFlags {
        policy,
        policy_url,
        constraints: None,
    };
    wanted_or_default(flags, &file)
}

fn wanted(
    policy: Policy,
    policy_url: Option<String>,
    constraints: Option<String>,
) -> Result<Wanted> {
    let policy_url = policy_url.map(|u| u.trim().to_string());
    match (&policy, &policy_url) {
        (Policy::License, None) => {
            bail!("--policy license needs --policy-url URL (the terms to license under)")
        }
        (Policy::License, Some(u)) if !is_policy_url(u) => {
            bail!("--policy-url {u:?} is not an absolute http(s) URL")
        }
        (p, Some(_)) if *p != Policy::License => {
            bail!("--policy-url only goes with --policy license")
        }
        _ => {}
    }
    let constraints = constraints.map(|c| c.trim().to_string());
    if constraints.as_deref() == Some("") {
        bail!("--constraints is empty");
    }
    Ok(Wanted {
        policy,
        policy_url,
        constraints,
    })
}
