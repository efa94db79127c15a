//! Renderers: turn the run's results (`crate::outcome`) into text, one per output format
//! (`human`, `json`/`jsonl`, `junit`, `github`, `csv`, `html`; docs/formats.md), each behind the
//! `Renderer` trait and made by `renderer`, the one place that maps a format to its renderer.
//! Nothing else prints results. Renderers share their words through `wording` and never use
//! each other; `compact` keeps pictures and long values out of every format.

mod clock;
pub mod compact;
mod csv;
pub mod evidence;
mod github;
mod html;
mod human;
mod json;
mod junit;
mod pathlist;
pub mod paths;
pub mod wording;

use std::io::Write;

use crate::cli::Format;
use crate::config::Config;
use crate::outcome::{FileReport, Summary};

/// Renders a run as it happens: `file` for each report in path order, `finish` once at the end.
/// Renderers own their output, so a streamed format never holds the whole run in memory.
pub trait Renderer {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()>;
}

/// The renderer for the configured output format, writing to `out`.
pub fn renderer(cfg: &Config, out: Box<dyn Write>) -> Box<dyn Renderer> {
    match cfg.output.format {
        Format::Human if cfg.output.untagged_only => Box::new(pathlist::PathList::new(cfg, out)),
        Format::Human => Box::new(human::Human::new(cfg, out)),
        Format::Json => Box::new(json::Json::new(cfg, out, false)),
        Format::Jsonl => Box::new(json::Json::new(cfg, out, true)),
        Format::Junit => Box::new(junit::Junit::new(cfg, out)),
        Format::Github => Box::new(github::Github::new(cfg, out)),
        Format::Csv => Box::new(csv::Csv::new(out)),
        Format::Html => Box::new(html::Html::new(cfg, out)),
    }
}

/// True when the renderer prints `wording::summary_line` (human, GitHub, HTML), which says when
/// no audio file was found; the other formats leave that to a line on stderr.
pub fn summary_line_shown(cfg: &Config) -> bool {
    !cfg.output.untagged_only
        && matches!(
            cfg.output.format,
            Format::Human | Format::Github | Format::Html
        )
}
