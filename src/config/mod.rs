//! Resolved settings: the parsed command line checked and turned into what the walker, the
//! engine and the printer need. Bad combinations are errors here, before any file is opened.

use std::path::PathBuf;

use anyhow::{Result, bail};

pub mod file;
mod policy;

pub use policy::site_wanted;
use policy::{PolicyFlags, wanted_from, wanted_or_default};

use crate::cli::{C2paMode, Cli, ColorChoice, Command, Common, Format};
use crate::policy::Wanted;

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

    /// The policy a file is held to: the one `tag` writes, or `verify --policy …`.
    pub fn expected(&self) -> Option<&Wanted> {
        match self {
            Job::Tag { wanted, .. } => Some(wanted),
            Job::Verify { expected } => expected.as_ref(),
            _ => None,
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

/// Where the walk starts: paths from the command line, or a list read as the walk goes (so a
/// shard list of a million paths is never held in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    Paths(Vec<PathBuf>),
    /// `--files-from`: a file, or standard input for `-`; NUL-separated with `-0`.
    List {
        from: PathBuf,
        null: bool,
    },
}

impl Roots {
    /// Where the paths come from, for titles: the paths given, or the list file.
    pub fn sources(&self) -> Vec<PathBuf> {
        match self {
            Roots::Paths(p) => p.clone(),
            Roots::List { from, .. } => vec![from.clone()],
        }
    }
}

/// How the walker chooses files.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub roots: Roots,
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
    pub color: ColorChoice,
    /// `report --untagged-only`: list only files without a passing reservation.
    pub untagged_only: bool,
    /// Bare NUL-separated paths instead of lines (with `untagged_only`).
    pub null: bool,
    /// List every field of every carrier (`--all-fields`, and always for `show`).
    pub all_fields: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub job: Job,
    pub walk: WalkOptions,
    pub output: OutputOptions,
    pub threads: usize,
    pub preserve_mtime: bool,
    /// Write XMP packets too (`tag --no-xmp` turns it off).
    pub xmp: bool,
    /// `tag --evidence FILE`.
    pub evidence: Option<PathBuf>,
    /// `verify`/`report` without `--allow-empty`: finding no audio file at all is a finding.
    pub require_audio: bool,
    /// noai.toml's `[s3]` table, for `s3://` paths.
    pub s3: Option<file::S3Table>,
    /// `--shard K/N`: only the paths of this shard.
    pub shard: Option<crate::shard::Shard>,
    /// C2PA manifests: the trust anchors, and what `tag`/`strip` do with a signed file.
    pub c2pa: C2paOptions,
    /// `tag --sign`: the loaded credentials (the run signs every tagged file).
    pub sign: Option<std::sync::Arc<crate::sign::Signer>>,
}

/// The C2PA settings of a run (issue 17).
#[derive(Debug, Clone, Default)]
pub struct C2paOptions {
    pub trust: crate::c2pa::TrustConfig,
    /// `--c2pa`: refuse (default) or knowingly invalidate a manifest that verifies.
    pub on_signed: C2paMode,
    /// `tag --sign`: the write is followed by re-signing, so a manifest that verifies
    /// is no reason to refuse the file. Set by the signing options only.
    pub sign_requested: bool,
}

impl C2paOptions {
    /// True when a write may go ahead on a file whose manifest verifies now.
    pub fn may_break_signature(&self) -> bool {
        self.sign_requested || self.on_signed == C2paMode::Invalidate
    }
}

/// What the command itself (not its shared options) asks of the run.
struct JobParts {
    job: Job,
    preserve_mtime: bool,
    evidence: Option<PathBuf>,
    untagged_only: bool,
    xmp: bool,
    require_audio: bool,
    on_signed: C2paMode,
    sign: Option<crate::sign::Options>,
}

impl JobParts {
    fn of(job: Job) -> JobParts {
        JobParts {
            job,
            preserve_mtime: false,
            evidence: None,
            untagged_only: false,
            xmp: true,
            require_audio: false,
            on_signed: C2paMode::Refuse,
            sign: None,
        }
    }
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let (command, common) = split(cli.command)?;
        let start = common
            .paths
            .first()
            .filter(|p| !crate::remote::is_remote(p))
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        let file = file::load(common.config.as_deref(), &start)?;
        let parts = job_parts(command, &file)?;
        if common.null && !parts.untagged_only && common.files_from.is_none() {
            bail!("-0/--null goes with --files-from or report --untagged-only");
        }
        let show = parts.job == Job::Show;
        let sign = match (&parts.sign, &parts.job) {
            (Some(opts), Job::Tag { wanted, .. }) => Some(std::sync::Arc::new(
                crate::sign::Signer::load(opts, wanted)?,
            )),
            _ => None,
        };
        Ok(Config {
            job: parts.job,
            threads: threads(
                common.threads,
                common.paths.iter().any(|p| crate::remote::is_remote(p)),
            )?,
            walk: walk_options(&common, &file)?,
            output: OutputOptions {
                format: common.format,
                path: common.output.clone(),
                quiet: common.quiet,
                verbose: common.verbose,
                color: common.color,
                untagged_only: parts.untagged_only,
                null: common.null,
                all_fields: common.all_fields || show,
            },
            preserve_mtime: parts.preserve_mtime,
            evidence: parts.evidence,
            xmp: parts.xmp,
            require_audio: parts.require_audio,
            s3: file.s3.clone(),
            shard: common.shard,
            c2pa: C2paOptions {
                trust: trust(&common, &file)?,
                on_signed: parts.on_signed,
                sign_requested: sign.is_some(),
            },
            sign,
        })
    }
}

