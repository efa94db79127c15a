//! The workers: rayon over the candidates, one `FileReport` per file, in input order. A file's
//! failure, or even a panic while handling it, becomes that file's `error`; the run goes on.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bad;
use crate::config::{Config, Job};
use crate::formats::{self, Container, Edit, FormatError, Plan, Result, Scan, Source, sniff};
use crate::policy::{self, SPEC_KEYS, Status, Verdict, Wanted};
use crate::report::{Action, FileReport};
use crate::write::{self, Snapshot, Strategy, Target};

/// Processes every candidate on `cfg.threads` threads; results come back in input order.
pub fn run(cfg: &Config, candidates: &[PathBuf]) -> Vec<FileReport> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build();
    let work = || {
        candidates
            .par_iter()
            .map(|p| process_guarded(cfg, p))
            .collect()
    };
    match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

fn process_guarded(cfg: &Config, path: &Path) -> FileReport {
    match catch_unwind(AssertUnwindSafe(|| process(cfg, path))) {
        Ok(report) => report,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            FileReport::error(
                path.to_path_buf(),
                None,
                format!("internal error (please report): {msg}"),
            )
        }
    }
}

/// An open file, its identity, container and carriers.
struct Opened {
    file: File,
    snapshot: Snapshot,
    container: Container,
    scan: Scan,
}

fn open(path: &Path, lock: bool) -> Result<Opened> {
    // O_NONBLOCK: a FIFO named `.mp3` must not hang the run; O_NOFOLLOW: links are the walker's
    // decision, not an accident of timing.
    let follow = if path.is_symlink() {
        0
    } else {
        libc::O_NOFOLLOW
    };
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | follow)
        .open(path)
        .map_err(|e| bad!("cannot open: {e}"))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(bad!("not a regular file"));
    }
    if lock {
        // One writer per file across processes: a second `noai tag` skips a busy file.
        // SAFETY: flock on a valid fd.
        if unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        } != 0
        {
            return Err(bad!("busy: another process is writing this file"));
        }
    }
    let snapshot = Snapshot::of(&meta);
    let src = Source::new(&file, snapshot.size);
    let container = sniff::container(&src)?;
    let scan = formats::scan(&src, container)?;
    Ok(Opened {
        file,
        snapshot,
        container,
        scan,
    })
}

fn process(cfg: &Config, path: &Path) -> FileReport {
    let opened = match open(path, cfg.job.writes()) {
        Ok(o) => o,
        Err(FormatError(msg)) => {
            return FileReport::error(path.to_path_buf(), None, msg);
        }
    };
    let expected = match &cfg.job {
        Job::Verify { expected } => expected.as_ref(),
        Job::Tag { wanted, .. } => Some(wanted),
        _ => None,
    };
    let verdict = policy::evaluate(&opened.scan.carriers, expected);
    let mut report = FileReport {
        path: path.to_path_buf(),
        container: Some(opened.container),
        status: verdict.status,
        effective_policy: verdict.effective,
        action: None,
        carriers: opened.scan.carriers.clone(),
        notes: verdict.notes.clone(),
        error: None,
    };
    let outcome = match &cfg.job {
        Job::Tag {
            wanted,
            dry_run,
            force,
        } => tag(cfg, path, &opened, &verdict, wanted, *dry_run, *force),
        Job::Strip { dry_run } => strip(cfg, path, &opened, *dry_run),
        _ => return report,
    };
    match outcome {
        Ok((action, after)) => {
            report.action = Some(action);
            if let Some(v) = after {
                report.status = v.status;
                report.effective_policy = v.effective;
                report.notes = v.notes;
            }
        }
        Err(FormatError(msg)) => {
            report.status = Status::Error;
            report.error = Some(msg);
        }
    }
    report
}

type Outcome = Result<(Action, Option<Verdict>)>;

fn tag(
    cfg: &Config,
    path: &Path,
    o: &Opened,
    v: &Verdict,
    wanted: &Wanted,
    dry: bool,
    force: bool,
) -> Outcome {
    let fields = wanted.fields();
    let compatible = match v.status {
        Status::Untagged => true,
        Status::Tagged => true,
        // A lone TDM-RESERVATION=1 contradicts no prohibiting policy: complete it.
        Status::Mismatch => {
            v.incomplete && v.effective.is_some_and(|p| p.reserved()) && wanted.policy.reserved()
        }
        _ => false,
    };
    if v.status == Status::Tagged && is_exact(&o.scan, &fields) {
        return Ok((Action::Unchanged, None));
    }
    if !compatible && !force {
        return Ok((Action::Refused, Some(refused(v))));
    }
    let edit = Edit {
        remove: fields.iter().map(|(k, _)| k.clone()).collect(),
        set: fields,
    };
    write_edit(cfg, path, o, &edit, dry, Some(wanted))
}

/// The refusal verdict: the file's own status, with the way out.
fn refused(v: &Verdict) -> Verdict {
    let mut v = v.clone();
    v.notes.push(
        "left alone: it carries a different or invalid reservation; use --force to replace it"
            .into(),
    );
    v
}

/// True when the carrier we write already holds exactly the wanted fields, canonically spelled.
fn is_exact(scan: &Scan, fields: &[(String, String)]) -> bool {
    let Some(primary) = scan.carriers.last() else {
        return false;
    };
    fields.iter().all(|(k, val)| {
        let mut same_key = primary.fields.iter().filter(|f| f.key.eq_ignore_ascii_case(k));
        matches!((same_key.next(), same_key.next()), (Some(f), None) if &f.key == k && &f.value == val)
    })
}

fn strip(cfg: &Config, path: &Path, o: &Opened, dry: bool) -> Outcome {
    let edit = Edit {
        remove: SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        set: Vec::new(),
    };
    write_edit(cfg, path, o, &edit, dry, None)
}

fn write_edit(
    cfg: &Config,
    path: &Path,
    o: &Opened,
    edit: &Edit,
    dry: bool,
    expect: Option<&Wanted>,
) -> Outcome {
    let src = Source::new(&o.file, o.snapshot.size);
    let Some(plan) = formats::plan(&src, o.container, edit)? else {
        return Ok((Action::Unchanged, None));
    };
    let strategy = match plan {
        Plan::InPlace { .. } => Strategy::InPlace,
        Plan::Rewrite { .. } => Strategy::Rewrite,
    };
    if dry {
        return Ok((Action::WouldWrite { strategy }, None));
    }
    let target = Target {
        path,
        file: &o.file,
        snapshot: o.snapshot,
        container: o.container,
    };
    let opts = write::Options {
        preserve_mtime: cfg.preserve_mtime,
    };
    let written = write::apply(&target, plan, edit, opts)?;
    // Read the file back from disk, as `verify` would, and report what it says now.
    let after = open(path, false).map_err(|e| bad!("written, but cannot be read back: {e}"))?;
    let verdict = policy::evaluate(&after.scan.carriers, expect);
    if expect.is_some() && verdict.status != Status::Tagged {
        return Err(bad!(
            "written, but verify now says {}: {}",
            verdict.status.name(),
            verdict.notes.join("; ")
        ));
    }
    if expect.is_none() && verdict.status != Status::Untagged {
        return Err(bad!("stripped, but fields of the reservation remain"));
    }
    Ok((
        Action::Written {
            strategy: written.strategy,
            bytes: written.bytes,
        },
        Some(verdict),
    ))
}
