//! The default, human output: one line per file that needs attention (every file with `-v`),
//! then a summary; `report` prints its catalogue overview first. Color only on a terminal.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{Action, FileReport, Renderer, Summary, paths, units};
use crate::cli::ColorChoice;
use crate::config::{Config, Job};
use crate::policy::Status;
use crate::write::Strategy;

pub struct Human {
    out: Box<dyn Write>,
    job: Job,
    quiet: bool,
    verbose: bool,
    color: bool,
    /// `report` only: per folder (untagged, total), and the lines to list after the summary.
    folders: BTreeMap<PathBuf, (usize, usize)>,
    held: Vec<String>,
}

impl Human {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> Human {
        let terminal = cfg.output.path.is_none() && std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cfg.output.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        Human {
            out,
            job: cfg.job.clone(),
            quiet: cfg.output.quiet,
            verbose: cfg.output.verbose,
            color,
            folders: BTreeMap::new(),
            held: Vec::new(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn label(&self, r: &FileReport) -> String {
        let (word, code) = match (r.status, r.action) {
            (Status::Error, _) => ("error", "31;1"),
            (_, Some(Action::Written { .. })) => ("written", "32"),
            (_, Some(Action::WouldWrite { .. })) => ("would-write", "33"),
            (_, Some(Action::Refused)) => (r.status.name(), "31"),
            (_, Some(Action::Unchanged)) => ("unchanged", "32"),
            (Status::Tagged, _) => ("tagged", "32"),
            (s, _) => (s.name(), if s.is_finding() { "33" } else { "0" }),
        };
        self.paint(code, &format!("{word:<11}"))
    }

    fn line(&self, r: &FileReport) -> String {
        let detail = detail(r);
        let sep = if detail.is_empty() { "" } else { "  " };
        format!("{} {}{sep}{detail}", self.label(r), paths::display(&r.path))
    }
}

/// What happened to a file in a few words: the error, or the action, policy and notes.
pub(super) fn detail(r: &FileReport) -> String {
    if let Some(e) = &r.error {
        return e.clone();
    }
    let mut parts = Vec::new();
    match r.action {
        Some(Action::Written { strategy, bytes }) => parts.push(format!(
            "{}, {}",
            strategy_word(strategy),
            units::size(bytes)
        )),
        Some(Action::WouldWrite { strategy }) => parts.push(strategy_word(strategy).to_string()),
        _ => {}
    }
    if let Some(p) = r.effective_policy {
        parts.push(format!("policy {p}"));
    }
    parts.extend(r.notes.iter().cloned());
    parts.join("; ")
}

/// Why a file fails, in words: `detail`, or what its status means when there are no notes.
pub(super) fn failure_message(r: &FileReport) -> String {
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
        s => s.name(),
    }
    .to_string()
}

fn strategy_word(s: Strategy) -> &'static str {
    match s {
        Strategy::InPlace => "in place",
        Strategy::Rewrite => "rewritten",
    }
}

fn needs_attention(r: &FileReport) -> bool {
    r.status == Status::Error
        || r.is_finding()
        || !r.notes.is_empty() && r.action != Some(Action::Unchanged)
}

impl Renderer for Human {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        match self.job {
            Job::Report => self.hold(r),
            Job::Show => self.show(r),
            _ => {
                let show = if self.quiet {
                    r.status == Status::Error
                } else {
                    self.verbose || needs_attention(r)
                };
                if show {
                    let line = self.line(r);
                    writeln!(self.out, "{line}")?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        if self.job == Job::Report {
            self.catalogue(s)?;
        } else if self.job != Job::Show || s.files == 0 {
            writeln!(self.out, "{}", summary_line(&self.job, s))?;
        }
        self.out.flush()
    }
}

impl Human {
    /// `report`: counts per folder, and the lines of files that are not tagged (or all, `-v`).
    fn hold(&mut self, r: &FileReport) -> std::io::Result<()> {
        let dir = r.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let e = self.folders.entry(dir).or_default();
        e.1 += 1;
        if r.status != Status::Tagged {
            e.0 += 1;
        }
        if (r.status != Status::Tagged || self.verbose) && !self.quiet {
            let line = self.line(r);
            self.held.push(line);
        }
        Ok(())
    }

