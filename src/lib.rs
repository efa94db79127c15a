//! `noai`: write, verify, report on and remove a machine-readable "no AI training" reservation
//! inside audio files (see docs/spec.md). `run` wires the layers: flags → config → walk →
//! workers → one renderer.

pub mod cli;
pub mod config;
pub mod engine;
pub mod formats;
pub mod policy;
pub mod report;
pub mod walk;
pub mod write;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::report::{ExitStatus, FileReport, Summary};
use crate::walk::Found;

/// Runs one command line to completion; `Err` only for run-stopping problems (bad arguments,
/// an unwritable output file). Per-file problems are in the report and the exit status.
pub fn run(cli: cli::Cli) -> Result<ExitStatus> {
    let cfg = Config::from_cli(cli)?;
    // Open the output first: an unwritable `-o` must fail before any file is touched.
    let mut out: Box<dyn Write> = match &cfg.output.path {
        Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let walked = walk::walk(&cfg.walk);
    let mut summary = Summary::default();
    let pending = handle_leftovers(&cfg, &walked.leftovers, &mut summary);
    let candidates: Vec<PathBuf> = walked
        .found
        .iter()
        .filter_map(|f| match f {
            Found::Candidate(p) if !pending.contains_key(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let mut done = engine::run(&cfg, &candidates).into_iter();
    let mut files = Vec::with_capacity(walked.found.len());
    for f in walked.found {
        match f {
            Found::Candidate(p) => match pending.get(&p) {
                Some(msg) => files.push(FileReport::error(p, None, msg.clone())),
                None => files.extend(done.next()),
            },
            Found::Skipped(_, why) => summary.skip(why),
            Found::Error(p, msg) => files.push(FileReport::error(p, None, msg)),
        }
    }
    for r in &files {
        summary.add(r);
    }
    report::renderer(cfg.output.format).render(&mut out, &cfg, &files, &summary)?;
    out.flush()?;
    Ok(summary.exit_status())
}

/// Journals and temp files of interrupted runs: a writing job recovers them first; a
/// read-only job reports the affected files as errors (their bytes may be torn until then).
fn handle_leftovers(
    cfg: &Config,
    leftovers: &[PathBuf],
    summary: &mut Summary,
) -> HashMap<PathBuf, String> {
    let mut pending = HashMap::new();
    for p in leftovers {
        let name = p.file_name().unwrap_or_default();
        if write::is_temp_name(name) {
            if cfg.job.writes() {
                let _ = write::remove_stale_temp(p);
            }
            continue;
        }
        let Some(target) = write::journal_target(p) else {
            continue;
        };
        if !cfg.job.writes() {
            pending.insert(
                target,
                "an interrupted write left an undo journal; run `noai tag` (or `strip`) to recover"
                    .into(),
            );
            continue;
        }
        match write::recover(p) {
            Ok(_) => summary.recovered += 1,
            Err(e) => {
                pending.insert(
                    target,
                    format!("recovery of an interrupted write failed: {e}"),
                );
            }
        }
    }
    pending
}
