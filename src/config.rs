//! Resolved settings: the parsed command line checked and turned into what the walker, the
//! engine and the printer need. Bad combinations are errors here, before any file is opened.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cli::{Cli, Command, Common, Format};
use crate::policy::{Policy, Wanted, is_policy_url};

/// What to do with each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Tag {
        wanted: Wanted,
        dry_run: bool,
        force: bool,
    },
    Verify {
        expected: Option<Wanted>,
    },
    Report,
    Show,
    Strip {
        dry_run: bool,
    },
}

impl Job {
    pub fn name(&self) -> &'static str {
        match self {
            Job::Tag { .. } => "tag",
            Job::Verify { .. } => "verify",
            Job::Report => "report",
            Job::Show => "show",
            Job::Strip { .. } => "strip",
        }
    }

    /// True for the jobs that may modify files (and so also recover interrupted writes).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Job::Tag { dry_run: false, .. } | Job::Strip { dry_run: false }
        )
    }
}

/// How the walker chooses files.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub roots: Vec<PathBuf>,
    pub excludes: globset::GlobSet,
    pub hidden: bool,
    pub follow_symlinks: bool,
}

/// How results are printed.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub format: Format,
    pub path: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub job: Job,
    pub walk: WalkOptions,
    pub output: OutputOptions,
    pub threads: usize,
    pub preserve_mtime: bool,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let (job, common, preserve_mtime) = match cli.command {
            Command::Tag(a) => {
                let wanted = wanted(a.policy, a.policy_url, a.constraints)?;
                (
                    Job::Tag {
                        wanted,
                        dry_run: a.dry_run,
                        force: a.force,
                    },
                    a.common,
                    a.preserve_mtime,
                )
            }
            Command::Verify(a) => {
                let expected = match (a.policy, a.policy_url) {
                    (Some(p), url) => Some(wanted(p, url, None)?),
                    (None, Some(_)) => bail!("--policy-url needs --policy license"),
                    (None, None) => None,
                };
                (Job::Verify { expected }, a.common, false)
            }
            Command::Report(c) => (Job::Report, c, false),
            Command::Show(c) => (Job::Show, c, false),
            Command::Strip(a) => (
                Job::Strip { dry_run: a.dry_run },
                a.common,
                a.preserve_mtime,
            ),
        };
        Ok(Config {
            job,
            threads: threads(common.threads)?,
            walk: walk_options(&common)?,
            output: OutputOptions {
                format: common.format,
                path: common.output,
                quiet: common.quiet,
                verbose: common.verbose,
            },
            preserve_mtime,
        })
    }
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

/// Two threads per core: the work is mostly waiting on reads, and measured faster that way on
/// a 2-core machine (see BENCHMARKS.md).
fn threads(n: Option<usize>) -> Result<usize> {
    match n {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(2, |n| n.get()) * 2),
    }
}

fn walk_options(c: &Common) -> Result<WalkOptions> {
    let mut b = globset::GlobSetBuilder::new();
    for g in &c.exclude {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(false)
            .build()
            .map_err(|e| anyhow::anyhow!("bad --exclude pattern {g:?}: {e}"))?;
        b.add(glob);
    }
    let roots = if c.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        c.paths.clone()
    };
    Ok(WalkOptions {
        roots,
        excludes: b.build()?,
        hidden: c.hidden,
        follow_symlinks: c.follow_symlinks,
    })
}
