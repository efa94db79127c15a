//! `tag --evidence FILE`: an append-only JSON-lines log, one line per written file, with the UTC
//! time, the path, the policy and fields written, and SHA-256 hashes of the whole file before and
//! after and of its audio payload — the dated proof of when the reservation was present.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::paths;
use crate::config::{Config, Job};
use crate::outcome::{Action, FileReport};

pub struct Log {
    out: BufWriter<File>,
}

impl Log {
    /// Opens (creating) the log for appending; fails before any file is touched.
    pub fn open(path: &Path) -> Result<Log> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the evidence log {}", path.display()))?;
        Ok(Log {
            out: BufWriter::new(f),
        })
    }

    /// Appends a line for `r` if it was written.
    pub fn record(&mut self, cfg: &Config, r: &FileReport) -> Result<()> {
        let (Some(Action::Written { strategy, .. }), Some(h), Job::Tag { wanted, .. }) =
            (r.action, &r.hashes, &cfg.job)
        else {
            return Ok(());
        };
        let fields: serde_json::Map<String, serde_json::Value> = wanted
            .fields()
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
        let mut line = serde_json::json!({
            "time": super::clock::utc_now(),
            "path": r.path.to_string_lossy(),
            "policy": wanted.policy.name(),
            "fields": fields,
            "strategy": strategy,
            "sha256_before": h.before,
            "sha256_after": h.after,
            "audio_sha256": h.payload,
        });
        if let Some(hex) = paths::hex(&r.path) {
            line["path_hex"] = hex.into();
        }
        serde_json::to_writer(&mut self.out, &super::compact::sorted(line))?;
        writeln!(self.out)?;
        Ok(())
    }

    /// Flushes and syncs the log: evidence that is not durable is not evidence.
    pub fn close(mut self) -> Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok(())
    }
}
