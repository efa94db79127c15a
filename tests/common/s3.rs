//! A real S3-compatible server for the object-storage tests: `s3s-fs` (installed by
//! scripts/test) on 127.0.0.1 and a free port, checking SigV4 signatures, serving a temp
//! folder in which `<bucket>/<key>` is a plain file. Killed by its PID when dropped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEY: &str = "noai-test-key";
pub const SECRET: &str = "noai-test-secret-do-not-print";

pub struct S3Server {
    child: Child,
    pub port: u16,
    pub root: tempfile::TempDir,
    /// The server's request log (its debug output), in a folder of its own, not under `root`.
    log: tempfile::TempDir,
}

/// Where scripts/test installs s3s-fs (`cargo install --root`), unless `NOAI_S3S_FS` names it.
pub fn s3s_fs() -> PathBuf {
    if let Some(p) = std::env::var_os("NOAI_S3S_FS") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    let cached = Path::new(&home).join(".cache/noai-tools/bin/s3s-fs");
    if cached.exists() {
        return cached;
    }
    PathBuf::from("s3s-fs")
}

impl S3Server {
    /// Starts s3s-fs on a free port. The port is free when asked for but may be taken before
    /// the server binds it (tests run in parallel): a server that exits is started again on
    /// another port, and one that answers must be ours (its PID still running).
    pub fn start() -> S3Server {
        for _ in 0..5 {
            if let Some(server) = Self::try_start() {
                return server;
            }
        }
        panic!("s3s-fs did not start on any of 5 free ports");
    }

    fn try_start() -> Option<S3Server> {
        let root = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("no free port")
            .port();
        let bin = s3s_fs();
        let log = tempfile::tempdir().expect("temp dir");
        let out = std::fs::File::create(log.path().join("requests")).expect("log file");
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", KEY, "--secret-key", SECRET])
            .arg(root.path())
            .env("RUST_LOG", "s3s::service=debug")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): the object-storage tests need s3s-fs 0.14.1; scripts/test installs it",
                    bin.display()
                )
            });
        let mut server = S3Server {
            child,
            port,
            root,
            log,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(_)) = server.child.try_wait() {
                return None; // the port was taken first
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "s3s-fs did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Someone else's listener may have answered while ours was failing to bind.
        std::thread::sleep(Duration::from_millis(50));
        match server.child.try_wait() {
            Ok(None) => Some(server),
            _ => None,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until the server has answered with a body containing `needle` (its log of each
    /// request and response): a test knows what a client has seen instead of guessing a delay.
    pub fn wait_for_response(&self, needle: &str) {
        let start = Instant::now();
        let log = self.log.path().join("requests");
        while !std::fs::read_to_string(&log).is_ok_and(|l| {
            l.lines()
                .any(|line| line.contains("resp: Response") && line.contains(needle))
        }) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no response with {needle:?} from s3s-fs in 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The file that is object `key` of `bucket` (the bucket's folder is created).
    pub fn object(&self, bucket: &str, key: &str) -> PathBuf {
        let p = self.root.path().join(bucket).join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }

    /// Puts a copy of every file under `from` into `bucket` below `prefix`.
    pub fn upload_tree(&self, from: &Path, bucket: &str, prefix: &str) {
        for e in walkdir::WalkDir::new(from)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(from).unwrap();
                let key = format!("{prefix}{}", rel.to_str().unwrap());
                std::fs::copy(e.path(), self.object(bucket, &key)).unwrap();
            }
        }
    }

    /// `noai ARGS` with the AWS variables pointing at this server (`secret` may be wrong).
    pub fn noai(&self, args: &[&str], secret: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_noai"));
        cmd.args(args)
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ALLOW_HTTP", "true")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE");
        cmd
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local port nothing answers on, for as long as this lives: a socket bound to it without
/// listening, so a connection is refused and no other test can take the port meanwhile.
pub struct ClosedPort {
    fd: i32,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        // SAFETY: plain socket calls on a zeroed sockaddr_in of the right size; the fd is ours.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let ptr = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(libc::bind(fd, ptr, size), 0, "bind");
            let mut len = size;
            assert_eq!(libc::getsockname(fd, ptr, &mut len), 0, "getsockname");
            ClosedPort {
                fd,
                port: u16::from_be(addr.sin_port),
            }
        }
    }
}

impl Default for ClosedPort {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ClosedPort {
    fn drop(&mut self) {
        // SAFETY: closes the socket this value owns, once.
        unsafe { libc::close(self.fd) };
    }
}
