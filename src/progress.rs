//! A progress bar on stderr (files done of total, rate, ETA), only when stderr is a terminal and
//! not `-q`; never on stdout, so machine formats stay clean. The total comes from a quick
//! pre-walk (directory entries only, no file is opened), which costs ~2 µs a file.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::config::{Config, Roots};
use crate::units;
use crate::walk::{self, Found};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn start(cfg: &Config) -> Progress {
        Progress {
            bar: wanted(cfg).then(|| bar(cfg)),
        }
    }

    pub fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn wanted(cfg: &Config) -> bool {
    !cfg.output.quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("NOAI_NO_PROGRESS").is_none()
}

fn bar(cfg: &Config) -> ProgressBar {
    let total = match cfg.walk.roots {
        Roots::Paths(_) => Some(
            walk::walk(&cfg.walk)
                .filter(|f| matches!(f, Found::Candidate(_)))
                .count() as u64,
        ),
        // A list may be standard input, which can only be read once.
        Roots::List { .. } => None,
    };
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{bar:30} {done}/{total} files  {rate}  ETA {eta}"
    } else {
        "{spinner} {done} files  {rate}"
    };
    // Counts with separators and a rounded rate, as in the summary ("1,000 files/s").
    if let Ok(style) = ProgressStyle::with_template(template) {
        let style = style
            .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&units::count(s.pos()));
            })
            .with_key("total", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&units::count(s.len().unwrap_or(0)));
            })
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&units::rate(s.per_sec()));
            });
        bar.set_style(style);
    }
    bar
}
