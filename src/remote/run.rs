//! The state a run with `s3://` paths shares: the settings, the client (built on first use),
//! the sizes the listing gave for objects not read yet, and a run-stopping failure. Also the
//! engine's hook: one object in, one report out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock};

use super::NOT_WRITABLE;
use super::client::{Client, Settings};
use super::location::Location;
use super::object::RemoteObject;
use crate::bad;
use crate::config::{Config, Job};
use crate::error::FileError;
use crate::formats::{self, Source, sniff};
use crate::outcome::FileReport;
use crate::policy;
use crate::shard::Shard;

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();
static FATAL: Mutex<Option<String>> = Mutex::new(None);
/// Size and how many reads are still to come (a key under two roots given is read twice).
static SIZES: OnceLock<Mutex<HashMap<PathBuf, (u64, usize)>>> = OnceLock::new();
static SHARD: OnceLock<Option<Shard>> = OnceLock::new();

/// Takes the `[s3]` settings of the run's noai.toml (the environment overrides them) and its
/// `--shard`.
pub fn configure(cfg: &Config) {
    let _ = SETTINGS.set(Settings::resolve(cfg.s3.as_ref()));
    let _ = SHARD.set(cfg.shard);
}

/// False for an object of another shard: the listing drops it at once, so its size is never
/// kept (the run filters it out too, but would leave the size behind: memory growing with the
/// catalogue).
pub(super) fn in_shard(path: &Path) -> bool {
    SHARD.get().copied().flatten().is_none_or(|s| s.keeps(path))
}

/// The client, built (with its runtime) on first use.
pub(super) fn client() -> Result<&'static Client, String> {
    CLIENT
        .get_or_init(|| {
            let settings = SETTINGS.get().cloned().unwrap_or_default();
            Client::new(settings).map_err(|e| format!("cannot start the S3 client: {e}"))
        })
        .as_ref()
        .map_err(|e| e.clone())
}

/// Sizes from the listing, by report path, until the object is read.
pub(super) fn sizes() -> &'static Mutex<HashMap<PathBuf, (u64, usize)>> {
    SIZES.get_or_init(Default::default)
}

/// The listed size of `path`, forgotten after its last read.
fn take_size(path: &Path) -> Option<u64> {
    let mut sizes = sizes().lock().unwrap_or_else(|e| e.into_inner());
    let (size, left) = sizes.get_mut(path)?;
    let size = *size;
    *left -= 1;
    if *left == 0 {
        sizes.remove(path);
    }
    Some(size)
}

/// Records a problem that stops the run (the first one wins).
pub fn set_fatal(msg: String) {
    let mut f = FATAL.lock().unwrap_or_else(|e| e.into_inner());
    f.get_or_insert(msg);
}

/// `Err` once a root could not be listed: the run stops with exit 2 and that message.
pub fn check() -> anyhow::Result<()> {
    match FATAL.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(msg) => Err(anyhow::anyhow!(msg)),
        None => Ok(()),
    }
}

/// Requests retried so far (for the progress line).
pub fn retries() -> u64 {
    match CLIENT.get() {
        Some(Ok(c)) => c.stats.retries.load(Ordering::Relaxed),
        _ => 0,
    }
}

/// The closing line on standard error: what reading the objects cost on the wire.
pub fn finish(cfg: &Config) {
    let Some(Ok(c)) = CLIENT.get() else { return };
    if cfg.output.quiet {
        return;
    }
    let s = &c.stats;
    let (objects, bytes) = (
        s.objects.load(Ordering::Relaxed),
        s.bytes.load(Ordering::Relaxed),
    );
    eprintln!(
        "noai: s3: {objects} object(s) read with {} request(s), {bytes} bytes ({} per object), {} retried, at {}",
        s.requests.load(Ordering::Relaxed),
        bytes.checked_div(objects).unwrap_or(0),
        s.retries.load(Ordering::Relaxed),
        c.settings.endpoint_name()
    );
}

/// Reads one listed object and reports on it, as `engine::prepare` does for a file.
pub fn inspect(cfg: &Config, path: &Path) -> FileReport {
    let error = |e: FileError| FileReport::error(path.to_path_buf(), None, e);
    if matches!(cfg.job, Job::Tag { .. } | Job::Strip { .. }) {
        return error(bad!(Refused, "{NOT_WRITABLE}"));
    }
    let size = take_size(path);
    let (Some(size), Ok(loc)) = (size, Location::parse(path)) else {
        return error(bad!(NotFound, "not found in the listing"));
    };
    let client = match client() {
        Ok(c) => c,
        Err(msg) => return error(bad!(IoRead, "{msg}")),
    };
    client.stats.objects.fetch_add(1, Ordering::Relaxed);
    let obj = match RemoteObject::open(client, &loc.bucket, &loc.prefix, size) {
        Ok(o) => o,
        Err(f) if f.not_found => return error(bad!(NotFound, "gone: deleted after it was listed")),
        Err(f) => return error(bad!(IoRead, "cannot read: {}", f.msg)),
    };
    let src = Source::over(&obj, size);
    let scan = sniff::container(&src).and_then(|c| formats::scan(&src, c));
    let scan = match scan {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let expected = cfg.job.expected();
    let verdict = policy::evaluate(&scan.carriers, expected);
    let signed = match super::signed::inspect(&src, &scan, &cfg.c2pa.trust) {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let verdict = match &signed {
        Some(s) => policy::join_signed(verdict, s, expected),
        None => verdict,
    };
    FileReport {
        path: path.to_path_buf(),
        container: Some(scan.container),
        status: verdict.status,
        effective_policy: verdict.effective,
        action: None,
        carriers: scan.carriers,
        notes: verdict.notes,
        error: None,
        error_code: None,
        hashes: None,
        c2pa: signed.map(Box::new),
    }
}
