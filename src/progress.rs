//! A progress bar on stderr (files done of total, rate, ETA), only when stderr is a terminal and
//! not `-q`; never on stdout, so machine formats stay clean. The total comes from a quick
//! pre-walk (directory entries only, no file is opened), which costs ~2 µs a file.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{Config, Roots};
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
        "{bar:30} {pos}/{len} files  {per_sec}  ETA {eta}"
    } else {
        "{spinner} {pos} files  {per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
