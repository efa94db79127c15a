//! `noai`: write, verify, report on and remove a machine-readable "no AI training" reservation
//! inside audio files (see docs/spec.md). `run` wires the layers: flags → config → walk →
//! workers → one renderer.

pub mod c2pa;
pub mod cli;
mod closer;
pub mod config;
pub mod engine;
pub mod error;
mod fds;
pub mod formats;
pub mod heap;
pub mod interrupt;
pub mod man;
pub mod model;
pub mod outcome;
pub mod policy;
pub mod progress;
pub mod remote;
pub mod report;
pub mod shard;
pub mod sign;
pub mod site;
pub mod units;
pub mod walk;
pub mod write;

pub(crate) use error::bad;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::outcome::{ExitStatus, FileReport, Summary};
use crate::walk::Found;

/// Runs one command line to completion; `Err` only for run-stopping problems (bad arguments,
/// an unwritable output file). Per-file problems are in the report and the exit status.
pub fn run(cli: cli::Cli) -> Result<ExitStatus> {
    // First, while this is the only thread: it also sizes the descriptor table (`fds`).
    let size = fds::chunk_size();
    if let cli::Command::Report(a) = &cli.command
        && a.merge
    {
        return shard::merge::run(&a.common.paths, a.common.output.as_deref());
    }
    if run_standalone(&cli.command)? {
        return Ok(ExitStatus::Success);
    }
    let cfg = Config::from_cli(cli)?;
    remote::refuse_writes(&cfg)?;
    remote::configure(&cfg);
    interrupt::install().context("cannot install the Ctrl-C handler")?;
    let mut sink = Sink::open(&cfg)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()?;
    // Replaced originals still being closed are closed before `run` returns, however it does.
    let closer = closer::Finish;
    let mut walker = walk::walk(&cfg.walk);
    let mut chunk: Vec<Found> = Vec::with_capacity(size);
    loop {
        chunk.clear();
        let more = walker
            .by_ref()
            .take_while(|_| !interrupt::requested())
            .filter(|f| cfg.shard.is_none_or(|s| s.keeps(f.path())));
        chunk.extend(more.take(size));
        remote::check()?; // an s3:// root that cannot be listed stops the run (exit 2)
        if chunk.is_empty() {
            break;
        }
        let (done, peak) = engine::run_chunk(&cfg, &pool, &candidates(&chunk));
        sink.summary.peak_extra_bytes = sink.summary.peak_extra_bytes.max(peak);
        let mut done = done.into_iter();
        for f in chunk.drain(..) {
            match f {
                Found::Candidate(_) => sink.file(done.next().flatten())?,
                Found::Skipped(_, why) => sink.summary.skip(why.name()),
                Found::Error(p, e) => sink.file(Some(FileReport::error(p, None, e)))?,
            }
        }
    }
    drop(closer);
    let interrupted = interrupt::requested();
    if !interrupted {
        sink.leftovers(&walker.leftovers())?;
    }
    sink.finish(interrupted)
}

/// Where the reports go, in path order: the summary, the `--evidence` log, the progress bar
/// and the one renderer.
struct Sink<'a> {
    cfg: &'a Config,
    renderer: Box<dyn report::Renderer>,
    evidence: Option<report::evidence::Log>,
    progress: progress::Progress,
    summary: Summary,
    /// Paths whose report is an error: a journal beside one of them was reported with it.
    errored: std::collections::HashSet<PathBuf>,
}

impl<'a> Sink<'a> {
    fn open(cfg: &'a Config) -> Result<Sink<'a>> {
        // Open the output first: an unwritable `-o` must fail before any file is touched.
        let out: Box<dyn Write> = match &cfg.output.path {
            Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot write {}", p.display()))?,
            )),
            _ => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        let evidence = match &cfg.evidence {
            Some(p) => Some(report::evidence::Log::open(p)?),
            None => None,
        };
        Ok(Sink {
            cfg,
            renderer: report::renderer(cfg, out),
            evidence,
            progress: progress::Progress::start(cfg),
            summary: Summary::default(),
            errored: std::collections::HashSet::new(),
        })
    }