/// The job of a command, with the settings only some commands have.
fn job_parts(command: Command, file: &file::FileConfig) -> Result<JobParts> {
    let allowed = |flag: bool| flag || file.allow_empty.unwrap_or(false);
    Ok(match command {
        Command::Tag(a) => {
            let flags = PolicyFlags {
                policy: a.policy,
                policy_url: a.policy_url,
                constraints: a.constraints,
            };
            let job = Job::Tag {
                wanted: wanted_or_default(flags, file)?,
                dry_run: a.dry_run,
                force: a.force,
            };
            let sign = sign_options(a.sign, a.cert, a.key, a.tsa, file)?;
            JobParts {
                preserve_mtime: a.preserve_mtime,
                evidence: a.evidence,
                xmp: !a.no_xmp,
                on_signed: a.c2pa,
                sign,
                ..JobParts::of(job)
            }
        }
        Command::Verify(a) => {
            let flags = PolicyFlags {
                policy: a.policy,
                policy_url: a.policy_url,
                constraints: None,
            };
            let expected = wanted_from(flags, file, None)?;
            JobParts {
                require_audio: !allowed(a.empty.allow_empty),
                ..JobParts::of(Job::Verify { expected })
            }
        }
        Command::Report(a) => JobParts {
            untagged_only: a.untagged_only,
            require_audio: !allowed(a.empty.allow_empty),
            ..JobParts::of(Job::Report)
        },
        Command::Show(_) => JobParts::of(Job::Show),
        Command::Strip(a) => JobParts {
            preserve_mtime: a.preserve_mtime,
            on_signed: a.c2pa,
            ..JobParts::of(Job::Strip { dry_run: a.dry_run })
        },
        Command::Site(_) | Command::Completions(_) | Command::Man(_) => {
            unreachable!("handled by `split`")
        }
    })
}

/// `tag --sign`'s credentials: flags first, then noai.toml's `[sign]` (its paths relative to
/// the file's folder); `None` when the run does not sign.
fn sign_options(
    flag: bool,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    tsa: Option<String>,
    file: &file::FileConfig,
) -> Result<Option<crate::sign::Options>> {
    let table = file.sign.clone().unwrap_or_default();
    if !flag && !table.always.unwrap_or(false) {
        if cert.is_some() || key.is_some() || tsa.is_some() {
            bail!("--cert, --key and --tsa go with --sign");
        }
        return Ok(None);
    }
    let base = file
        .source
        .as_deref()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let from_file = |p: Option<PathBuf>| p.map(|p| base.join(p));
    let (Some(cert), Some(key)) = (cert.or(from_file(table.cert)), key.or(from_file(table.key)))
    else {
        bail!(
            "--sign needs --cert CHAIN.pem and --key KEY.pem (or `cert` and `key` in noai.toml's [sign])"
        );
    };
    Ok(Some(crate::sign::Options {
        cert,
        key,
        tsa: tsa.or(table.tsa),
    }))
}

/// The command and its shared options; `site` and `completions` have none and never get here.
fn split(command: Command) -> Result<(Command, Common)> {
    let mut c = command;
    let common = match &mut c {
        Command::Tag(a) => std::mem::take(&mut a.common),
        Command::Verify(a) => std::mem::take(&mut a.common),
        Command::Report(a) => std::mem::take(&mut a.common),
        Command::Show(a) => std::mem::take(a),
        Command::Strip(a) => std::mem::take(&mut a.common),
        Command::Site(_) | Command::Completions(_) | Command::Man(_) => {
            bail!("internal: not a file command")
        }
    };
    Ok((c, common))
}

/// Two threads per core, a compromise the thread sweep in BENCHMARKS.md supports: verify is
/// fastest with one thread per core and tag (which waits on file creation and syncs) with four,
/// and two per core is within 6 % of the best for both on the 2-core machine measured.
/// Object storage waits on the network, not the disk: 64 requests in flight by default.
fn threads(n: Option<usize>, remote: bool) -> Result<usize> {
    match n {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None if remote => Ok(64),
        None => Ok(std::thread::available_parallelism().map_or(2, |n| n.get()) * 2),
    }
}

/// The C2PA trust anchors: `--trust-anchors`, else noai.toml's `trust-anchors` (relative to
/// the file). A file without a PEM certificate is an error, not a silent "nothing trusted".
fn trust(c: &Common, file: &file::FileConfig) -> Result<crate::c2pa::TrustConfig> {
    let path = match (&c.trust_anchors, &file.trust_anchors) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => match file.source.as_ref().and_then(|s| s.parent()) {
            Some(dir) => dir.join(p),
            None => p.clone(),
        },
        (None, None) => return Ok(crate::c2pa::TrustConfig::default()),
    };
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read trust anchors {}: {e}", path.display()))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        bail!(
            "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the trust anchors",
            path.display()
        );
    }
    Ok(crate::c2pa::TrustConfig {
        anchors_pem: Some(pem),
    })
}

fn walk_options(c: &Common, file: &file::FileConfig) -> Result<WalkOptions> {
    let mut b = globset::GlobSetBuilder::new();
    for g in file.exclude.iter().chain(&c.exclude) {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(false)
            .build()
            .map_err(|e| anyhow::anyhow!("bad --exclude pattern {g:?}: {e}"))?;
        b.add(glob);
    }
    let roots = match &c.files_from {
        Some(from) => Roots::List {
            from: from.clone(),
            null: c.null,
        },
        None if c.paths.is_empty() => Roots::Paths(vec![PathBuf::from(".")]),
        None => Roots::Paths(c.paths.clone()),
    };
    Ok(WalkOptions {
        roots,
        excludes: b.build()?,
        hidden: c.hidden || file.hidden.unwrap_or(false),
        follow_symlinks: c.follow_symlinks,
    })
}
