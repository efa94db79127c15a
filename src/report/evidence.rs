//! `tag --evidence FILE`: an append-only JSON-lines log, one line per written file, with the UTC
//! time, the path, the policy and fields written, and SHA-256 hashes of the whole file before and
//! after and of its audio payload — the dated proof of when the reservation was present.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::{Action, FileReport, paths};
use crate::config::{Config, Job};

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
            "time": utc_now(),
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
        serde_json::to_writer(&mut self.out, &line)?;
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

/// The current UTC time as RFC 3339 (`2026-11-26T20:51:26Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the epoch (civil-from-days, proleptic Gregorian).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_725_086), "2026-11-26T20:31:26Z");
    }
}
