//! Group commit of a chunk's writes, in batches bounded by bytes (`budget`): stage the batch's
//! files (undo journal or verified temp file), one `sync`, apply every file (positioned write
//! or rename), one `sync`, then drop the journals and read every file back. Two syncs per batch
//! instead of several per file, with the same guarantee: nothing in a user's file changes before
//! its undo data is durable. A file whose staging ran out of space goes into a later batch of
//! its own. When the run is interrupted (Ctrl-C, SIGTERM), no more files are staged, staged
//! files that were not applied yet are undone (journal or temp file removed), and the applied
//! ones are finished: every file ends old or new, and nothing is left beside it.

use rayon::prelude::*;

use super::budget::{self, Budget};
use super::{Pending, Prepared, catch, judge_written, verify_written};
use crate::config::Config;
use crate::error::FileError;
use crate::formats::{self, Source};
use crate::interrupt;
use crate::outcome::{Action, FileReport, Hashes};
use crate::write::{self, Staged, Target};

/// One file on its way through the steps.
enum Slot {
    Done(FileReport),
    Going(Box<Pending>, Staged),
    /// Left alone because the run was interrupted.
    Stopped,
}

fn fail(mut report: FileReport, e: FileError) -> FileReport {
    report.fail(e);
    report
}

/// A write waiting for a batch: its place in the chunk, and whether it must go alone.
struct Queued {
    at: usize,
    pending: Box<Pending>,
    alone: bool,
}

/// Commits the chunk's writes; reports in input order, and the peak extra space one batch held.
pub fn commit(cfg: &Config, prepared: Vec<Prepared>) -> (Vec<Option<FileReport>>, u64) {
    let opts = write::Options {
        preserve_mtime: cfg.preserve_mtime,
    };
    let mut out: Vec<Option<FileReport>> = Vec::with_capacity(prepared.len());
    let mut queue = Vec::new();
    for (at, p) in prepared.into_iter().enumerate() {
        out.push(match p {
            Prepared::Done(r) => Some(r),
            Prepared::Write(pending) => {
                queue.push(Queued {
                    at,
                    pending,
                    alone: false,
                });
                None
            }
            Prepared::Stopped => None,
        });
    }
    let mut peak = 0;
    while !queue.is_empty() && !interrupt::requested() {
        // The replaced originals handed to the closer so far are closed (their blocks free)
        // before the budget measures free space and staging takes some.
        crate::closer::settle();
        let mut budget = Budget::default();
        let (batch, rest): (Vec<Queued>, Vec<Queued>) = queue.into_iter().partition(|q| {
            let (dev, dir, extra) = budget::of(&q.pending);
            budget.take(dev, dir, extra, q.alone)
        });
        peak = peak.max(budget.peak());
        let (mut retry, done) = commit_batch(cfg, opts, batch);
        for (at, r) in done {
            out[at] = r;
        }
        retry.extend(rest);
        queue = retry;
    }
    (out, peak)
}

/// One batch: stage, journal, sync, apply, sync, finish. Returns the writes to try again alone
/// (out of space while staging beside others) and the reports of the rest, by place in the
/// chunk.
fn commit_batch(
    cfg: &Config,
    opts: write::Options,
    batch: Vec<Queued>,
) -> (Vec<Queued>, Vec<(usize, Option<FileReport>)>) {
    let alone: std::collections::HashSet<usize> =
        batch.iter().filter(|q| q.alone).map(|q| q.at).collect();
    let staged: Vec<(usize, Result<Slot, Queued>)> = batch
        .into_par_iter()
        .map(|q| (q.at, stage_queued(q, opts, cfg.evidence.is_some())))
        .collect();
    let mut retry = Vec::new();
    let (places, slots): (Vec<usize>, Vec<Slot>) = staged
        .into_iter()
        .filter_map(|(at, s)| match s {
            Ok(slot) => Some((at, slot)),
            Err(q) => {
                retry.push(q);
                None
            }
        })
        .unzip();
    let (places, mut slots) = journal(places, slots, &alone, &mut retry);
    // Interrupted already: nothing will be applied, so no need to wait for a sync.
    if !interrupt::requested() {
        barrier(&mut slots, "before writing");
    }
    test_pause();
    slots = slots.into_par_iter().map(apply).collect();
    barrier(&mut slots, "after writing");
    for slot in &mut slots {
        if let Slot::Going(_, staged) = slot {
            staged.finish_journal();
        }
    }
    let reports: Vec<Option<FileReport>> = slots
        .into_par_iter()
        .map(|s| match s {
            Slot::Done(r) => Some(r),
            Slot::Going(p, staged) => Some(finish(*p, staged)),
            Slot::Stopped => None,
        })
        .collect();
    (retry, places.into_iter().zip(reports).collect())
}

