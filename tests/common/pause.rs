//! The debug-build pause between staging and applying (`NOAI_TEST_PAUSE_MS`), signalled by a
//! flag file (`NOAI_TEST_PAUSED`): the run creates the file when the pause begins and ends the
//! pause early when the test removes it. Tests wait for the flag and resume the run themselves
//! instead of sleeping a guessed time, which a loaded CI machine can outlast either way (the
//! run not yet staged, or the pause already over).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a run holds unless the test resumes it or interrupts it first.
const HOLD_MS: u64 = 60_000;

pub struct Pause {
    _dir: TempDir,
    flag: PathBuf,
}

impl Default for Pause {
    fn default() -> Self {
        Self::new()
    }
}

impl Pause {
    /// A flag in its own temp dir (never inside the library the run walks).
    pub fn new() -> Self {
        let dir = super::tempdir();
        let flag = dir.path().join("paused");
        Pause { _dir: dir, flag }
    }

    /// Makes `cmd` hold in the pause (up to `HOLD_MS`) and signal it through this flag.
    pub fn on<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("NOAI_TEST_PAUSE_MS", HOLD_MS.to_string())
            .env("NOAI_TEST_PAUSED", &self.flag)
    }

    /// Returns once the run holds in the pause: everything staged, journaled and synced, nothing
    /// applied. Fails if the run ended first or did not get there in 60 s.
    pub fn wait(&self, child: &mut Child) {
        let start = Instant::now();
        while !self.flag.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the run ended ({status}) before its pause");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the run did not reach its pause in 60 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Ends the pause: the run goes on to apply its writes.
    pub fn resume(&self) {
        std::fs::remove_file(&self.flag).expect("the pause flag is gone already");
    }
}
