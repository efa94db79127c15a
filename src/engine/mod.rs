//! The workers: a chunk of candidates at a time on the rayon pool, one `FileReport` per file, in
//! input order. A file's failure, or even a panic while handling it, becomes that file's
//! `error`; the run goes on. Writing jobs plan every file of the chunk first, then `commit`
//! carries the writes out with shared syncs.

mod budget;
mod commit;
mod decide;
mod journals;
mod locked;
mod sign;
mod signature;

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bad;
use crate::config::{Config, Job};
use crate::error::FileError;
use crate::formats::{self, Plan, Result, Source, sniff};
use crate::model::{Container, Edit, Scan};
use crate::outcome::FileReport;
use crate::policy::{self, Status, Wanted};
use crate::write::{self, Snapshot};
use journals::Journals;
use locked::{Locked, lock, stat};
pub(crate) use locked::{OpenMode, open_unseen};

/// An open file, its identity, container and carriers. For writing jobs it holds an exclusive
/// `flock` until it is dropped.
pub(crate) struct Opened {
    /// Where the file really is: a followed symlink (`-L`) resolved, so writes replace the
    /// target, never the link.
    pub real: PathBuf,
    pub file: File,
    /// `file` was opened for writing too.
    pub writable: bool,
    pub snapshot: Snapshot,
    pub container: Container,
    pub scan: Scan,
}

/// A file whose report is ready except for the write: what to do and what to expect after.
pub(crate) struct Pending {
    pub report: FileReport,
    pub opened: Opened,
    pub plan: Plan,
    /// The original's audio payload, found while planning: the write proves it unchanged.
    pub payload: Vec<std::ops::Range<u64>>,
    pub edit: Edit,
    /// The policy the file must verify as afterwards; `None` for `strip` (untagged expected).
    pub expect: Option<Wanted>,
}

/// What planning one file produced: a finished report, or a write to commit.
pub(crate) enum Prepared {
    Done(FileReport),
    Write(Box<Pending>),
    /// Left alone because the run was interrupted (Ctrl-C, SIGTERM): no report.
    Stopped,
}

/// Processes one chunk of candidates; reports come back in input order, `None` for a file the
/// run left alone because it was interrupted, with the peak extra space a write batch held (or,
/// for `--dry-run`, would hold).
pub fn run_chunk(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    paths: &[PathBuf],
) -> (Vec<Option<FileReport>>, u64) {
    pool.install(|| {
        let prepared = prepare_chunk(cfg, paths);
        if cfg.job.writes() {
            let (reports, peak) = commit::commit(cfg, prepared);
            match &cfg.sign {
                Some(signer) => (sign::sign_chunk(cfg, signer, reports), peak),
                None => (reports, peak),
            }
        } else {
            let peak = dry_run_peak(&prepared);
            let reports = prepared
                .into_iter()
                .map(|p| match p {
                    Prepared::Done(r) => Some(r),
                    Prepared::Write(w) => Some(w.report),
                    Prepared::Stopped => None,
                })
                .collect();
            (reports, peak)
        }
    })
}

/// A file of the chunk after its first step: opened (and locked), or already decided.
enum Begun {
    Done(Prepared),
    Locked(Locked),
}

/// Reads and plans each file of the chunk. A writing job first opens and locks every file,
/// then lists their folders for undo journals and settles those that name them, and only then
/// reads a byte. A read-only job needs no such order (nothing it reads is locked against a
/// writer): each folder is listed when a file there first asks, and files are read as they
/// open, so a chunk never holds all its files open at once.
fn prepare_chunk(cfg: &Config, paths: &[PathBuf]) -> Vec<Prepared> {
    if !cfg.job.writes() {
        let journals = Journals::default();
        return paths
            .par_iter()
            .map(|p| {
                guarded(p, || match begin(cfg, p) {
                    Begun::Done(prepared) => prepared,
                    Begun::Locked(l) => {
                        let cleared = journals.check(&l.real);
                        prepare(cfg, p, l, cleared)
                    }
                })
            })
            .collect();
    }
    let begun: Vec<Begun> = paths
        .par_iter()
        .map(|p| match catch(|| begin(cfg, p)) {
            Ok(b) => b,
            Err(e) => Begun::Done(Prepared::Done(FileReport::error(p.clone(), None, e))),
        })
        .collect();
    let reals: Vec<&Path> = (begun.iter())
        .filter_map(|b| match b {
            Begun::Locked(l) => Some(l.real.as_path()),
            Begun::Done(_) => None,
        })
        .collect();
    let mut cleared = journals::settle(&reals).into_iter();
    let begun: Vec<(Begun, Result<()>)> = (begun.into_iter())
        .map(|b| match b {
            Begun::Locked(_) => (b, cleared.next().unwrap_or_else(|| Err(write::unchecked()))),
            Begun::Done(_) => (b, Ok(())),
        })
        .collect();
    begun
        .into_par_iter()
        .zip(paths)
        .map(|((b, cleared), p)| match b {
            Begun::Done(prepared) => prepared,
            Begun::Locked(l) => guarded(p, || prepare(cfg, p, l, cleared)),
        })
        .collect()
}

