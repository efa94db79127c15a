//! `--format json`: one document, `schema_version` first, then the summary and one object per
//! file (schema in docs/json.md). Paths that are not valid UTF-8 also carry `path_hex`.

use std::io::Write;

use super::{FileReport, Renderer, Summary, paths};
use crate::config::Config;

pub const SCHEMA_VERSION: u32 = 1;

pub struct Json;

impl Renderer for Json {
    fn render(
        &self,
        out: &mut dyn Write,
        cfg: &Config,
        files: &[FileReport],
        s: &Summary,
    ) -> std::io::Result<()> {
        let files: Vec<serde_json::Value> = files.iter().map(file_value).collect();
        let doc = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "tool": { "name": "noai", "version": env!("CARGO_PKG_VERSION") },
            "command": cfg.job.name(),
            "summary": s,
            "files": files,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

pub fn file_value(r: &FileReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    if let (Some(hex), Some(obj)) = (paths::hex(&r.path), v.as_object_mut()) {
        obj.insert("path_hex".into(), hex.into());
    }
    v
}
