//! `noai report --merge A.json B.json …`: the JSON reports of `--shard` runs joined into the
//! one report a single run would have written: files in path order, counts summed (the peak
//! extra space is the largest), the exit status recomputed from the sums. Reports of different
//! commands or schema versions, or two that list the same file, are refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::outcome::ExitStatus;

/// Reads `inputs`, writes the merged document to `output` (standard output for none or `-`),
/// returns its exit status.
pub fn run(inputs: &[PathBuf], output: Option<&Path>) -> Result<ExitStatus> {
    let mut out: Box<dyn Write> = match output {
        Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        _ => Box::new(std::io::stdout()),
    };
    merge(inputs, &mut out)
}

fn merge(inputs: &[PathBuf], out: &mut dyn Write) -> Result<ExitStatus> {
    if inputs.is_empty() {
        bail!("report --merge needs the JSON reports to merge (from `--format json --shard K/N`)");
    }
    let mut head: Option<(Value, Value, Value)> = None;
    let mut files: Vec<Value> = Vec::new();
    let mut summary = Value::Null;
    for p in inputs {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON report (use --format json)", p.display()))?;
        let this = (
            doc["schema_version"].clone(),
            doc["tool"].clone(),
            doc["command"].clone(),
        );
        match &head {
            None => head = Some(this),
            Some(h) if (&h.0, &h.2) != (&this.0, &this.2) => bail!(
                "{}: a report of `{}` (schema {}), the first is of `{}` (schema {}): only reports of one command merge",
                p.display(),
                this.2,
                this.0,
                h.2,
                h.0
            ),
            Some(_) => {}
        }
        let Some(list) = doc["files"].as_array() else {
            bail!("{}: no `files` list (use --format json)", p.display());
        };
        // Sorted keys, as the reports were written (serde_json keeps insertion order here).
        files.extend(list.iter().cloned().map(crate::report::compact::sorted));
        summary = add(summary, &doc["summary"]);
    }
    files.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    if let Some(w) = files.windows(2).find(|w| path_of(&w[0]) == path_of(&w[1])) {
        bail!(
            "{} is in two of the reports: were they shards of one run?",
            path_of(&w[0])
        );
    }
    let (schema, tool, command) = head.unwrap_or_default();
    writeln!(
        out,
        "{{\n\"schema_version\": {schema},\n\"tool\": {tool},\n\"command\": {command},\n\"files\": ["
    )?;
    for (i, f) in files.iter().enumerate() {
        let comma = if i + 1 < files.len() { "," } else { "" };
        writeln!(out, "  {f}{comma}")?;
    }
    let summary = crate::report::compact::sorted(summary);
    writeln!(
        out,
        "],\n\"summary\": {}\n}}",
        serde_json::to_string_pretty(&summary)?
    )?;
    out.flush()?;
    Ok(status(&summary))
}

fn path_of(f: &Value) -> &str {
    f["path"].as_str().unwrap_or("")
}

/// `a + b` for summaries: numbers summed (`peak_extra_bytes`: the larger), maps merged key by
/// key, `no_audio_files` true only when true in every report.
fn add(a: Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Null, b) => b.clone(),
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, bv) in b {
                let av = a.remove(k).unwrap_or(Value::Null);
                let merged = match (k.as_str(), &av, bv) {
                    ("peak_extra_bytes", Value::Number(x), Value::Number(y)) => {
                        Value::from(x.as_u64().unwrap_or(0).max(y.as_u64().unwrap_or(0)))
                    }
                    (_, Value::Number(x), Value::Number(y)) => {
                        Value::from(x.as_u64().unwrap_or(0) + y.as_u64().unwrap_or(0))
                    }
                    (_, Value::Bool(x), Value::Bool(y)) => Value::Bool(*x && *y),
                    _ => add(av, bv),
                };
                a.insert(k.clone(), merged);
            }
            Value::Object(a)
        }
        (a, _) => a,
    }
}

/// The exit status a single run with these counts would have had.
fn status(summary: &Value) -> ExitStatus {
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    if n("errors") > 0 {
        ExitStatus::Error
    } else if n("findings") > 0 || summary["no_audio_files"] == Value::Bool(true) {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_counts_and_keeps_the_largest_peak() {
        let a: Value = serde_json::from_str(r#"{"files":2,"by_status":{"tagged":2},"peak_extra_bytes":5,"errors":0,"findings":0,"no_audio_files":false}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"files":3,"by_status":{"tagged":1,"untagged":2},"peak_extra_bytes":9,"errors":0,"findings":2,"no_audio_files":false}"#).unwrap();
        let s = add(add(Value::Null, &a), &b);
        assert_eq!(s["files"], 5);
        assert_eq!(
            s["by_status"],
            serde_json::json!({"tagged": 3, "untagged": 2})
        );
        assert_eq!(s["peak_extra_bytes"], 9);
        assert_eq!(status(&s), ExitStatus::Findings);
    }
}
