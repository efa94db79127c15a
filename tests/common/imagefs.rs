//! A file system of any kind (`mkfs.xfs -m reflink=1`, `mkfs.btrfs`, `mkfs.ext4`) in a sparse
//! image file, attached to a loop device and mounted for one test (root only), with the bytes
//! its device has written so far (`/sys/block/loopN/stat`). Dropping it unmounts and detaches,
//! also when the test failed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::system::run_ok;

pub struct ImageFs {
    pub mnt: PathBuf,
    device: String,
    _dir: tempfile::TempDir,
}

impl ImageFs {
    /// `mkfs` (program and options; the image path is appended) on a `mib` MiB image.
    pub fn new(mkfs: &[&str], mib: u64) -> ImageFs {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disk.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        run_ok(Command::new(mkfs[0]).args(&mkfs[1..]).arg(&img));
        let device = run_ok(Command::new("losetup").args(["--find", "--show"]).arg(&img))
            .trim()
            .to_string();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let fs = ImageFs {
            mnt,
            device,
            _dir: dir,
        };
        run_ok(Command::new("mount").arg(&fs.device).arg(&fs.mnt));
        fs
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
}

impl Drop for ImageFs {
    fn drop(&mut self) {
        let umount = Command::new("umount").arg(&self.mnt).status();
        if !umount.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
        }
        let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
    }
}

/// True when `filefrag -v` lists an extent of `path` flagged `shared` (a reflinked extent).
pub fn has_shared_extent(path: &Path) -> bool {
    run_ok(Command::new("filefrag").arg("-v").arg(path)).contains("shared")
}
