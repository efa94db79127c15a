//! `tag --sign`, after the chunk's tags are committed: each file that now verifies as tagged
//! gets a C2PA manifest (`write::sign`), or a note when its container has no C2PA binding or it
//! already carries the same signed entries. A signing failure is that file's error; its tags
//! stay written. A file whose manifest our own tag write just broke is signed too (that is what
//! `--sign` is for), and every signed file's report is read again, so it shows the new manifest.

use rayon::prelude::*;

use super::{OpenMode, catch, open, verify_written};
use crate::c2pa;
use crate::config::Config;
use crate::error::FileError;
use crate::formats::{self, Source};
use crate::outcome::{Action, FileReport};
use crate::policy::{self, Status};
use crate::sign::{self, Signer};
use crate::write::{self, Strategy, Target, sign::Signing};

/// Signs every tagged file of the chunk's reports.
pub fn sign_chunk(
    cfg: &Config,
    signer: &Signer,
    reports: Vec<Option<FileReport>>,
) -> Vec<Option<FileReport>> {
    // Signing stages whole temp copies: the chunk's replaced originals go first.
    crate::closer::settle();
    reports
        .into_par_iter()
        .map(|r| r.map(|r| sign_report(cfg, signer, r)))
        .collect()
}

fn sign_report(cfg: &Config, signer: &Signer, mut report: FileReport) -> FileReport {
    if report.error.is_some() || crate::interrupt::requested() || !tags_verify(cfg, &report) {
        return report;
    }
    let Some(mime) = report.container.and_then(sign::mime) else {
        report.notes.push(sign::NOT_AVAILABLE.into());
        return report;
    };
    match catch(|| sign_file(cfg, signer, &report, mime)).and_then(|r| r) {
        Ok(None) => report
            .notes
            .push("already signed with the same entries (C2PA)".into()),
        Ok(Some(bytes)) => {
            refresh(cfg, &mut report);
            report
                .notes
                .push("signed: C2PA manifest with cawg.training-mining".into());
            let before = match report.action {
                Some(Action::Written { bytes, .. }) => bytes,
                _ => 0,
            };
            report.action = Some(Action::Written {
                strategy: Strategy::Rewrite,
                bytes: before + bytes,
                cloned: false,
            });
        }
        Err(e) => report.fail(e.map_message(|m| format!("tags written, not signed: {m}"))),
    }
    report
}

/// True when the file's tags carry the reservation: its status is `tagged`, or it is
/// `signature-broken` only because this run's tag write changed what an old manifest covers.
fn tags_verify(cfg: &Config, report: &FileReport) -> bool {
    match report.status {
        Status::Tagged => true,
        Status::SignatureBroken => verify_written(&report.path, cfg.job.expected()).is_ok(),
        _ => false,
    }
}

/// The report of a file just signed, read again from disk: status, policy, notes and manifest
/// as `verify` sees them now (without this the old, broken manifest would still show).
fn refresh(cfg: &Config, report: &mut FileReport) {
    let mode = OpenMode {
        write: false,
        follow: true,
        journal: false,
    };
    let Ok(o) = open(&report.path, mode) else {
        return;
    };
    let expect = cfg.job.expected();
    let tags = policy::evaluate(&o.scan.carriers, expect);
    let signed = c2pa::inspect(&o.file, &o.scan, &cfg.c2pa.trust);
    let v = match &signed {
        Some(s) => policy::join_signed(tags, s, expect),
        None => tags,
    };
    report.status = v.status;
    report.effective_policy = v.effective;
    report.notes = v.notes;
    report.c2pa = signed.map(Box::new);
}

/// Signs one file; `None` when it already carried the same signed entries, else the bytes written.
fn sign_file(
    cfg: &Config,
    signer: &Signer,
    report: &FileReport,
    mime: &str,
) -> Result<Option<u64>, FileError> {
    let mode = OpenMode {
        write: true,
        follow: cfg.walk.follow_symlinks,
        journal: true,
    };
    let o = open(&report.path, mode)?;
    let payload = formats::payload(&Source::new(&o.file, o.snapshot.size), o.container)?;
    let target = Target {
        path: &o.real,
        file: &o.file,
        writable: o.writable,
        snapshot: o.snapshot,
        container: o.container,
        payload: &payload,
    };
    let opts = write::Options {
        preserve_mtime: cfg.preserve_mtime,
    };
    let mut staged = match write::sign::stage(&target, signer, mime, opts)? {
        Signing::Already => return Ok(None),
        Signing::Staged(s) => *s,
    };
    let dev = staged.dev();
    let real = o.real.clone();
    if let Err(e) = write::sync([(dev, real.as_path())]).and_then(|()| staged.apply()) {
        staged.abort();
        return Err(e);
    }
    write::sync([(dev, real.as_path())])?;
    let written = staged.finish();
    drop(o);
    verify_written(&report.path, cfg.job.expected())?;
    Ok(Some(written.bytes))
}
