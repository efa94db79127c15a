//! What `tag` and `strip` do with one file, given what it carries: nothing (already as wanted),
//! refuse (a different explicit policy without `--force`), report a dry run, or plan a write.

use super::{Opened, Pending, Prepared};
use crate::error::{ErrorKind, FileError};
use crate::formats::{self, Part, Plan, Planned, Source};
use crate::model::{
    Carrier, CarrierKind, Container, Edit, KEY_CONSTRAINTS, KEY_POLICY, Layout, RawField,
    SPEC_KEYS, Scan, is_spec_key,
};
use crate::outcome::{Action, FileReport};
use crate::policy::{self, Status, Verdict, Wanted, is_marker};
use crate::write;

/// The settings of a writing job that shape every file's plan.
#[derive(Debug, Clone, Copy)]
pub struct WriteJob {
    pub dry: bool,
    pub force: bool,
    /// Also write the XMP packet where the container has a standard carrier.
    pub xmp: bool,
}

pub fn tag(
    mut report: FileReport,
    o: Opened,
    v: &Verdict,
    wanted: &Wanted,
    job: WriteJob,
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
    // An MP3's ID3v2.2 tag has no XMP frame (the XMP spec covers ID3v2.3 and v2.4 only).
    let v22 = o.container == Container::Mpeg
        && primary(&o.scan).is_some_and(|c| c.kind == CarrierKind::Id3v2 { major: 2 });
    let xmp = covers_xmp(&o, job.xmp && !v22);
    if v.status == Status::Tagged && is_exact(&o.scan, wanted, &fields, xmp) {
        report.action = Some(Action::Unchanged);
        return Prepared::Done(report);
    }
    if !compatible && !job.force {
        report.action = Some(Action::Refused);
        report.notes.push(
            "left alone: it carries a different or invalid reservation; use --force to replace it"
                .into(),
        );
        return Prepared::Done(report);
    }
    // Every field of the reservation is replaced, so a forced change leaves no stale
    // TDM-POLICY; free-text constraints survive only when the policy stays the same.
    let mut set = fields;
    if wanted.constraints.is_none()
        && v.effective == Some(wanted.policy)
        && let Some(c) = primary(&o.scan).and_then(|p| single(p, KEY_CONSTRAINTS))
    {
        set.push((KEY_CONSTRAINTS.to_string(), c));
    }
    // Home-made markers (`AI_TRAINING_OPT_OUT`, …) are replaced by the standard fields.
    let mut remove: Vec<String> = SPEC_KEYS.iter().map(|k| k.to_string()).collect();
    let markers = o
        .scan
        .carriers
        .iter()
        .flat_map(|c| &c.fields)
        .filter(|f| is_marker(&f.key));
    remove.extend(markers.map(|f| f.key.clone()));
    let edit = edit_of(&o, remove, set, xmp);
    if let Err(why) = check_outcome(&o.scan, &edit, Some(wanted)) {
        return refuse(report, why);
    }
    plan(report, o, edit, job.dry, Some(wanted.clone()))
}

pub fn strip(report: FileReport, o: Opened, job: WriteJob) -> Prepared {
    let remove = SPEC_KEYS.iter().map(|k| k.to_string()).collect();
    // Stripping always covers the XMP properties too (SPEC §5).
    let edit = edit_of(&o, remove, Vec::new(), covers_xmp(&o, true));
    if let Err(why) = check_outcome(&o.scan, &edit, None) {
        return refuse(report, why);
    }
    plan(report, o, edit, job.dry, None)
}

/// The XMP decision, made here once per file: the packet carries the edit when `asked` and the
/// container has a standard XMP carrier (SPEC §3.1). Every planner follows `Edit::xmp`.
fn covers_xmp(o: &Opened, asked: bool) -> bool {
    asked && o.container.has_xmp()
}

/// The edit for one file. `strip` restores the layout from before `tag` (removing a tag `tag`
/// created whole, or an XMP chunk it empties), except in a file with several hard links: that
/// rewrite would split them, so only our fields go, in place.
fn edit_of(o: &Opened, remove: Vec<String>, set: Vec<(String, String)>, xmp: bool) -> Edit {
    let layout = match o.snapshot.nlink > 1 {
        true => Layout::Keep,
        false => Layout::Restore,
    };
    Edit {
        remove,
        set,
        xmp,
        layout,
        extra_padding: 0,
        precheck: false,
    }
}

/// The plain-tag carrier we write: the last editable one that is not XMP (formats list it last).
fn primary(scan: &Scan) -> Option<&Carrier> {
    primary_at(scan).map(|i| &scan.carriers[i])
}

/// Where `primary` is in the scan's list.
fn primary_at(scan: &Scan) -> Option<usize> {
    scan.carriers
        .iter()
        .rposition(|c| c.editable && !matches!(c.kind, CarrierKind::Xmp { .. }))
}

