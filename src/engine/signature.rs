//! Never break a signature silently (issue 17): a write planned on a file whose C2PA manifest
//! verifies is refused unless the user re-signs (`--sign`) or accepts breaking it
//! (`--c2pa=invalidate`); after a write, the manifest is read again so the report says what
//! the write did to it.

use std::path::Path;

use super::{OpenMode, Pending, Prepared, open};
use crate::bad;
use crate::c2pa::TrustConfig;
use crate::config::C2paOptions;
use crate::model::Signed;
use crate::policy::{Verdict, Wanted, join_signed};

const ALREADY_BROKEN: &str =
    "the C2PA manifest was already broken before this write; it stays broken";

/// Lets a planned write through, or turns it into a `refused` error when it would break a
/// manifest that verifies. A dry run reports the same refusal, so it lists these files.
pub fn guard(opts: &C2paOptions, prepared: Prepared) -> Prepared {
    let Prepared::Write(mut w) = prepared else {
        return prepared;
    };
    let Some(signed) = w.report.c2pa.as_ref() else {
        return Prepared::Write(w);
    };
    let note = match (signed.verifies(), opts.may_break_signature()) {
        (true, false) => return refuse(w),
        (true, true) if opts.sign_requested => return Prepared::Write(w),
        (true, true) => {
            "the C2PA manifest verified before this write and will not after it (--c2pa=invalidate)"
        }
        (false, _) => ALREADY_BROKEN,
    };
    w.report.notes.push(note.into());
    Prepared::Write(w)
}

fn refuse(w: Box<Pending>) -> Prepared {
    let Pending { mut report, .. } = *w;
    report.action = None;
    report.fail(bad!(
        Refused,
        "signed: changing its tags would make its C2PA manifest invalid; re-sign with --sign, or accept that with --c2pa=invalidate"
    ));
    Prepared::Done(report)
}

/// After a write to a file that held a manifest: the manifest as it reads now, and the verdict
/// joined with it (a write that broke it shows as `signature-broken`).
pub fn after_write(
    path: &Path,
    before: &Signed,
    v: Verdict,
    expect: Option<&Wanted>,
) -> (Option<Signed>, Verdict) {
    let mode = OpenMode {
        write: false,
        follow: true,
        journal: false,
    };
    let now = open(path, mode)
        .ok()
        .and_then(|o| crate::c2pa::inspect(&o.file, &o.scan, &TrustConfig::default()));
    match now {
        Some(s) => {
            let mut v = join_signed(v, &s, expect);
            if !before.verifies() {
                v.notes.push(ALREADY_BROKEN.into());
            } else if !s.verifies() {
                v.notes.push(
                    "this write changed what the C2PA manifest covers: it no longer verifies"
                        .into(),
                );
            }
            (Some(s), v)
        }
        None => (None, v),
    }
}
