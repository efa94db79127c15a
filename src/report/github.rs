//! `--format github`: GitHub Actions workflow commands, so findings show up as annotations on
//! the run and on the files of a pull request. One `::error file=PATH,title=noai STATUS::MESSAGE`
//! line per finding and per error, streamed as files are done, then one `::notice` line with
//! the summary; passing files print nothing. Every line is `error`, never `warning`: each of
//! them makes the run exit non-zero (1 or 2), so each one fails the job. Values are escaped by
//! GitHub's rules (`%` `\r` `\n` in the message; also `:` `,` in properties), so no file name
//! can end a line or start a command of its own; other control characters become U+FFFD. A name
//! that is not valid UTF-8 (or has control characters) is given in that lossy form, with
//! `(path bytes: HEX)` added to the message (docs/formats.md).

use std::io::Write;

use super::{Renderer, paths, wording};
use crate::config::{Config, Job};
use crate::outcome::{FileReport, Summary};
use crate::policy::Status;

pub struct Github {
    out: Box<dyn Write>,
    job: Job,
}

impl Github {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> Github {
        Github {
            out,
            job: cfg.job.clone(),
        }
    }
}

/// Escapes the message part of a workflow command.
pub(super) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub(super) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The workflow command for one file, or `None` when it passes.
fn line(r: &FileReport) -> Option<String> {
    if r.status != Status::Error && !r.is_finding() {
        return None;
    }
    let mut message = wording::failure_message(r);
    let (path, hex) = paths::text(&r.path);
    if let Some(hex) = hex {
        message.push_str(&format!(" (path bytes: {hex})"));
    }
    Some(format!(
        "::error file={},title={}::{}",
        escape_property(&path),
        escape_property(&format!("noai {}", r.status.name())),
        escape_data(&paths::plain(&message))
    ))
}

impl Renderer for Github {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        match line(r) {
            Some(l) => writeln!(self.out, "{l}"),
            None => Ok(()),
        }
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        let level = if s.no_audio_files { "error" } else { "notice" };
        writeln!(
            self.out,
            "::{level} title={}::{}",
            escape_property(&format!("noai {}", self.job.name())),
            escape_data(&wording::summary_line(&self.job, s))
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn escapes_by_github_rules() {
        assert_eq!(escape_data("50%\r\nok: a,b"), "50%25%0D%0Aok: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn one_error_line_per_error() {
        let r = FileReport::error(
            PathBuf::from("d/a,b:\nc.mp3"),
            None,
            crate::bad!("bad\nframe"),
        );
        assert_eq!(
            line(&r).unwrap(),
            "::error file=d/a%2Cb%3A%0Ac.mp3,title=noai error::bad%0Aframe"
        );
    }
}