/// The carriers as the write would leave them: the primary one and (with XMP) the editable XMP
/// packet carry the edit; every other carrier stays as it is.
fn predicted(scan: &Scan, edit: &Edit) -> Vec<Carrier> {
    let xmp = edit.xmp;
    let primary_at = primary_at(scan);
    let new_fields = |c: &Carrier| {
        let mut f: Vec<_> = c
            .fields
            .iter()
            .filter(|f| !edit.removes(&f.key))
            .cloned()
            .collect();
        f.extend(edit.set.iter().map(|(k, v)| RawField {
            key: k.clone(),
            value: v.clone(),
        }));
        f
    };
    let mut out: Vec<Carrier> = scan.carriers.clone();
    for (i, c) in out.iter_mut().enumerate() {
        let is_xmp = matches!(c.kind, CarrierKind::Xmp { .. });
        if Some(i) == primary_at || (is_xmp && xmp && c.editable) {
            c.fields = new_fields(c);
            c.notes.clear();
        }
    }
    // Carriers the write creates (a first ID3v2 tag, a first XMP packet) hold just the edit.
    let fresh = |kind| {
        Carrier::new(
            kind,
            new_fields(&Carrier::new(CarrierKind::VorbisComment, vec![])),
        )
    };
    if primary_at.is_none() && !edit.set.is_empty() {
        out.push(fresh(CarrierKind::VorbisComment));
    }
    let has_xmp = scan
        .carriers
        .iter()
        .any(|c| c.editable && matches!(c.kind, CarrierKind::Xmp { .. }));
    if xmp && !has_xmp && !edit.set.is_empty() {
        out.push(fresh(CarrierKind::Xmp { place: "new" }));
    }
    out
}

/// Refuses, before any byte is written, a change that would not leave the file as the job
/// promises (tagged as wanted, or untagged after `strip`): a reservation in a carrier we read but
/// never change (an ID3v2 tag before FLAC, a second stacked tag, the XMP packet under
/// `--no-xmp`) would otherwise end the run in "written, but verify now says conflict".
fn check_outcome(scan: &Scan, edit: &Edit, expect: Option<&Wanted>) -> Result<(), String> {
    let after = policy::evaluate(&predicted(scan, edit), expect);
    let want = if expect.is_some() {
        Status::Tagged
    } else {
        Status::Untagged
    };
    if after.status == want {
        return Ok(());
    }
    let untouched: Vec<String> = scan
        .carriers
        .iter()
        .filter(|c| {
            let kept = !c.editable || (matches!(c.kind, CarrierKind::Xmp { .. }) && !edit.xmp);
            kept && c
                .fields
                .iter()
                .any(|f| is_spec_key(&f.key) || is_marker(&f.key))
        })
        .map(|c| c.kind.label())
        .collect();
    let hint = if untouched.iter().any(|l| l.starts_with("XMP")) && !edit.xmp {
        " (run without --no-xmp to update the XMP packet)"
    } else {
        ""
    };
    Err(match untouched.is_empty() {
        false => format!(
            "not changed: the reservation is also in {}, which noai reads but does not change here{hint}; \
             after the write the file would verify as {}",
            untouched.join(" and "),
            after.status.name()
        ),
        true => format!(
            "not changed: after the write the file would verify as {}, not {}",
            after.status.name(),
            want.name()
        ),
    })
}

/// A file left alone, with the reason as its error.
fn refuse(mut report: FileReport, why: String) -> Prepared {
    report.fail(FileError::new(ErrorKind::Refused, why));
    Prepared::Done(report)
}

/// The value of `key` in a carrier, if it holds exactly one.
fn single(c: &Carrier, key: &str) -> Option<String> {
    let mut same = c.fields.iter().filter(|f| f.key.eq_ignore_ascii_case(key));
    match (same.next(), same.next()) {
        (Some(f), None) => Some(f.value.clone()),
        _ => None,
    }
}

/// True when every carrier we write already holds exactly the wanted fields, canonically
/// spelled, and no TDM-POLICY the wanted set does not have.
fn is_exact(scan: &Scan, wanted: &Wanted, fields: &[(String, String)], xmp: bool) -> bool {
    let exact = |c: &Carrier| {
        let all = fields.iter().all(|(k, val)| {
            let mut same_key = c.fields.iter().filter(|f| f.key.eq_ignore_ascii_case(k));
            matches!((same_key.next(), same_key.next()), (Some(f), None) if &f.key == k && &f.value == val)
        });
        let stray_policy = wanted.policy_url.is_none()
            && c.fields
                .iter()
                .any(|f| f.key.eq_ignore_ascii_case(KEY_POLICY));
        all && !stray_policy && c.notes.is_empty()
    };
    let xmp_ok = !xmp
        || scan
            .carriers
            .iter()
            .any(|c| matches!(c.kind, CarrierKind::Xmp { .. }) && exact(c));
    primary(scan).is_some_and(exact) && xmp_ok
}

