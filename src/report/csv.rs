//! `--format csv`: RFC 4180 CSV through the `csv` crate (fields with `,` `"` or line breaks are
//! quoted, quotes doubled), for spreadsheets and scripts. A header row, then one row per file,
//! streamed as files are done: `path,container,status,effective_policy,action,strategy,
//! bytes_written,notes,error,error_code,c2pa`, empty cells where a value does not apply, notes
//! joined with `; `. `error_code` (the error's stable kind) and `c2pa` (the C2PA manifest's
//! validation state: `invalid`, `valid`, `trusted`, empty without one) come last so that readers
//! by position of the older columns keep working.
//! A path that is not valid UTF-8 is written in lossy form (invalid bytes as U+FFFD); the exact
//! bytes are in `--format json` (`path_hex`). There is no summary row (docs/formats.md).

use std::io::Write;

use super::{Renderer, wording};
use crate::outcome::{Action, FileReport, Summary};

pub const HEADER: [&str; 11] = [
    "path",
    "container",
    "status",
    "effective_policy",
    "action",
    "strategy",
    "bytes_written",
    "notes",
    "error",
    "error_code",
    "c2pa",
];

pub struct Csv {
    out: ::csv::Writer<Box<dyn Write>>,
    started: bool,
}

impl Csv {
    pub fn new(out: Box<dyn Write>) -> Csv {
        Csv {
            out: ::csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            started: false,
        }
    }

    fn header(&mut self) -> std::io::Result<()> {
        if !self.started {
            self.started = true;
            self.out
                .write_record(HEADER)
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

/// The cells of one row, in `HEADER` order.
fn row(r: &FileReport) -> [String; 11] {
    let (strategy, bytes) = match r.action {
        Some(Action::Written {
            strategy, bytes, ..
        }) => (Some(strategy), bytes.to_string()),
        Some(Action::WouldWrite { strategy }) => (Some(strategy), String::new()),
        _ => (None, String::new()),
    };
    [
        r.path.to_string_lossy().into_owned(),
        r.container.map_or("", |c| c.name()).to_string(),
        r.status.name().to_string(),
        r.effective_policy.map_or(String::new(), |p| p.to_string()),
        wording::action_name(r.action).to_string(),
        strategy.map_or("", wording::strategy_name).to_string(),
        bytes,
        r.notes.join("; "),
        r.error.clone().unwrap_or_default(),
        r.error_code.map_or("", |k| k.code()).to_string(),
        r.c2pa.as_ref().map_or("", |s| s.state.name()).to_string(),
    ]
}

impl Renderer for Csv {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        self.header()?;
        self.out.write_record(row(r)).map_err(std::io::Error::other)
    }

    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn quotes_what_needs_quoting() {
        let mut r = FileReport::error(PathBuf::from("a,\"b\"\n.mp3"), None, crate::bad!("x"));
        r.notes = vec!["one".into(), "two, three".into()];
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record(row(&r)).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "\"a,\"\"b\"\"\n.mp3\",,error,,,,,\"one; two, three\",x,corrupt,\n"
        );
    }
}
