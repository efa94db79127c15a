//! The words every renderer shares, in one place so the formats cannot drift apart: a file's
//! label and detail, why a file fails, the one-line summary of a run, and the machine names of
//! actions and strategies. Renderers take their wording from here, never from each other.

use crate::config::Job;
use crate::model::Strategy;
use crate::outcome::{Action, FileReport, Summary};
use crate::policy::Status;
use crate::units;

/// What `verify`/`report` say when they found no audio file at all.
pub const NO_AUDIO_FILES: &str =
    "no audio file found, nothing was checked (--allow-empty accepts this)";

/// How a label reads at a glance; the human output colors by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Could not be read or written.
    Error,
    /// Left alone on purpose, though it fails.
    Refused,
    /// A finding, or a write still to do.
    Finding,
    /// As wanted.
    Good,
    Plain,
}

/// A file's label in a listing: the error, the action taken, else its status.
pub fn label(r: &FileReport) -> (&'static str, Tone) {
    match (r.status, r.action) {
        (Status::Error, _) => ("error", Tone::Error),
        (_, Some(Action::Written { .. })) => ("written", Tone::Good),
        (_, Some(Action::WouldWrite { .. })) => ("would-write", Tone::Finding),
        (_, Some(Action::Refused)) => (r.status.name(), Tone::Refused),
        (_, Some(Action::Unchanged)) => ("unchanged", Tone::Good),
        (Status::Tagged, _) => ("tagged", Tone::Good),
        (s, _) if s.is_finding() => (s.name(), Tone::Finding),
        (s, _) => (s.name(), Tone::Plain),
    }
}

/// What happened to a file in a few words: the error, or the action, policy and notes.
pub fn detail(r: &FileReport) -> String {
    if let Some(e) = &r.error {
        return e.clone();
    }
    let mut parts = Vec::new();
    match r.action {
        Some(Action::Written {
            strategy,
            bytes,
            cloned,
        }) => parts.push(format!(
            "{}{}, {}",
            strategy_words(strategy),
            if cloned { " (cloned)" } else { "" },
            units::size(bytes)
        )),
        Some(Action::WouldWrite { strategy }) => parts.push(strategy_words(strategy).to_string()),
        _ => {}
    }
    if let Some(p) = r.effective_policy {
        parts.push(format!("policy {p}"));
    }
    parts.extend(r.notes.iter().cloned());
    parts.join("; ")
}

/// Why a file fails, in words: `detail`, or what its status means when there are no notes.
pub fn failure_message(r: &FileReport) -> String {
    let d = detail(r);
    if !d.is_empty() {
        return d;
    }
    match r.status {
        Status::Error => "error",
        Status::Untagged => "no reservation (TDM-RESERVATION / DATAMINING) found",
        Status::Mismatch => "the reservation is not the expected policy",
        Status::Conflict => "the reservation fields contradict each other",
        Status::Invalid => "a reservation field has an invalid value",
        Status::SignatureBroken => "signature broken: the file changed after signing",
        s => s.name(),
    }
    .to_string()
}

/// A write strategy in prose (`in place`, `rewritten`).
fn strategy_words(s: Strategy) -> &'static str {
    match s {
        Strategy::InPlace => "in place",
        Strategy::Rewrite => "rewritten",
    }
}

/// A write strategy as a machine-readable value (`in-place`, `rewrite`).
pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::InPlace => "in-place",
        Strategy::Rewrite => "rewrite",
    }
}

/// An action as a machine-readable value (`written`, `would-write`, …; empty for none).
pub fn action_name(a: Option<Action>) -> &'static str {
    match a {
        Some(Action::Written { .. }) => "written",
        Some(Action::WouldWrite { .. }) => "would-write",
        Some(Action::Unchanged) => "unchanged",
        Some(Action::Refused) => "refused",
        None => "",
    }
}

/// A count with thousands separators.
pub fn count<T: TryInto<u64>>(v: T) -> String {
    units::count(v.try_into().unwrap_or(u64::MAX))
}

