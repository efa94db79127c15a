//! Group commit of a chunk's writes: stage every file (undo journal or verified temp file),
//! one `sync`, apply every file (positioned write or rename), one `sync`, then drop the
//! journals and read every file back. Two syncs per chunk instead of several per file, with
//! the same guarantee: nothing in a user's file changes before its undo data is durable.
//! When the run is interrupted (Ctrl-C, SIGTERM), no more files are staged, staged files that
//! were not applied yet are undone (journal or temp file removed), and the applied ones are
//! finished: every file ends old or new, and nothing is left beside it.

use rayon::prelude::*;

use super::{Pending, Prepared, catch, verify_written};
use crate::config::Config;
use crate::formats::{self, Source};
use crate::interrupt;
use crate::policy::Status;
use crate::report::{Action, FileReport, Hashes};
use crate::write::{self, Staged, Target};

/// One file on its way through the steps.
enum Slot {
    Done(FileReport),
    Going(Box<Pending>, Staged),
    /// Left alone because the run was interrupted.
    Stopped,
}

fn fail(mut report: FileReport, msg: String) -> FileReport {
    report.status = Status::Error;
    report.error = Some(msg);
    report
}

pub fn commit(cfg: &Config, prepared: Vec<Prepared>) -> Vec<Option<FileReport>> {
    let opts = write::Options {
        preserve_mtime: cfg.preserve_mtime,
    };
    let mut slots: Vec<Slot> = prepared
        .into_par_iter()
        .map(|p| match p {
            Prepared::Done(r) => Slot::Done(r),
            Prepared::Write(_) if interrupt::requested() => Slot::Stopped,
            Prepared::Write(w) => stage(*w, opts, cfg.evidence.is_some()),
            Prepared::Stopped => Slot::Stopped,
        })
        .collect();
    // Interrupted already: nothing will be applied, so no need to wait for a sync.
    if !interrupt::requested() {
        barrier(&mut slots, "before writing");
    }
    test_pause();
    slots = slots.into_par_iter().map(apply).collect();
    barrier(&mut slots, "after writing");
    slots
        .into_par_iter()
        .map(|s| match s {
            Slot::Done(r) => Some(r),
            Slot::Going(p, staged) => Some(finish(*p, staged)),
            Slot::Stopped => None,
        })
        .collect()
}

/// Whole-file and payload hashes of the original, for `--evidence`.
fn hashes_before(p: &Pending) -> crate::formats::Result<Hashes> {
    let src = Source::new(&p.opened.file, p.opened.snapshot.size);
    Ok(Hashes {
        before: formats::hex(&formats::sha256_file(&src)?),
        after: String::new(),
        payload: formats::hex(&formats::payload_sha256(&src, p.opened.container)?),
    })
}

fn hash_after(path: &std::path::Path) -> crate::formats::Result<String> {
    let f = std::fs::File::open(path)?;
    let src = Source::new(&f, f.metadata()?.len());
    Ok(formats::hex(&formats::sha256_file(&src)?))
}

/// Debug builds only: `NOAI_TEST_PAUSE_MS` holds the run between staging and applying, so a
/// test can change a file behind noai's back and check the change is detected and left alone
/// (or interrupt the run there). An interruption ends the pause.
fn test_pause() {
    if cfg!(debug_assertions)
        && let Some(ms) = std::env::var("NOAI_TEST_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    {
        let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
        while std::time::Instant::now() < until && !interrupt::requested() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn stage(mut p: Pending, opts: write::Options, evidence: bool) -> Slot {
    if evidence {
        match hashes_before(&p) {
            Ok(h) => p.report.hashes = Some(h),
            Err(e) => return Slot::Done(fail(p.report, e.0)),
        }
    }
    let target = Target {
        path: &p.opened.real,
        file: &p.opened.file,
        snapshot: p.opened.snapshot,
        container: p.opened.container,
    };
    match write::stage(&target, p.plan.clone(), &p.edit, opts) {
        Ok(staged) => Slot::Going(Box::new(p), staged),
        Err(e) => Slot::Done(fail(p.report, e.0)),
    }
}

/// Makes what the chunk wrote so far durable; if that fails, every file still going is rolled
/// back and reported, since its durability cannot be promised.
fn barrier(slots: &mut [Slot], when: &str) {
    let paths = slots.iter().filter_map(|s| match s {
        Slot::Going(_, staged) => Some((staged.dev(), staged.path())),
        Slot::Done(_) | Slot::Stopped => None,
    });
    let Err(e) = write::sync(paths) else { return };
    for slot in slots.iter_mut() {
        let placeholder = Slot::Done(FileReport::error(Default::default(), None, String::new()));
        *slot = match std::mem::replace(slot, placeholder) {
            Slot::Going(p, staged) => {
                staged.abort();
                Slot::Done(fail(p.report, format!("{e} ({when}); not changed")))
            }
            other => other,
        };
    }
}

fn apply(slot: Slot) -> Slot {
    let Slot::Going(p, mut staged) = slot else {
        return slot;
    };
    // Interrupted: what is not applied yet is undone instead (the journal or temp file goes).
    if interrupt::requested() {
        staged.abort();
        return Slot::Stopped;
    }
    match staged.apply() {
        Ok(()) => Slot::Going(p, staged),
        Err(e) => {
            staged.abort();
            Slot::Done(fail(p.report, e.0))
        }
    }
}

fn finish(p: Pending, staged: Staged) -> FileReport {
    let written = staged.finish();
    let Pending {
        mut report,
        opened,
        expect,
        ..
    } = p;
    drop(opened);
    match catch(|| verify_written(&report.path, expect.as_ref())) {
        Ok(Ok(v)) => {
            if let Some(h) = &mut report.hashes {
                match hash_after(&report.path) {
                    Ok(after) => h.after = after,
                    Err(e) => {
                        return fail(
                            report,
                            format!("written, but cannot be hashed for the evidence log: {e}"),
                        );
                    }
                }
            }
            report.status = v.status;
            report.effective_policy = v.effective;
            report.notes = v.notes;
            report.action = Some(Action::Written {
                strategy: written.strategy,
                bytes: written.bytes,
            });
            report
        }
        Ok(Err(e)) => fail(report, e.0),
        Err(msg) => fail(report, msg),
    }
}