/// Writes the batch's undo journals (one file per folder); a write whose journal failed is
/// undone and reported, or comes back to go alone when the file system was out of space.
fn journal(
    places: Vec<usize>,
    mut slots: Vec<Slot>,
    alone: &std::collections::HashSet<usize>,
    retry: &mut Vec<Queued>,
) -> (Vec<usize>, Vec<Slot>) {
    let mut going: Vec<&mut Staged> = slots
        .iter_mut()
        .filter_map(|s| match s {
            Slot::Going(_, staged) => Some(staged),
            _ => None,
        })
        .collect();
    let mut results = write::journal(&mut going).into_iter();
    let mut kept = (
        Vec::with_capacity(places.len()),
        Vec::with_capacity(slots.len()),
    );
    for (at, slot) in places.into_iter().zip(slots) {
        let Slot::Going(p, staged) = slot else {
            kept.0.push(at);
            kept.1.push(slot);
            continue;
        };
        match results.next().unwrap_or(Ok(())) {
            Ok(()) => {
                kept.0.push(at);
                kept.1.push(Slot::Going(p, staged));
            }
            Err(e) => {
                staged.abort();
                let full = budget::out_of_space(e.message());
                if full && !alone.contains(&at) {
                    retry.push(Queued {
                        at,
                        pending: p,
                        alone: true,
                    });
                    continue;
                }
                let e = match full {
                    true => {
                        let (_, folder, need) = budget::of(&p);
                        budget::too_big(need, folder)
                    }
                    false => e,
                };
                kept.0.push(at);
                kept.1.push(Slot::Done(fail(p.report, e)));
            }
        }
    }
    kept
}

/// Stages one queued write; out of space beside other writes, it comes back to go alone.
fn stage_queued(q: Queued, opts: write::Options, evidence: bool) -> Result<Slot, Queued> {
    if interrupt::requested() {
        return Ok(Slot::Stopped);
    }
    let (_, folder, need) = budget::of(&q.pending);
    let folder = folder.to_path_buf();
    let Queued { at, pending, alone } = q;
    match stage(*pending, opts, evidence) {
        Ok(slot) => Ok(slot),
        Err(p) if !alone => Err(Queued {
            at,
            pending: p,
            alone: true,
        }),
        Err(p) => Ok(Slot::Done(fail(p.report, budget::too_big(need, &folder)))),
    }
}

/// Whole-file and payload hashes of the original, for `--evidence`.
fn hashes_before(p: &Pending) -> crate::formats::Result<Hashes> {
    let src = Source::new(&p.opened.file, p.opened.snapshot.size);
    Ok(Hashes {
        before: formats::hex(&formats::sha256_file(&src)?),
        after: String::new(),
        payload: formats::hex(&formats::sha256_ranges(&src, &p.payload)?),
    })
}

fn hash_after(path: &std::path::Path) -> crate::formats::Result<String> {
    let io = |e: std::io::Error| FileError::io_read("read failed", &e);
    let f = super::open_unseen(path, false, 0).map_err(io)?;
    let src = Source::new(&f, f.metadata().map_err(io)?.len());
    Ok(formats::hex(&formats::sha256_file(&src)?))
}

