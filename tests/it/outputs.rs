//! What the output formats give a machine or a person: JUnit, GitHub, CSV, HTML, JSONL and the
//! human report, error codes, snapshots of every format, terminal-safe text.

mod error_codes;
mod formats;
mod reports;
mod snapshots;
mod terminal;