/// The one-line summary every command ends with.
pub fn summary_line(job: &Job, s: &Summary) -> String {
    let parts = match job {
        Job::Tag { .. } => write_parts("tagged", s),
        Job::Strip { .. } => write_parts("stripped", s),
        _ => (s.by_status.iter())
            .map(|(k, v)| format!("{} {k}", count(*v)))
            .collect(),
    };
    let mut line = format!(
        "{} audio file{}",
        count(s.files),
        if s.files == 1 { "" } else { "s" }
    );
    if !parts.is_empty() {
        line += &format!(": {}", parts.join(", "));
    }
    if s.skipped.values().sum::<usize>() > 0 {
        let why = (s.skipped.iter())
            .map(|(k, v)| format!("{} {k}", count(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        line += &format!("; skipped {why}");
    }
    if s.recovered > 0 {
        line += &format!("; recovered {} interrupted write(s)", count(s.recovered));
    }
    if s.no_audio_files {
        line += &format!("; {NO_AUDIO_FILES}");
    }
    line
}

/// The counts of a writing job (`tag`, `strip`): written, would change, unchanged, left alone,
/// errors; those that are zero are left out.
fn write_parts(verb: &str, s: &Summary) -> Vec<String> {
    let mut parts = Vec::new();
    if s.written_in_place + s.rewritten > 0 {
        // Cloned rewrites are said only where there are some: most file systems cannot.
        let cloned = match s.cloned {
            0 => String::new(),
            n => format!(" ({} cloned)", count(n)),
        };
        parts.push(format!(
            "{} {verb} ({} in place, {} rewritten{cloned}, {} written)",
            count(s.written_in_place + s.rewritten),
            count(s.written_in_place),
            count(s.rewritten),
            units::size(s.bytes_written)
        ));
    }
    if s.would_write > 0 && s.peak_extra_bytes > 0 {
        parts.push(format!(
            "{} would change (needing up to {} free at once)",
            count(s.would_write),
            units::size(s.peak_extra_bytes)
        ));
    } else if s.would_write > 0 {
        parts.push(format!("{} would change", count(s.would_write)));
    }
    for (n, w) in [
        (s.unchanged, "unchanged"),
        (s.refused, "left alone (use --force)"),
    ] {
        if n > 0 {
            parts.push(format!("{} {w}", count(n)));
        }
    }
    if s.errors > 0 {
        let plural = if s.errors == 1 { "" } else { "s" };
        parts.push(format!("{} error{plural}", count(s.errors)));
    }
    parts
}

/// A C2PA manifest in one line: state, place, signer, assertion and failure codes (`show`).
pub fn signed(s: &crate::model::Signed) -> String {
    let mut out = format!("{} ({})", s.state.name(), s.place);
    let signer: Vec<&str> = [&s.common_name, &s.issuer]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !signer.is_empty() {
        out.push_str(&format!(", signed by {}", signer.join(" / ")));
    }
    match &s.assertion {
        Some(a) if s.legacy => out.push_str(&format!(", {a} (legacy)")),
        Some(a) => out.push_str(&format!(", {a}")),
        None => out.push_str(", no training-mining assertion"),
    }
    if !s.failures.is_empty() {
        out.push_str(&format!("; codes: {}", s.failures.join(", ")));
    }
    if let Some(e) = &s.error {
        out.push_str(&format!("; {e}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary lines as a person reads them: separators, units, plurals.
    #[test]
    fn summary_lines_snapshot() {
        let mut s = Summary {
            files: 12_345,
            written_in_place: 9_000,
            rewritten: 3_000,
            unchanged: 345,
            bytes_written: 305_113_821,
            errors: 1,
            ..Summary::default()
        };
        s.skipped.insert("not audio", 1_200);
        let strip = Job::Strip { dry_run: false };
        assert_eq!(
            summary_line(&strip, &s),
            "12,345 audio files: 12,000 stripped (9,000 in place, 3,000 rewritten, 291 MiB \
             written), 345 unchanged, 1 error; skipped 1,200 not audio"
        );
        s.cloned = 2_500;
        assert!(summary_line(&strip, &s).contains("3,000 rewritten (2,500 cloned), 291 MiB"));
        let mut v = Summary {
            files: 1,
            ..Summary::default()
        };
        v.by_status.insert("untagged", 1);
        assert_eq!(summary_line(&Job::Report, &v), "1 audio file: 1 untagged");
    }
}
