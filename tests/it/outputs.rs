//! What the output formats give a machine or a person: JUnit, GitHub, CSV, HTML, JSONL and the
//! human report.

mod formats;
mod reports;
