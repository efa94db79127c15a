//! What `tag` and `strip` do with one file, given what it carries: nothing (already as wanted),
//! refuse (a different explicit policy without `--force`), report a dry run, or plan a write.

use super::{Opened, Pending, Prepared};
use crate::formats::{self, Edit, Plan, Scan, Source};
use crate::policy::{SPEC_KEYS, Status, Verdict, Wanted};
use crate::report::{Action, FileReport};
use crate::write::Strategy;

pub fn tag(
    mut report: FileReport,
    o: Opened,
    v: &Verdict,
    wanted: &Wanted,
    dry: bool,
    force: bool,
) -> Prepared {
    let fields = wanted.fields();
    let compatible = match v.status {
        Status::Untagged | Status::Tagged => true,
        // A lone TDM-RESERVATION=1 contradicts no prohibiting policy: complete it.
        Status::Mismatch => {
            v.incomplete && v.effective.is_some_and(|p| p.reserved()) && wanted.policy.reserved()
        }
        _ => false,
    };
    if v.status == Status::Tagged && is_exact(&o.scan, &fields) {
        report.action = Some(Action::Unchanged);
        return Prepared::Done(report);
    }
    if !compatible && !force {
        report.action = Some(Action::Refused);
        report.notes.push(
            "left alone: it carries a different or invalid reservation; use --force to replace it"
                .into(),
        );
        return Prepared::Done(report);
    }
    let edit = Edit {
        remove: fields.iter().map(|(k, _)| k.clone()).collect(),
        set: fields,
    };
    plan(report, o, edit, dry, Some(wanted.clone()))
}

pub fn strip(report: FileReport, o: Opened, dry: bool) -> Prepared {
    let edit = Edit {
        remove: SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        set: Vec::new(),
    };
    plan(report, o, edit, dry, None)
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

fn plan(
    mut report: FileReport,
    o: Opened,
    edit: Edit,
    dry: bool,
    expect: Option<Wanted>,
) -> Prepared {
    let src = Source::new(&o.file, o.snapshot.size);
    let plan = match formats::plan(&src, o.container, &edit) {
        Ok(Some(p)) => p,
        Ok(None) => {
            report.action = Some(Action::Unchanged);
            return Prepared::Done(report);
        }
        Err(e) => {
            report.status = Status::Error;
            report.error = Some(e.0);
            return Prepared::Done(report);
        }
    };
    if dry {
        let strategy = match plan {
            Plan::InPlace { .. } => Strategy::InPlace,
            Plan::Rewrite { .. } => Strategy::Rewrite,
        };
        report.action = Some(Action::WouldWrite { strategy });
        return Prepared::Done(report);
    }
    Prepared::Write(Box::new(Pending {
        report,
        opened: o,
        plan,
        edit,
        expect,
    }))
}
