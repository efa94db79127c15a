//! A rewrite keeps the file's inode flags (what `lsattr` shows; set and read here with
//! e2fsprogs' `chattr` and `lsattr`, not noai's code) on loop-mounted ext4, XFS and btrfs
//! images (root; CI runs as root): `d` (backup tools skip the file), `A`, `S` and, on btrfs, `C`
//! (no copy-on-write, which btrfs takes only on an empty file). A file without `C` in a btrfs
//! folder that gives new files `C` does not gain it either.

use crate::common;
use common::loopfs::LoopFs;
use common::system::{is_root, run_ok};
use common::{action, assert_tagged, noai_json};

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Samples that need a rewrite.
const REWRITTEN: [&str; 2] = ["mp3-noid3.mp3", "flac-nopad.flac"];

/// The flags `lsattr` shows for `p`, but `e` (ext4's extents, the file system's own).
fn lsattr(p: &Path) -> BTreeSet<char> {
    let out = run_ok(Command::new("lsattr").arg(p));
    let field = out.split_whitespace().next().unwrap_or_default();
    field.chars().filter(|c| !matches!(c, '-' | 'e')).collect()
}

/// `sample` copied to `dir` through an empty file that got `flags` first (btrfs takes `C` only
/// on an empty file).
fn flagged_copy(dir: &Path, sample: &str, flags: &str) -> std::path::PathBuf {
    let f = dir.join(sample);
    std::fs::File::create(&f).unwrap();
    run_ok(Command::new("chattr").arg(format!("+{flags}")).arg(&f));
    let bytes = std::fs::read(Path::new(common::SAMPLES).join(sample)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .and_then(|mut w| std::io::Write::write_all(&mut w, &bytes))
        .unwrap();
    f
}

#[test]
fn a_rewrite_keeps_the_files_inode_flags() {
    if !is_root("a_rewrite_keeps_the_files_inode_flags") {
        return;
    }
    let on: [(&str, &[&str], &str); 3] = [
        ("ext4", &["mkfs.ext4", "-q", "-F"], "dAS"),
        ("xfs", &["mkfs.xfs", "-q", "-f", "-m", "reflink=1"], "dAS"),
        ("btrfs", &["mkfs.btrfs", "-q", "-f"], "dASC"),
    ];
    for (name, mkfs, flags) in on {
        let fs = LoopFs::with(mkfs, 320);
        let files: Vec<_> = REWRITTEN
            .iter()
            .map(|s| flagged_copy(&fs.mnt, s, flags))
            .collect();
        let want: BTreeSet<char> = flags.chars().collect();
        for f in &files {
            assert_eq!(lsattr(f), want, "{name}: chattr did not set them");
        }
        let doc = noai_json(&["tag", fs.mnt.to_str().unwrap()], 0);
        for (f, s) in files.iter().zip(REWRITTEN) {
            assert_eq!(action(&doc, s), ("written".into(), "rewrite".into()));
            assert_eq!(lsattr(f), want, "{name}: {s} lost or gained flags");
            assert_tagged(f);
        }
    }
}

#[test]
fn a_rewrite_in_a_nocow_btrfs_folder_does_not_gain_nocow() {
    if !is_root("a_rewrite_in_a_nocow_btrfs_folder_does_not_gain_nocow") {
        return;
    }
    let fs = LoopFs::with(&["mkfs.btrfs", "-q", "-f"], 320);
    let dir = fs.mnt.join("album");
    std::fs::create_dir(&dir).unwrap();
    let files: Vec<_> = REWRITTEN
        .iter()
        .map(|s| flagged_copy(&dir, s, "d"))
        .collect();
    // From now on, new files in the folder (noai's temp files too) are born with `C`.
    run_ok(Command::new("chattr").arg("+C").arg(&dir));
    let doc = noai_json(&["tag", dir.to_str().unwrap()], 0);
    for (f, s) in files.iter().zip(REWRITTEN) {
        assert_eq!(action(&doc, s), ("written".into(), "rewrite".into()));
        assert_eq!(lsattr(f), BTreeSet::from(['d']), "{s}");
    }
}
