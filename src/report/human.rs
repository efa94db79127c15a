//! The default, human output: one line per file that needs attention (every file with `-v`),
//! then a summary; `report` prints its catalogue overview first. Color only on a terminal.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::wording::{self, Tone, count as n};
use super::{Renderer, paths};
use crate::cli::ColorChoice;
use crate::config::{Config, Job};
use crate::outcome::{Action, FileReport, Summary};
use crate::policy::Status;

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
        let (word, tone) = wording::label(r);
        let code = match tone {
            Tone::Error => "31;1",
            Tone::Refused => "31",
            Tone::Finding => "33",
            Tone::Good => "32",
            Tone::Plain => "0",
        };
        self.paint(code, &format!("{word:<11}"))
    }

    fn line(&self, r: &FileReport) -> String {
        let detail = wording::detail(r);
        let detail = paths::terminal(&detail, false);
        let sep = if detail.is_empty() { "" } else { "  " };
        format!("{} {}{sep}{detail}", self.label(r), paths::display(&r.path))
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
            writeln!(self.out, "{}", wording::summary_line(&self.job, s))?;
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
        writeln!(self.out, "{}", wording::summary_line(&self.job, s))?;
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
            return writeln!(out, "  error: {}", paths::terminal(e, false));
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
                let v = paths::terminal(&v, true).replace('\n', "\n      ");
                writeln!(out, "    {} = {v}", paths::terminal(&f.key, false))?;
            }
        }
        if let Some(s) = &r.c2pa {
            writeln!(
                out,
                "  c2pa:      {}",
                paths::terminal(&super::wording::signed(s), false)
            )?;
            for e in &s.entries {
                let info = e
                    .constraint_info
                    .as_deref()
                    .map(|i| format!(" ({})", paths::terminal(i, false)))
                    .unwrap_or_default();
                let key = paths::terminal(&e.key, false);
                writeln!(out, "    {key} = {}{info}", e.use_.name())?;
            }
        }
        for n in &r.notes {
            writeln!(out, "  note:      {}", paths::terminal(n, false))?;
        }
        Ok(())
    }
}