/// Debug builds only: `NOAI_TEST_PAUSE_MS` holds the run between staging and applying, so a
/// test can change a file behind noai's back and check the change is detected and left alone
/// (or interrupt the run there). An interruption ends the pause. With `NOAI_TEST_PAUSED` set to
/// a path, the run creates that file when the pause begins and the pause also ends when the
/// test removes it: tests wait for the file instead of guessing how long staging takes on a
/// loaded machine.
fn test_pause() {
    if !cfg!(debug_assertions) {
        return;
    }
    let Some(ms) = std::env::var("NOAI_TEST_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let flag = std::env::var_os("NOAI_TEST_PAUSED").map(std::path::PathBuf::from);
    if let Some(f) = &flag {
        let _ = std::fs::write(f, b"");
    }
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while std::time::Instant::now() < until
        && !interrupt::requested()
        && flag.as_ref().is_none_or(|f| f.exists())
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Stages one write; `Err` gives the write back when the file system was out of space.
fn stage(mut p: Pending, opts: write::Options, evidence: bool) -> Result<Slot, Box<Pending>> {
    if evidence {
        match hashes_before(&p) {
            Ok(h) => p.report.hashes = Some(h),
            Err(e) => return Ok(Slot::Done(fail(p.report, e))),
        }
    }
    let target = Target {
        path: &p.opened.real,
        file: &p.opened.file,
        writable: p.opened.writable,
        snapshot: p.opened.snapshot,
        container: p.opened.container,
        payload: &p.payload,
    };
    match write::stage(&target, p.plan.clone(), &p.edit, opts) {
        Ok(staged) => Ok(Slot::Going(Box::new(p), staged)),
        Err(e) if budget::out_of_space(e.message()) => Err(Box::new(p)),
        Err(e) => Ok(Slot::Done(fail(p.report, e))),
    }
}

/// Makes what the chunk wrote so far durable; if that fails, every file still going is rolled
/// back and reported, since its durability cannot be promised.
fn barrier(slots: &mut [Slot], when: &str) {
    // The journals too: where each file is synced on its own, a journal's name need not be
    // its file's.
    let paths = slots.iter().flat_map(|s| match s {
        Slot::Going(_, staged) => {
            let journal = staged.journal_path().map(|j| (staged.dev(), j));
            [Some((staged.dev(), staged.path())), journal]
        }
        Slot::Done(_) | Slot::Stopped => [None, None],
    });
    let Err(e) = write::sync(paths.flatten()) else {
        return;
    };
    for slot in slots.iter_mut() {
        *slot = match std::mem::replace(slot, Slot::Stopped) {
            Slot::Going(p, staged) => {
                staged.abort();
                let e = e
                    .clone()
                    .map_message(|m| format!("{m} ({when}); not changed"));
                Slot::Done(fail(p.report, e))
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
            let e = match budget::out_of_space(e.message()) {
                true => e.map_message(|m| format!(
                    "not enough free space: the file system filled up during the write ({m}); rolled back (free some space and run again)"
                )),
                false => e,
            };
            Slot::Done(fail(p.report, e))
        }
    }
}

fn finish(p: Pending, mut staged: Staged) -> FileReport {
    // The scan staging made of the new bytes: the written file holds exactly those (read back
    // in place, or the renamed temp file it was read from), so it is not opened and read again.
    let after = staged.take_after();
    let written = staged.finish();
    let Pending {
        mut report,
        opened,
        expect,
        ..
    } = p;
    // After a rewrite, the original's descriptor may hold the last reference to the replaced
    // inode; an in-place write's file keeps its name, so it is simply closed.
    match written.strategy {
        write::Strategy::Rewrite => crate::closer::close(opened.file),
        write::Strategy::InPlace => drop(opened),
    }
    let judged = match &after {
        Some(scan) => catch(|| judge_written(scan, expect.as_ref())),
        None => catch(|| verify_written(&report.path, expect.as_ref())),
    };
    match judged {
        Ok(Ok(v)) => {
            if let Some(h) = &mut report.hashes {
                match hash_after(&report.path) {
                    Ok(after) => h.after = after,
                    Err(e) => {
                        let e = e.map_message(|m| {
                            format!("written, but cannot be hashed for the evidence log: {m}")
                        });
                        return fail(report, e);
                    }
                }
            }
            let v = match report.c2pa.take() {
                Some(before) => {
                    let (now, v) =
                        super::signature::after_write(&report.path, &before, v, expect.as_ref());
                    report.c2pa = now.map(Box::new);
                    v
                }
                None => v,
            };
            report.status = v.status;
            report.effective_policy = v.effective;
            report.notes = v.notes;
            report.action = Some(Action::Written {
                strategy: written.strategy,
                bytes: written.bytes,
                cloned: written.cloned,
            });
            report
        }
        Ok(Err(e)) | Err(e) => fail(report, e),
    }
}
