//! Command-line definitions (clap derive) and nothing else: `config` turns them into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::policy::Policy;

/// Write and verify a machine-readable "no AI training" reservation inside audio files.
#[derive(Debug, Parser)]
#[command(name = "noai", version = env!("NOAI_VERSION"), about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  noai tag ~/Music/release                 reserve AI training rights in every file
  noai verify dist/ --policy no-ai-training   CI gate: exit 1 if any file is not tagged so
  noai report /srv/catalogue               what is untagged, per folder
  noai show song.flac                      every carrier and field found in one file
  noai strip album/                        remove exactly the reservation fields";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the reservation into every audio file (idempotent; in place when it fits).
    Tag(TagArgs),
    /// Check every audio file carries a valid reservation (exit 1 on findings, 2 on errors).
    Verify(VerifyArgs),
    /// Summarise a catalogue: counts by status and container, untagged files per folder.
    Report(ReportArgs),
    /// Print every carrier, its raw fields and the effective policy of the given files.
    Show(Common),
    /// Remove exactly the reservation fields, nothing else.
    Strip(StripArgs),
    /// Print what to publish beside the files: tdmrep.json rule, HTTP headers, HTML meta tags.
    Site(SiteArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write every page into a folder with --out.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// List only the files that lack a passing reservation (not errors); with `-0`, as bare
    /// NUL-separated paths for `xargs -0`.
    #[arg(long)]
    pub untagged_only: bool,
    /// Join the JSON reports of `--shard` runs (the PATHs) into one JSON report, files in path
    /// order and counts summed; exit as one run over all of them would.
    #[arg(long, conflicts_with = "untagged_only")]
    pub merge: bool,
    #[command(flatten)]
    pub empty: AllowEmpty,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The reservation to state (default: from noai.toml, else no-ai-training).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,
    /// TDM policy URL (with `--policy license`).
    #[arg(long, value_name = "URL")]
    pub policy_url: Option<String>,
    /// Read settings from this file instead of the nearest noai.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `noai.1` and one `noai-<command>.1` per command into DIR instead of printing
    /// `noai.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The reservation to write (default: from noai.toml, else no-ai-training).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,
    /// TDM policy URL (absolute http/https); required by and only allowed with `--policy license`.
    #[arg(long, value_name = "URL")]
    pub policy_url: Option<String>,
    /// Free text for OTHERCONSTRAINTS, e.g. how to license.
    #[arg(long, value_name = "TEXT")]
    pub constraints: Option<String>,
    /// Change nothing; report what would be written (exit 1 if anything would change).
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Replace a different explicit policy (without it such a file is a `conflict`, left alone).
    #[arg(long)]
    pub force: bool,
    /// Keep each file's modification time.
    #[arg(long)]
    pub preserve_mtime: bool,
    /// Write only the plain tags, no XMP packet (by default XMP goes into MP3, WAV, AIFF and
    /// MP4 files too, where ExifTool and IPTC tools read it).
    #[arg(long)]
    pub no_xmp: bool,
    /// A file whose C2PA manifest verifies: `refuse` to tag it (the manifest would become
    /// invalid; re-sign with `--sign` instead), or `invalidate` it knowingly.
    #[arg(long, value_enum, default_value_t = C2paMode::Refuse, value_name = "WHAT")]
    pub c2pa: C2paMode,
    /// Append one JSON line per written file to FILE: UTC time, path, policy, fields, SHA-256 of
    /// the file before and after and of its audio payload (dated proof of the reservation).
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
    /// After tagging, add a signed C2PA manifest with the policy's `cawg.training-mining`
    /// entries to each MP3, FLAC, WAV and MP4 file (needs --cert and --key, or `[sign]` in
    /// noai.toml).
    #[arg(long)]
    pub sign: bool,
    /// The signing certificate chain (PEM, leaf first) for --sign.
    #[arg(long, value_name = "CHAIN.pem")]
    pub cert: Option<PathBuf>,
    /// The private key (PKCS#8 or SEC1 PEM, mode 600) for --sign.
    #[arg(long, value_name = "KEY.pem")]
    pub key: Option<PathBuf>,
    /// An RFC 3161 time-stamp authority for --sign (not available in this build: the C2PA
    /// SDK is built without network access; refused with a message).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Expect this policy (default: any policy that reserves rights).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,
    /// Expect this TDM policy URL too.
    #[arg(long, value_name = "URL")]
    pub policy_url: Option<String>,
    #[command(flatten)]
    pub empty: AllowEmpty,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct StripArgs {
    /// Change nothing; report what would be removed (exit 1 if anything would change).
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Keep each file's modification time.
    #[arg(long)]
    pub preserve_mtime: bool,
    /// A file whose C2PA manifest verifies: `refuse` to strip it, or `invalidate` the manifest
    /// knowingly.
    #[arg(long, value_enum, default_value_t = C2paMode::Refuse, value_name = "WHAT")]
    pub c2pa: C2paMode,
    #[command(flatten)]
    pub common: Common,
}

/// What `tag` and `strip` do with a file whose C2PA manifest verifies (changing any tag
/// breaks its hash).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum C2paMode {
    /// Leave the file alone (error `refused`, exit 2).
    #[default]
    Refuse,
    /// Write anyway; the manifest then reads as `signature-broken`.
    Invalidate,
}