    /// One file's report (`None`: a file the engine left out, e.g. after an interruption).
    fn file(&mut self, report: Option<FileReport>) -> Result<()> {
        let Some(mut r) = report else {
            return Ok(());
        };
        report::compact::notes(&mut r);
        if r.error.is_some() {
            self.errored.insert(r.path.clone());
        }
        self.summary.add(&r);
        self.progress.inc();
        if let Some(log) = &mut self.evidence {
            log.record(self.cfg, &r)?;
        }
        if !self.cfg.output.untagged_only || outcome::lacks_reservation(&r) {
            self.renderer.file(&r)?;
        }
        Ok(())
    }

    /// Journals and temp files no processed file claimed. With --shard, another job may be
    /// writing the other shards' files: only this shard's journals are recovered, and temp
    /// files (whose file is unknown) are left alone.
    fn leftovers(&mut self, found: &[PathBuf]) -> Result<()> {
        let cfg = self.cfg;
        let leftovers: Vec<PathBuf> = (found.iter())
            .filter(|l| {
                cfg.shard
                    .is_none_or(|s| write::journal_target(l).is_some_and(|t| s.keeps(&t)))
            })
            .cloned()
            .collect();
        for r in clean_leftovers(cfg, &leftovers, &self.errored, &mut self.summary) {
            self.summary.add(&r);
            if let Some(log) = &mut self.evidence {
                log.record(cfg, &r)?;
            }
            if !cfg.output.untagged_only {
                self.renderer.file(&r)?;
            }
        }
        Ok(())
    }

    /// Ends the progress bar, the log and the output; the exit status of the run.
    fn finish(mut self, interrupted: bool) -> Result<ExitStatus> {
        self.progress.finish();
        remote::finish(self.cfg);
        report_empty(self.cfg, &mut self.summary);
        if let Some(log) = self.evidence {
            log.close()?;
        }
        self.renderer.finish(&self.summary)?;
        if interrupted {
            eprintln!(
                "noai: interrupted: stopped after {} file(s); every file is as it was or fully written, nothing staged is left",
                self.summary.files
            );
            return Ok(ExitStatus::Interrupted);
        }
        Ok(self.summary.exit_status())
    }
}

/// The commands that walk no files (`site`, `completions`, `man`): runs one and returns true,
/// or returns false for any other.
fn run_standalone(command: &cli::Command) -> Result<bool> {
    match command {
        cli::Command::Site(a) => {
            let wanted = config::site_wanted(a.policy, a.policy_url.clone(), a.config.as_deref())?;
            print!("{}", site::render(&wanted));
        }
        cli::Command::Completions(a) => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "noai", &mut std::io::stdout());
        }
        cli::Command::Man(a) => man::run(a)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The files of a chunk the workers handle (skips and walk errors are reported as they are).
fn candidates(chunk: &[Found]) -> Vec<PathBuf> {
    chunk
        .iter()
        .filter_map(|f| match f {
            Found::Candidate(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// `verify`/`report` that found no audio file say so: a CI job with a wrong path must not pass
/// while nothing was checked: in the summary line, or on stderr for formats without one.
fn report_empty(cfg: &Config, summary: &mut Summary) {
    summary.no_audio_files = cfg.require_audio && summary.files == 0;
    if summary.no_audio_files && !report::summary_line_shown(cfg) {
        eprintln!("noai: {}", report::wording::NO_AUDIO_FILES);
    }
}

/// Journals and temp files of interrupted runs that no processed file claimed (its file was
/// excluded, hidden or is gone): a writing job recovers or removes them. A journal that cannot
/// be recovered is an error report of its own, unless its file's report already said so.
fn clean_leftovers(
    cfg: &Config,
    leftovers: &[PathBuf],
    errored: &std::collections::HashSet<PathBuf>,
    summary: &mut Summary,
) -> Vec<FileReport> {
    let mut reports = Vec::new();
    if !cfg.job.writes() {
        return reports;
    }
    for p in leftovers {
        let name = p.file_name().unwrap_or_default();
        if write::is_temp_name(name) {
            let _ = write::remove_stale_temp(p);
            continue;
        }
        if std::fs::symlink_metadata(p).is_err()
            || write::journal_targets(p)
                .iter()
                .any(|t| errored.contains(t))
        {
            continue;
        }
        match write::recover_idle(p) {
            Ok(Some(_)) => summary.recovered += 1,
            Ok(None) => {}
            Err(e) => reports.push(FileReport::error(p.clone(), None, e)),
        }
    }
    reports
}