    /// `report`: summary first, then folders with untagged files, then those files.
    fn catalogue(&mut self, s: &Summary) -> std::io::Result<()> {
        writeln!(self.out, "{}", summary_line(&self.job, s))?;
        let counts = |m: &BTreeMap<&str, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", n(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(self.out, "by status:    {}", counts(&s.by_status))?;
        writeln!(self.out, "by container: {}", counts(&s.by_container))?;
        let needy: Vec<_> = self
            .folders
            .iter()
            .filter(|(_, (bad, _))| *bad > 0)
            .collect();
        if !needy.is_empty() && !self.quiet {
            writeln!(
                self.out,
                "\nfolders needing attention ({} of {}):",
                n(needy.len()),
                n(self.folders.len())
            )?;
            for (dir, (bad, total)) in &needy {
                let (bad, total) = (n(*bad), n(*total));
                writeln!(self.out, "  {bad:>7} of {total:<7} {}", paths::display(dir))?;
            }
        }
        if !self.held.is_empty() {
            writeln!(self.out, "\nfiles:")?;
            for line in &self.held {
                writeln!(self.out, "{line}")?;
            }
        }
        Ok(())
    }

    /// `show`: every carrier and field of one file.
    fn show(&mut self, r: &FileReport) -> std::io::Result<()> {
        let out = &mut self.out;
        writeln!(out, "{}", paths::display(&r.path))?;
        if let Some(e) = &r.error {
            return writeln!(out, "  error: {e}");
        }
        writeln!(
            out,
            "  container: {}",
            r.container.map_or("?", |c| c.name())
        )?;
        writeln!(out, "  status:    {}", r.status.name())?;
        let policy = r
            .effective_policy
            .map_or("none".to_string(), |p| p.to_string());
        writeln!(out, "  policy:    {policy}")?;
        for c in &r.carriers {
            let ours = c
                .fields
                .iter()
                .filter(|f| crate::policy::is_spec_key(&f.key))
                .count();
            writeln!(
                out,
                "  carrier:   {} ({} fields, {ours} of the reservation)",
                c.kind.label(),
                c.fields.len(),
            )?;
            // Every field, the reservation's first; pictures and long values summarised.
            let (mine, rest): (Vec<_>, Vec<_>) = c
                .fields
                .iter()
                .partition(|f| crate::policy::is_spec_key(&f.key));
            for f in mine.into_iter().chain(rest) {
                let v = super::compact::value(&f.key, &f.value);
                writeln!(out, "    {} = {}", f.key, v.replace('\n', "\n      "))?;
            }
        }
        for n in &r.notes {
            writeln!(out, "  note:      {n}")?;
        }
        Ok(())
    }
}

/// A count with thousands separators.
fn n<T: TryInto<u64>>(v: T) -> String {
    units::count(v.try_into().unwrap_or(u64::MAX))
}

/// The one-line summary every command ends with.
pub fn summary_line(job: &Job, s: &Summary) -> String {
    let mut parts = Vec::new();
    match job {
        Job::Tag { .. } | Job::Strip { .. } => {
            let verb = if matches!(job, Job::Tag { .. }) {
                "tagged"
            } else {
                "stripped"
            };
            if s.written_in_place + s.rewritten > 0 {
                parts.push(format!(
                    "{} {verb} ({} in place, {} rewritten, {} written)",
                    n(s.written_in_place + s.rewritten),
                    n(s.written_in_place),
                    n(s.rewritten),
                    units::size(s.bytes_written)
                ));
            }
            if s.would_write > 0 && s.peak_extra_bytes > 0 {
                parts.push(format!(
                    "{} would change (needing up to {} free at once)",
                    n(s.would_write),
                    units::size(s.peak_extra_bytes)
                ));
            } else if s.would_write > 0 {
                parts.push(format!("{} would change", n(s.would_write)));
            }
            for (count, w) in [
                (s.unchanged, "unchanged"),
                (s.refused, "left alone (use --force)"),
            ] {
                if count > 0 {
                    parts.push(format!("{} {w}", n(count)));
                }
            }
            if s.errors > 0 {
                parts.push(format!(
                    "{} error{}",
                    n(s.errors),
                    if s.errors == 1 { "" } else { "s" }
                ));
            }
        }
        _ => parts.extend(s.by_status.iter().map(|(k, v)| format!("{} {k}", n(*v)))),
    }
    let skipped: usize = s.skipped.values().sum();
    let mut line = format!(
        "{} audio file{}",
        n(s.files),
        if s.files == 1 { "" } else { "s" }
    );
    if !parts.is_empty() {
        line += &format!(": {}", parts.join(", "));
    }
    if skipped > 0 {
        let why = s
            .skipped
            .iter()
            .map(|(k, v)| format!("{} {k}", n(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        line += &format!("; skipped {why}");
    }
    if s.recovered > 0 {
        line += &format!("; recovered {} interrupted write(s)", n(s.recovered));
    }
    if s.no_audio_files {
        line += "; no audio file found, nothing was checked (--allow-empty accepts this)";
    }
    line
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
        let mut v = Summary {
            files: 1,
            ..Summary::default()
        };
        v.by_status.insert("untagged", 1);
        assert_eq!(summary_line(&Job::Report, &v), "1 audio file: 1 untagged");
    }
}
