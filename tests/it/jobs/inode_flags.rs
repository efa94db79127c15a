//! A rewrite keeps the file's inode flags (what `lsattr` shows; set and read here with
//! e2fsprogs' `chattr` and `lsattr`, not noai's code) on loop-mounted ext4, XFS and btrfs
//! images (root; CI runs as root): `d` (backup tools skip the file), `A`, `S` and, on btrfs, `C`
//! (no copy-on-write, which btrfs takes only on an empty file). A file without `C` in a btrfs
//! folder that gives new files `C` does not gain it either; btrfs's `c` and `C` swap; data
//! journaling (`j`) a folder gives new files, which only CAP_SYS_RESOURCE may clear, does not
//! stop a user's rewrite; an immutable or append-only file is refused before any work.

use crate::common;
use common::loopfs::LoopFs;
use common::system::{accounts, chown, is_root, noai_as, run_ok, shared_binary};
use common::{action, assert_tagged, noai_json};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Samples that need a rewrite.
const REWRITTEN: [&str; 2] = ["mp3-noid3.mp3", "flac-nopad.flac"];

/// The flags `lsattr -d` shows for the file or folder `p`, but `e` (ext4's extents, the file
/// system's own).
fn lsattr(p: &Path) -> BTreeSet<char> {
    let out = run_ok(Command::new("lsattr").arg("-d").arg(p));
    let field = out.split_whitespace().next().unwrap_or_default();
    field.chars().filter(|c| !matches!(c, '-' | 'e')).collect()
}

/// `sample` copied to `dir` through an empty file that got `flags` first (btrfs takes `C` only
/// on an empty file).
fn flagged_copy(dir: &Path, sample: &str, flags: &str) -> PathBuf {
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

/// The rewrite samples copied into `dir` with `flags`.
fn flagged_files(dir: &Path, flags: &str) -> Vec<PathBuf> {
    REWRITTEN
        .iter()
        .map(|s| flagged_copy(dir, s, flags))
        .collect()
}

/// `noai tag DIR` rewrites each of `files` (the samples, in order), which then shows exactly
/// the flags `want`.
fn tag_and_check(dir: &Path, files: &[PathBuf], want: &str, what: &str) {
    let doc = noai_json(&["tag", dir.to_str().unwrap()], 0);
    let want: BTreeSet<char> = want.chars().collect();
    for (f, s) in files.iter().zip(REWRITTEN) {
        assert_eq!(action(&doc, s), ("written".into(), "rewrite".into()));
        assert_eq!(lsattr(f), want, "{what}: {s} lost or gained flags");
        assert_tagged(f);
    }
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
        let files = flagged_files(&fs.mnt, flags);
        for f in &files {
            assert_eq!(lsattr(f), flags.chars().collect(), "{name}: chattr");
        }
        tag_and_check(&fs.mnt, &files, flags, name);
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
    let files = flagged_files(&dir, "d");
    // From now on, new files in the folder (noai's temp files too) are born with `C`.
    run_ok(Command::new("chattr").arg("+C").arg(&dir));
    tag_and_check(&dir, &files, "d", "+C folder");
}

/// btrfs refuses to trade `c` for `C` (or back) in one call: a `C` file in a `c` folder and a
/// `c` file in a `C` folder keep theirs.
#[test]
fn btrfs_compression_and_nocow_swap() {
    if !is_root("btrfs_compression_and_nocow_swap") {
        return;
    }
    let fs = LoopFs::with(&["mkfs.btrfs", "-q", "-f"], 320);
    for (folder, file) in [("c", "C"), ("C", "c")] {
        let dir = fs.mnt.join(folder);
        std::fs::create_dir(&dir).unwrap();
        let files = flagged_files(&dir, file);
        run_ok(Command::new("chattr").arg(format!("+{folder}")).arg(&dir));
        tag_and_check(&dir, &files, file, &format!("+{folder} folder"));
    }
}

/// A folder with `j` (set with debugfs, as chattr needs CAP_SYS_RESOURCE): its user's files,
/// without `j`, are rewritten all the same (and come out with `j`, which only changes how ext4
/// journals their data).
#[test]
fn an_inherited_data_journaling_flag_does_not_stop_a_users_rewrite() {
    if !is_root("an_inherited_data_journaling_flag_does_not_stop_a_users_rewrite") {
        return;
    }
    let a = accounts();
    let fs = LoopFs::with(&["mkfs.ext4", "-q", "-F"], 64);
    let dir = fs.mnt.join("alice");
    std::fs::create_dir(&dir).unwrap();
    let files = flagged_files(&dir, "d");
    chown(&dir, a.alice.uid, a.alice.gid);
    for f in &files {
        chown(f, a.alice.uid, a.alice.gid);
    }
    fs.offline(|dev| {
        // 0x80000: extents (ext4's own), 0x4000: data journaling.
        let cmd = "set_inode_field /alice flags 0x84000";
        run_ok(Command::new("debugfs").args(["-w", "-R", cmd, dev]));
    });
    assert!(lsattr(&dir).contains(&'j'), "debugfs did not set j");
    let bins = common::tempdir();
    let bin = shared_binary(bins.path());
    let run = noai_as(&a.alice, &bin, &dir, &["tag", "--format", "json", "."]);
    assert_eq!(run.code, 0, "{run:?}");
    for f in &files {
        assert_eq!(lsattr(f), BTreeSet::from(['d', 'j']), "{}", f.display());
        assert_tagged(f);
    }
}

/// An immutable or append-only file cannot be replaced: refused before anything is written.
#[test]
fn an_append_only_or_immutable_file_is_refused_up_front() {
    if !is_root("an_append_only_or_immutable_file_is_refused_up_front") {
        return;
    }
    let fs = LoopFs::with(&["mkfs.ext4", "-q", "-F"], 64);
    // An immutable file is refused by the write-permission check already.
    for (flag, says) in [
        ("a", "immutable or append-only"),
        ("i", "no permission to write"),
    ] {
        let dir = fs.mnt.join(flag);
        std::fs::create_dir(&dir).unwrap();
        let f = common::copy_sample(&dir, "mp3-noid3.mp3");
        run_ok(Command::new("chattr").arg(format!("+{flag}")).arg(&f));
        let before = std::fs::read(&f).unwrap();
        let doc = noai_json(&["tag", dir.to_str().unwrap()], 2);
        let err = common::file_entry(&doc, "mp3-noid3.mp3")["error"].to_string();
        assert!(err.contains(says), "+{flag}: {err}");
        assert_eq!(std::fs::read(&f).unwrap(), before, "+{flag}");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "+{flag}: temp left"
        );
        run_ok(Command::new("chattr").arg(format!("-{flag}")).arg(&f));
    }
}
