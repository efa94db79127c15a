//! The integration tests, one binary by concern: `cli` (flags, config, lists, man pages),
//! `jobs` (what tag/verify/strip promise), `containers` (each container against real tools),
//! `outputs` (the machine formats and reports), `robustness` (broken, hostile and torn files,
//! fuzz regressions, the library generator), `interop` (independent readers, CI systems) and
//! `remote` (`s3://` catalogues against a local S3-compatible server).
//! Helpers are in tests/common/ (shared with the separate binaries). Run one module with
//! `scripts/test --test it jobs::`, one file with `scripts/test --test it robustness::broken::`.
//!
//! Tests here run in parallel threads of one process: none may change the working directory or
//! an environment variable, or use a fixed path outside its own temp dir. A few binaries stay
//! separate, each run alone after this one (cargo runs test binaries one at a time):
//! - tests/attributes.rs: root; creates users and groups, sets trusted.* and security.*
//!   attributes and mounts FUSE file systems whose fsync log the tests read.
//! - tests/disk_full.rs: root; attaches loop devices (a machine-wide resource) and fills their
//!   file systems to the last block; its timing is measured.
//! - tests/journal_safety.rs: creates a system user and sends SIGINT at measured moments of a
//!   run; load from other tests would move those moments.
//! - tests/reflink.rs: root; attaches loop devices with XFS, btrfs and ext4 images and reads
//!   their devices' write counters, which other tests' writes would disturb.
//! - tests/kill_campaign.rs: the quick kill campaign (scripts/kill-campaign), minutes long, with
//!   its own process tree and library.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod containers;
mod interop;
mod jobs;
mod outputs;
mod remote;
mod robustness;