/// The first step for one file: the file opened (and locked), unless it needs none.
fn begin(cfg: &Config, path: &Path) -> Begun {
    if crate::interrupt::requested() {
        return Begun::Done(Prepared::Stopped);
    }
    if crate::remote::is_remote(path) {
        return Begun::Done(Prepared::Done(crate::remote::inspect(cfg, path)));
    }
    let mode = OpenMode {
        write: cfg.job.writes(),
        follow: cfg.walk.follow_symlinks,
        journal: true,
    };
    match lock(path, mode) {
        Ok(l) => Begun::Locked(l),
        Err(e) => Begun::Done(Prepared::Done(FileReport::error(
            path.to_path_buf(),
            None,
            e,
        ))),
    }
}

/// The peak extra space the writes a dry run planned would hold, batched as a real run would.
fn dry_run_peak(prepared: &[Prepared]) -> u64 {
    let writes: Vec<(u64, &Path, u64)> = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::Write(w) => Some(budget::of(w)),
            _ => None,
        })
        .collect();
    budget::simulate(&writes)
}

/// Runs `f`, turning a panic into an `error` report for `path`.
pub(crate) fn guarded<F: FnOnce() -> Prepared>(path: &Path, f: F) -> Prepared {
    catch(f).unwrap_or_else(|e| Prepared::Done(FileReport::error(path.to_path_buf(), None, e)))
}

/// Runs `f`; a panic becomes an `Internal` error instead of ending the run.
pub(crate) fn catch<T, F: FnOnce() -> T>(f: F) -> std::result::Result<T, FileError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        bad!(Internal, "internal error (please report): {msg}")
    })
}

/// Opens, then reads, one file; with `mode.journal`, an undo journal in its folder that
/// names it is settled (or, read-only, refused) in between.
pub(crate) fn open(path: &Path, mode: OpenMode) -> Result<Opened> {
    let locked = lock(path, mode)?;
    if mode.journal {
        match mode.write {
            true => journals::settle(&[locked.real.as_path()]).remove(0)?,
            false => Journals::default().check(&locked.real)?,
        }
    }
    read(locked)
}

/// Reads an opened file: its identity now (after any recovery), container and carriers.
fn read(l: Locked) -> Result<Opened> {
    let snapshot = Snapshot::of(&stat(&l.file)?);
    let src = Source::new(&l.file, snapshot.size);
    let container = sniff::container(&src)?;
    let scan = formats::scan(&src, container)?;
    Ok(Opened {
        real: l.real,
        file: l.file,
        writable: l.writable,
        snapshot,
        container,
        scan,
    })
}

/// Reads one file and decides what the job does with it; `cleared` says whether the undo
/// journal check let it through.
fn prepare(cfg: &Config, path: &Path, locked: Locked, cleared: Result<()>) -> Prepared {
    let opened = match cleared.and_then(|()| read(locked)) {
        Ok(o) => o,
        Err(e) => return Prepared::Done(FileReport::error(path.to_path_buf(), None, e)),
    };
    let expected = cfg.job.expected();
    // The tags alone decide what `tag` writes; the report joins the signed manifest (SPEC §6).
    let tags = policy::evaluate(&opened.scan.carriers, expected);
    let signed = crate::c2pa::inspect(&opened.file, &opened.scan, &cfg.c2pa.trust);
    let verdict = match &signed {
        Some(s) => policy::join_signed(tags.clone(), s, expected),
        None => tags.clone(),
    };
    let report = FileReport {
        path: path.to_path_buf(),
        container: Some(opened.container),
        status: verdict.status,
        effective_policy: verdict.effective,
        action: None,
        carriers: opened.scan.carriers.clone(),
        notes: verdict.notes.clone(),
        error: None,
        error_code: None,
        hashes: None,
        c2pa: signed.map(Box::new),
    };
    let prepared = match &cfg.job {
        Job::Tag {
            wanted,
            dry_run,
            force,
        } => {
            let job = decide::WriteJob {
                dry: *dry_run,
                force: *force,
                xmp: cfg.xmp,
            };
            decide::tag(report, opened, &tags, wanted, job)
        }
        Job::Strip { dry_run } => {
            let job = decide::WriteJob {
                dry: *dry_run,
                force: false,
                xmp: true,
            };
            decide::strip(report, opened, job)
        }
        _ => Prepared::Done(report),
    };
    signature::guard(&cfg.c2pa, prepared)
}

/// Re-reads a written file from disk, as `verify` would, and checks it says what was intended.
pub(crate) fn verify_written(path: &Path, expect: Option<&Wanted>) -> Result<policy::Verdict> {
    let mode = OpenMode {
        write: false,
        follow: true,
        journal: false,
    };
    let after = open(path, mode)
        .map_err(|e| e.map_message(|m| format!("written, but cannot be read back: {m}")))?;
    judge_written(&after.scan, expect)
}

/// The verdict on a written file as our reader read it: it must now verify as `expect`ed
/// (tagged with that policy, or untagged after `strip`).
pub(crate) fn judge_written(after: &Scan, expect: Option<&Wanted>) -> Result<policy::Verdict> {
    let verdict = policy::evaluate(&after.carriers, expect);
    match expect {
        Some(_) if verdict.status != Status::Tagged => Err(bad!(
            Internal,
            "written, but verify now says {}: {}",
            verdict.status.name(),
            verdict.notes.join("; ")
        )),
        None if verdict.status != Status::Untagged => Err(bad!(
            Internal,
            "stripped, but fields of the reservation remain"
        )),
        _ => Ok(verdict),
    }
}
