//! `--format json`: one document (`schema_version`, `tool`, `command`, `files`, `summary`);
//! `--format jsonl`: one object per line, `"type": "file"` for each file as it is done, then one
//! `"type": "summary"`. Both stream: nothing but the summary is kept in memory. Paths that are not
//! valid UTF-8 also carry `path_hex` (schema in docs/json.md).

use std::io::Write;

use super::{Renderer, compact, paths};
use crate::config::Config;
use crate::outcome::{FileReport, Summary};

/// 2: carriers list only the reservation's fields unless `--all-fields` (`other_fields` counts
/// the rest), and pictures and long values are summarised.
pub const SCHEMA_VERSION: u32 = 2;

pub struct Json {
    out: Box<dyn Write>,
    lines: bool,
    command: &'static str,
    started: bool,
    all_fields: bool,
}

impl Json {
    pub fn new(cfg: &Config, out: Box<dyn Write>, lines: bool) -> Json {
        Json {
            out,
            lines,
            command: cfg.job.name(),
            started: false,
            all_fields: cfg.output.all_fields,
        }
    }

    fn header(&mut self) -> std::io::Result<()> {
        if !self.started && !self.lines {
            let tool = serde_json::json!({ "name": "noai", "version": env!("CARGO_PKG_VERSION") });
            write!(
                self.out,
                "{{\n\"schema_version\": {SCHEMA_VERSION},\n\"tool\": {tool},\n\"command\": \"{}\",\n\"files\": [",
                self.command
            )?;
        }
        Ok(())
    }
}

impl Renderer for Json {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        self.header()?;
        let mut v = file_value(r, self.all_fields);
        if self.lines {
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), "file".into());
            }
            serde_json::to_writer(&mut self.out, &v)?;
            writeln!(self.out)
        } else {
            let sep = if self.started { "," } else { "" };
            self.started = true;
            write!(self.out, "{sep}\n  ")?;
            serde_json::to_writer(&mut self.out, &v).map_err(std::io::Error::from)
        }
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        if self.lines {
            let mut v = serde_json::to_value(s)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), "summary".into());
                o.insert("schema_version".into(), SCHEMA_VERSION.into());
                o.insert("command".into(), self.command.into());
            }
            sort_keys(&mut v);
            serde_json::to_writer(&mut self.out, &v)?;
            writeln!(self.out)?;
        } else {
            self.header()?;
            write!(self.out, "\n],\n\"summary\": ")?;
            serde_json::to_writer_pretty(&mut self.out, s)?;
            writeln!(self.out, "\n}}")?;
        }
        self.out.flush()
    }
}

pub fn file_value(r: &FileReport, all_fields: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let carriers = compact::carriers_json(&r.carriers, all_fields);
        obj.insert("carriers".into(), carriers);
        if let Some(hex) = paths::hex(&r.path) {
            obj.insert("path_hex".into(), hex.into());
        }
    }
    sort_keys(&mut v);
    v
}

/// Keys in sorted order, as the output has always had them: a dependency (c2pa) turns on
/// serde_json's `preserve_order`, which would otherwise print them in insertion order.
pub fn sort_keys(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            o.sort_keys();
            o.values_mut().for_each(sort_keys);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