fn plan(
    mut report: FileReport,
    o: Opened,
    mut edit: Edit,
    dry: bool,
    expect: Option<Wanted>,
) -> Prepared {
    let src = Source::new(&o.file, o.snapshot.size);
    edit.precheck = dry;
    let Planned { plan, payload } = match plan_aligned(&o, &src, &mut edit) {
        Ok(Some(p)) => p,
        Ok(None) => {
            report.action = Some(Action::Unchanged);
            return Prepared::Done(report);
        }
        Err(e) => {
            report.fail(e);
            return Prepared::Done(report);
        }
    };
    if dry {
        // The proof's first step, which needs no new version: a file lofty cannot read would
        // be refused by `tag`, so the dry run says so instead of "would write".
        if let Err(e) = write::old_readable(o.container, &o.file, o.snapshot.size, &edit) {
            report.fail(e);
            return Prepared::Done(report);
        }
        report.action = Some(Action::WouldWrite {
            strategy: plan.strategy(),
        });
    }
    // A dry run's write is not carried out (the job does not write): its plan only tells how
    // much space the run would need.
    Prepared::Write(Box::new(Pending {
        report,
        opened: o,
        plan,
        payload,
        edit,
        expect,
    }))
}

/// The most padding added to, or taken from, a rewrite to align it: one block of the usual size.
const MAX_EXTRA_PADDING: u64 = 4096;

/// Plans the edit. A rewrite on a file system that clones is planned once more with the extra
/// padding that moves the audio by whole blocks (or, where that does not fit, as for Ogg
/// header pages that must keep their count, with that much less padding), so the write layer
/// can share its extents instead of copying them; the first plan stands when neither is
/// aligned.
fn plan_aligned(o: &Opened, src: &Source, edit: &mut Edit) -> formats::Result<Option<Planned>> {
    let first = formats::plan_with_payload(src, o.container, edit)?;
    let Some(Planned {
        plan: Plan::Rewrite { parts },
        ..
    }) = &first
    else {
        return Ok(first);
    };
    let Some(block) = write::clone_block(&o.file, o.snapshot.dev) else {
        return Ok(first);
    };
    let n = match misalignment(parts, block) {
        Some(n) if n > 0 => n,
        _ => return Ok(first),
    };
    let grow = (block - n <= MAX_EXTRA_PADDING).then_some((block - n) as i32);
    let shrink = (n <= MAX_EXTRA_PADDING).then_some(-(n as i32));
    for extra in [grow, shrink].into_iter().flatten() {
        let padded = Edit {
            extra_padding: extra,
            ..edit.clone()
        };
        if let Ok(Some(p)) = formats::plan_with_payload(src, o.container, &padded)
            && matches!(&p.plan, Plan::Rewrite { parts } if misalignment(parts, block) == Some(0))
        {
            *edit = padded;
            return Ok(Some(p));
        }
    }
    Ok(first)
}

/// How far the largest unchanged range of a rewrite moves, modulo `block`: 0 when it can be
/// cloned. `None` when there is nothing to clone (Ogg pages are renumbered, so they change).
fn misalignment(parts: &[Part], block: u64) -> Option<u64> {
    let mut pos = 0u64;
    let mut largest: Option<(u64, u64)> = None;
    for part in parts {
        match part {
            Part::Copy { offset, len } => {
                if largest.is_none_or(|(l, _)| *len > l) {
                    largest = Some((*len, (pos % block + block - offset % block) % block));
                }
                pos += len;
            }
            Part::Bytes(b) => pos += b.len() as u64,
            Part::OggPages { .. } => return None,
        }
    }
    largest.map(|(_, shift)| shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misalignment_is_the_largest_copys_shift_modulo_the_block() {
        let copy = |offset, len| Part::Copy { offset, len };
        // An MP3: a 1,000-byte tag replaced by 9,000 bytes, then the audio.
        let parts = [Part::Bytes(vec![0; 9_000]), copy(1_000, 100_000)];
        assert_eq!(misalignment(&parts, 4096), Some(8_000 % 4096));
        // The audio moved back by one block: aligned. The small copy does not count.
        let parts = [copy(0, 42), Part::Bytes(vec![0; 4154]), copy(100, 50_000)];
        assert_eq!(misalignment(&parts, 4096), Some(0));
        let ogg = [Part::OggPages {
            offset: 0,
            len: 9,
            seq_delta: 1,
        }];
        assert_eq!(misalignment(&ogg, 4096), None);
    }
}
