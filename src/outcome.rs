//! Results as data: one `FileReport` per file, a `Summary` of a run, and the `ExitStatus` they
//! imply. The engine produces them and the renderers in `report` turn them into text; this
//! module knows neither the command line nor the configuration, so the engine depends on
//! nothing above it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, FileError};
use crate::model::{Carrier, Container, Signed, Strategy};
use crate::policy::{Policy, Status};

/// What a writing job did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Action {
    /// Written: in place or by rewrite, `bytes` written to the file system; `cloned`: a
    /// rewrite that shares the original's unchanged extents (reflink) instead of copying them.
    Written {
        strategy: Strategy,
        bytes: u64,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        cloned: bool,
    },
    /// `--dry-run`: would be written this way.
    WouldWrite { strategy: Strategy },
    /// Already as wanted: not opened for writing.
    Unchanged,
    /// Left alone: carries a different policy (or a conflict/invalid set) and no `--force`.
    Refused,
}

/// The outcome for one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub container: Option<Container>,
    pub status: Status,
    pub effective_policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    pub carriers: Vec<Carrier>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of `error`, as its stable code (`corrupt`, `busy`, …; see `ErrorKind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorKind>,
    /// SHA-256 hashes around a write, with `tag --evidence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    /// The file's C2PA manifest store, validated (issue 17); absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<Box<Signed>>,
}

/// Hex SHA-256 of the whole file before and after a write, and of its audio payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Hashes {
    pub before: String,
    pub after: String,
    pub payload: String,
}

/// Serialises a path as its UTF-8 text, with invalid bytes replaced by U+FFFD (the JSON renderer
/// adds the exact bytes as `path_hex`).
fn serialize_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// True for a readable audio file without a passing reservation (`report --untagged-only`).
pub fn lacks_reservation(r: &FileReport) -> bool {
    !matches!(r.status, Status::Tagged | Status::Error)
}

impl FileReport {
    pub fn error(path: PathBuf, container: Option<Container>, e: FileError) -> FileReport {
        let mut r = FileReport {
            path,
            container,
            status: Status::Error,
            effective_policy: None,
            action: None,
            carriers: Vec::new(),
            notes: Vec::new(),
            error: None,
            error_code: None,
            hashes: None,
            c2pa: None,
        };
        r.fail(e);
        r
    }

    /// Makes this an error report: the file's status becomes `error`, with `e`'s sentence and
    /// code.
    pub fn fail(&mut self, e: FileError) {
        self.status = Status::Error;
        self.error_code = Some(e.kind());
        self.error = Some(e.into_message());
    }

    /// True when this file makes the run exit 1 (a finding).
    pub fn is_finding(&self) -> bool {
        match self.action {
            Some(Action::WouldWrite { .. } | Action::Refused) => true,
            Some(Action::Written { .. } | Action::Unchanged) => false,
            None => self.status.is_finding(),
        }
    }
}

/// Counts for the whole run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_container: BTreeMap<&'static str, usize>,
    pub written_in_place: usize,
    pub rewritten: usize,
    /// Rewrites that cloned the original's unchanged extents instead of copying them.
    pub cloned: usize,
    pub would_write: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub bytes_written: u64,
    /// The most extra space (temp files, undo journals) one write batch held on one file
    /// system; for `--dry-run`, would hold with the space free now.
    pub peak_extra_bytes: u64,
    pub skipped: BTreeMap<&'static str, usize>,
    pub recovered: usize,
    pub errors: usize,
    pub findings: usize,
    /// `verify`/`report` found no audio file at all (a finding unless `--allow-empty`).
    pub no_audio_files: bool,
}

impl Summary {
    pub fn add(&mut self, r: &FileReport) {
        self.files += 1;
        *self.by_status.entry(r.status.name()).or_default() += 1;
        if let Some(c) = r.container {
            *self.by_container.entry(c.name()).or_default() += 1;
        }
        match r.action {
            Some(Action::Written {
                strategy: Strategy::InPlace,
                bytes,
                ..
            }) => {
                self.written_in_place += 1;
                self.bytes_written += bytes;
            }
            Some(Action::Written {
                strategy: Strategy::Rewrite,
                bytes,
                cloned,
            }) => {
                self.rewritten += 1;
                self.cloned += usize::from(cloned);
                self.bytes_written += bytes;
            }
            Some(Action::WouldWrite { .. }) => self.would_write += 1,
            Some(Action::Unchanged) => self.unchanged += 1,
            Some(Action::Refused) => self.refused += 1,
            None => {}
        }
        if r.status == Status::Error {
            self.errors += 1;
        } else if r.is_finding() {
            self.findings += 1;
        }
    }

    /// Counts an entry the walk skipped, by its reason (`not-audio`, `symlink`, …).
    pub fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    pub fn exit_status(&self) -> ExitStatus {
        if self.errors > 0 {
            ExitStatus::Error
        } else if self.findings > 0 || self.no_audio_files {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        }
    }
}

/// The process exit code (DESIGN.md): an error outranks findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Findings = 1,
    Error = 2,
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    Interrupted = 130,
}
