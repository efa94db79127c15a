//! Object storage (issue 18): `verify`, `report` and `show` of `s3://bucket/prefix`, read by
//! bounded range requests instead of downloads (an object holding a C2PA manifest is read
//! whole, as the signature covers it all: `signed`). The walk lists keys (`list`), the engine reads
//! each object through a `formats::Source` over its fetched ranges (`object`), and the format
//! readers run unchanged. Nothing here writes: objects are replaced, never edited, so `tag`
//! and `strip` refuse them. Without the `s3` cargo feature an `s3://` path is an error.
//!
//! The client (`client`) and its tokio runtime are built on the first `s3://` path, so a local
//! run never starts one. A root that cannot be listed (a wrong key, an unreachable endpoint)
//! stops the run with exit 2 (`check`); a problem with one object is that object's report.

pub mod location;

#[cfg(feature = "s3")]
mod client;
#[cfg(feature = "s3")]
mod list;
#[cfg(feature = "s3")]
mod object;
#[cfg(feature = "s3")]
mod signed;

use std::path::Path;

use crate::config::{Config, Job, Roots, WalkOptions};
#[cfg(not(feature = "s3"))]
use crate::report::FileReport;
use crate::walk::Found;

pub use location::is_remote;

/// Why `tag` and `strip` refuse an object, and what to do instead.
pub const NOT_WRITABLE: &str = "objects in storage cannot be tagged or stripped: storage replaces an object whole, it never edits one in place; tag the files before uploading them, or download, tag and upload them again";

/// Refuses `tag`/`strip` of an `s3://` path named on the command line, before anything runs.
pub fn refuse_writes(cfg: &Config) -> anyhow::Result<()> {
    let writes = matches!(cfg.job, Job::Tag { .. } | Job::Strip { .. });
    if let Roots::Paths(paths) = &cfg.walk.roots
        && let Some(p) = paths.iter().find(|p| is_remote(p))
        && writes
    {
        anyhow::bail!("{}: {NOT_WRITABLE}", p.display());
    }
    Ok(())
}

/// The walk of one `s3://` root.
pub fn list(root: &Path, opts: &WalkOptions) -> Box<dyn Iterator<Item = Found>> {
    #[cfg(feature = "s3")]
    return list::list(root, opts);
    #[cfg(not(feature = "s3"))]
    {
        let _ = opts;
        let msg = "this noai was built without object storage (the `s3` cargo feature)";
        Box::new(std::iter::once(Found::Error(
            root.to_path_buf(),
            msg.into(),
        )))
    }
}

#[cfg(feature = "s3")]
mod run;
#[cfg(feature = "s3")]
pub use run::{check, configure, finish, inspect, retries, set_fatal};
#[cfg(feature = "s3")]
use run::{client, in_shard, sizes};

/// Without the feature nothing is listed, so nothing is ever inspected or fatal.
#[cfg(not(feature = "s3"))]
mod off {
    use super::*;
    pub fn configure(_: &Config) {}
    pub fn check() -> anyhow::Result<()> {
        Ok(())
    }
    pub fn finish(_: &Config) {}
    pub fn retries() -> u64 {
        0
    }
    pub fn inspect(_: &Config, path: &Path) -> FileReport {
        FileReport::error(
            path.to_path_buf(),
            None,
            crate::bad!(Unsupported, "built without the s3 feature"),
        )
    }
}
#[cfg(not(feature = "s3"))]
pub use off::{check, configure, finish, inspect, retries};
