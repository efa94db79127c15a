//! A small file system in an image file (ext4 by default; XFS with reflink, btrfs…), attached
//! to a loop device and mounted for one test (root only): the place to fill a disk without
//! touching the machine's own, or to count what its device wrote (`/sys/block/loopN/stat`). Dropping it
//! unmounts and detaches, also when the test failed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::system::run_ok;

/// Held while a device is attached and mounted, or unmounted and detached.
static ATTACH: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub struct LoopFs {
    pub mnt: PathBuf,
    device: String,
    _dir: tempfile::TempDir,
}

impl LoopFs {
    /// An ext4 file system of `mib` MiB without reserved blocks (root then sees what a user
    /// sees: free space is what `statvfs` calls available).
    pub fn new(mib: u64) -> LoopFs {
        LoopFs::with(&["mkfs.ext4", "-q", "-F", "-m", "0"], mib)
    }

    /// `mkfs` (program and options; the image path is appended) on a `mib` MiB image.
    pub fn with(mkfs: &[&str], mib: u64) -> LoopFs {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disk.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        run_ok(Command::new(mkfs[0]).args(&mkfs[1..]).arg(&img));
        // One attach at a time in this process: parallel tests must not race for a free device.
        let _one = ATTACH.lock().unwrap_or_else(|e| e.into_inner());
        let device = run_ok(Command::new("losetup").args(["--find", "--show"]).arg(&img))
            .trim()
            .to_string();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let fs = LoopFs {
            mnt,
            device,
            _dir: dir,
        };
        run_ok(Command::new("mount").arg(&fs.device).arg(&fs.mnt));
        fs
    }

    /// Unmounts the file system, runs `f` on its device (e.g. `debugfs -w`, which must not
    /// change a mounted file system), and mounts it again.
    pub fn offline(&self, f: impl FnOnce(&str)) {
        run_ok(Command::new("umount").arg(&self.mnt));
        f(&self.device);
        run_ok(Command::new("mount").arg(&self.device).arg(&self.mnt));
    }

    /// Bytes the loop device has written since it was attached (field 7 of its `stat`: sectors
    /// of 512 bytes), after a `sync` of the file system.
    pub fn bytes_written(&self) -> u64 {
        run_ok(Command::new("sync").arg("-f").arg(&self.mnt));
        let name = Path::new(&self.device).file_name().unwrap();
        let stat =
            std::fs::read_to_string(Path::new("/sys/block").join(name).join("stat")).unwrap();
        let sectors: u64 = stat.split_whitespace().nth(6).unwrap().parse().unwrap();
        sectors * 512
    }

    /// Bytes the loop device has read since it was attached (field 3 of its `stat`).
    pub fn bytes_read(&self) -> u64 {
        let name = Path::new(&self.device).file_name().unwrap();
        let stat =
            std::fs::read_to_string(Path::new("/sys/block").join(name).join("stat")).unwrap();
        let sectors: u64 = stat.split_whitespace().nth(2).unwrap().parse().unwrap();
        sectors * 512
    }

    /// Bytes free for a writer, as `df` shows them.
    pub fn free(&self) -> u64 {
        free_bytes(&self.mnt)
    }

    /// Writes `filler` files until the free space is at most `left` bytes (zero: until the
    /// file system refuses another byte).
    pub fn fill_to(&self, left: u64) {
        use std::io::Write;
        let block = vec![0u8; 1 << 20];
        for i in 0.. {
            let free = self.free();
            if free <= left || (left == 0 && i > 1000) {
                break;
            }
            let mut f = std::fs::File::create(self.mnt.join(format!("filler-{i}"))).unwrap();
            let mut want = free - left;
            let full = loop {
                let n = want.min(block.len() as u64) as usize;
                if n == 0 {
                    break false;
                }
                match f.write(&block[..n]) {
                    Ok(w) => want -= w as u64,
                    Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break true,
                    Err(e) => panic!("filling the test disk: {e}"),
                }
            };
            let _ = f.sync_all();
            if full {
                break;
            }
        }
    }

    /// Removes the filler: the space it held is free again.
    pub fn unfill(&self) {
        for e in std::fs::read_dir(&self.mnt).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("filler-") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
        run_ok(Command::new("sync").arg("-f").arg(&self.mnt));
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        let _one = ATTACH.lock().unwrap_or_else(|e| e.into_inner());
        let umount = Command::new("umount").arg(&self.mnt).status();
        if !umount.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
        }
        let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
    }
}

pub fn free_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs with a valid C string and a zeroed struct it fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0, "statvfs");
    st.f_bavail as u64 * st.f_frsize as u64
}

/// True when `filefrag -v` lists an extent of `path` flagged `shared` (a reflinked extent).
pub fn has_shared_extent(path: &Path) -> bool {
    run_ok(Command::new("filefrag").arg("-v").arg(path)).contains("shared")
}

/// A file's extents as `filefrag -v` lists them: first and last logical block, and whether
/// the extent is shared with another file.
pub fn extents(path: &Path) -> Vec<(u64, u64, bool)> {
    let out = run_ok(Command::new("filefrag").arg("-v").arg(path));
    // Extent lines: "   N:   first..  last:   physical..: length: [expected:] flags"
    out.lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let (logical, rest) = rest.split_once(':')?;
            let (a, b) = logical.trim().split_once("..")?;
            let shared = rest.contains("shared");
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?, shared))
        })
        .collect()
}
