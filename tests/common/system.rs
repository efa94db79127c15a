//! Helpers for tests that need the system's cooperation: root, test users and groups (created
//! with useradd/groupadd when missing), running `noai` as one of them with `setpriv`, and a
//! logging FUSE file system (tests/common/logfs.py) mounted for one test.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{Run, output_within};

/// True when running as root. Otherwise: under `CI=true` the test fails (CI runs as root, so a
/// skip there would hide a regression); elsewhere it says why it skips.
pub fn is_root(test: &str) -> bool {
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test} needs root (it creates users, sets trusted.* attributes or mounts FUSE); CI runs the tests as root"
    );
    eprintln!("{test}: skipped: needs root (CI runs it as root)");
    false
}

/// A command that must succeed; its output as text.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = output_within(cmd, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A test user: name, uid and primary gid.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// The group both test users are in, and the users.
pub struct Accounts {
    pub share_gid: u32,
    pub alice: User,
    pub bob: User,
}

pub const SHARE: &str = "noai-share";

/// Creates (once per process, when missing) group `noai-share` and users `noai-alice` and
/// `noai-bob`, each with an own primary group and a member of `noai-share`.
pub fn accounts() -> &'static Accounts {
    static A: OnceLock<Accounts> = OnceLock::new();
    A.get_or_init(|| {
        let exists = |db: &str, name: &str| {
            Command::new("getent")
                .args([db, name])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !exists("group", SHARE) {
            run_ok(Command::new("groupadd").arg(SHARE));
        }
        let user = |name: &str| {
            if !exists("passwd", name) {
                run_ok(Command::new("useradd").args([
                    "-M",
                    "-U",
                    "-s",
                    "/usr/sbin/nologin",
                    "-G",
                    SHARE,
                    name,
                ]));
            }
            let id = |flag: &str| run_ok(Command::new("id").args([flag, name])).trim().parse();
            User {
                name: name.to_string(),
                uid: id("-u").unwrap(),
                gid: id("-g").unwrap(),
            }
        };
        let share_gid = run_ok(Command::new("getent").args(["group", SHARE]))
            .split(':')
            .nth(2)
            .and_then(|g| g.trim().parse().ok())
            .expect("getent group: no gid");
        Accounts {
            share_gid,
            alice: user("noai-alice"),
            bob: user("noai-bob"),
        }
    })
}

/// A copy of the `noai` binary another user may run (cargo's target dir may not be reachable).
/// Returns once the copy can be run: a process another test thread forked while the copy was
/// open for writing holds it open until that process execs, and running the copy meanwhile
/// fails with "Text file busy".
pub fn shared_binary(dir: &Path) -> PathBuf {
    let bin = dir.join("noai");
    std::fs::copy(env!("CARGO_BIN_EXE_noai"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = Instant::now();
    loop {
        match Command::new(&bin).arg("--version").output() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                assert!(start.elapsed() < Duration::from_secs(60), "{e}");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("cannot run {}: {e}", bin.display()),
            Ok(_) => return bin,
        }
    }
}

/// Runs `bin <args>` as `user` (real and effective ids, with the user's groups).
pub fn noai_as(user: &User, bin: &Path, cwd: &Path, args: &[&str]) -> Run {
    let out = output_within(
        Command::new("setpriv")
            .arg(format!("--reuid={}", user.uid))
            .arg(format!("--regid={}", user.gid))
            .arg("--init-groups")
            .arg("--")
            .arg(bin)
            .args(args)
            .current_dir(cwd)
            .env("HOME", cwd)
            .env("NO_COLOR", "1"),
        Duration::from_secs(60),
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

pub fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

/// The logging FUSE passthrough of tests/common/logfs.py over `root`, mounted at `mnt`;
/// unmounted (and its daemon stopped) when dropped, also when the test fails.
pub struct LogFs {
    pub root: PathBuf,
    pub mnt: PathBuf,
    /// One line per fsync/fsyncdir the daemon received.
    pub log: PathBuf,
    /// While this file exists every fsync fails with EIO.
    pub fail: PathBuf,
    /// While this file exists every hard link is refused with EPERM.
    pub nolink: PathBuf,
    /// While this file exists no file may grow by a truncate (EPERM).
    pub notrunc: PathBuf,
    daemon: Child,
}

impl LogFs {
    pub fn mount(dir: &Path) -> LogFs {
        let (root, mnt) = (dir.join("root"), dir.join("mnt"));
        std::fs::create_dir(&root).unwrap();
        std::fs::create_dir(&mnt).unwrap();
        assert!(
            Path::new("/dev/fuse").exists(),
            "/dev/fuse is missing: the FUSE tests need it (a container needs --device /dev/fuse)"
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/logfs.py");
        let (log, fail) = (dir.join("fsync.log"), dir.join("fail-fsync"));
        let daemon = Command::new("/usr/bin/python3")
            .arg(script)
            .args([&root, &mnt, &log, &fail])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start /usr/bin/python3 for the FUSE daemon: {e}"));
        let nolink = dir.join("fail-fsync.nolink");
        let notrunc = dir.join("fail-fsync.notrunc");
        let mut fs = LogFs {
            root,
            mnt,
            log,
            fail,
            nolink,
            notrunc,
            daemon,
        };
        fs.wait_mounted();
        fs
    }

    fn wait_mounted(&mut self) {
        let start = Instant::now();
        let want = format!(" {} ", self.mnt.display());
        loop {
            let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
            if info
                .lines()
                .any(|l| l.contains(&want) && l.contains("fuse"))
            {
                return;
            }
            if let Ok(Some(status)) = self.daemon.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.daemon.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!(
                    "the FUSE daemon (python3-fusepy, fuse3) exited ({status}) before mounting: {err}\ninstall them with scripts/test"
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the FUSE file system was not mounted within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The fsync/fsyncdir log so far, and a fresh start for the next run.
    pub fn take_log(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        s
    }
}

impl Drop for LogFs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.mnt)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("fusermount3")
                .arg("-u")
                .arg(&self.mnt)
                .status();
            let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
        }
        let start = Instant::now();
        while matches!(self.daemon.try_wait(), Ok(None)) {
            if start.elapsed() > Duration::from_secs(5) {
                let _ = self.daemon.kill();
                let _ = self.daemon.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