/// `verify` and `report` exit 1 when they find no audio file at all, unless told that is fine.
#[derive(Debug, Default, Clone, Copy, Args)]
pub struct AllowEmpty {
    /// Exit 0 when no audio file is found (default: exit 1, since nothing was checked; also
    /// `allow-empty = true` in noai.toml).
    #[arg(long)]
    pub allow_empty: bool,
}

/// Options every command takes.
#[derive(Debug, Default, Args)]
pub struct Common {
    /// Files or folders (default: the current folder).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read the paths from FILE (`-` = standard input), one per line, or NUL-separated with
    /// `-0`; lets a job runner shard a catalogue by path lists.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub files_from: Option<PathBuf>,
    /// Paths are NUL-separated: in `--files-from` input, and in `report --untagged-only` output.
    #[arg(long = "null", short = '0')]
    pub null: bool,
    /// Read settings from this file instead of the nearest noai.toml at or above the first path.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: chosen for the machine; 64 for `s3://` paths, one request
    /// each in flight).
    #[arg(long, short = 'j', visible_alias = "jobs", value_name = "N")]
    pub threads: Option<usize>,
    /// Process only shard K of N (e.g. `2/8`): a stable hash of each path (or `s3://` key)
    /// splits a catalogue between N machines or jobs; `report --merge` joins their reports.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Skip paths matching this glob (repeatable; matched against the path below the root and
    /// the file name), e.g. `--exclude '*/demos/*'`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// PEM file of trust anchors (root certificates): a C2PA manifest whose signer chains to
    /// one is `trusted`, otherwise at best `valid` (also `trust-anchors` in noai.toml).
    #[arg(long, value_name = "FILE.pem")]
    pub trust_anchors: Option<PathBuf>,
    /// Include hidden files and folders (names starting with `.`).
    #[arg(long)]
    pub hidden: bool,
    /// Follow symbolic links (each file is still processed once).
    #[arg(long, short = 'L')]
    pub follow_symlinks: bool,
    /// List every field of every carrier, not only the reservation's (`show` always does);
    /// pictures and long values are summarised either way.
    #[arg(long)]
    pub all_fields: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print only the summary line and errors.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// List every file, not only those that need attention.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Colour in human output: `auto` (only on a terminal, and not with NO_COLOR), `always`,
    /// `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    /// Aligned text for people; colour only on a terminal.
    Human,
    /// One JSON document (schema in docs/json.md).
    Json,
    /// One JSON object per line, streamed as files are done, then a summary line.
    Jsonl,
    /// JUnit XML for CI test reports: one testsuite per PATH, one testcase per file.
    Junit,
    /// GitHub Actions workflow commands: one `::error` per finding or error, then a `::notice`.
    Github,
    /// CSV (RFC 4180) with a header row, one row per file.
    Csv,
    /// One self-contained HTML page: summary, folders by untagged files, sortable file table.
    Html,
}
