//! A rewrite keeps the file what it was (owner, group, mode, extended attributes, ACLs) or
//! refuses it; whether a file may be written is the running user's real permission, the same
//! for both strategies; a file whose ctime moved after it was read is left alone; on FUSE every
//! journal, temp file, file and folder is fsynced, and a failing fsync leaves the files as they
//! were. getfattr/getfacl, stat and mutagen check the results. Most tests need root (they
//! create users, set trusted.* and security.* attributes, mount FUSE): CI runs them as root.

mod common;
use common::pause::Pause;
use common::system;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use system::*;

/// A file capability (CAP_NET_BIND_SERVICE, revision 2): `chown` and writing the data clear it.
const CAPABILITY: &str = "0x0000000200040000000000000000000000000000";

/// Every extended attribute of `file` as getfattr dumps it (hex values), and its ACL.
fn attributes(file: &Path) -> (String, String) {
    let (dir, name) = (file.parent().unwrap(), file.file_name().unwrap());
    let dump = |cmd: &mut Command| run_ok(cmd.arg(name).current_dir(dir));
    (
        dump(Command::new("getfattr").args(["-d", "-m", "-", "-e", "hex"])),
        dump(&mut Command::new("getfacl")),
    )
}

fn setfattr(file: &Path, name: &str, value: &str) {
    run_ok(
        Command::new("setfattr")
            .args(["-n", name, "-v", value])
            .arg(file),
    );
}

/// (owner, group, mode without the file type)
fn owner(file: &Path) -> (u32, u32, u32) {
    let m = std::fs::metadata(file).unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

/// The names in `dir`: a journal or temp file left behind shows up here.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The error of `name` in a report; it must be an error.
fn error_of(doc: &serde_json::Value, name: &str) -> String {
    let e = file_entry(doc, name);
    assert_eq!(e["status"], "error", "{name} was not refused: {e:#}");
    e["error"].as_str().unwrap_or_default().to_string()
}

fn written(strategy: &str) -> (String, String) {
    ("written".to_string(), strategy.to_string())
}

#[test]
fn both_strategies_keep_owner_mode_xattrs_and_acl() {
    if !is_root("both_strategies_keep_owner_mode_xattrs_and_acl") {
        return;
    }
    let d = tempdir();
    let rw = copy_as(d.path(), "mp3-noid3.mp3", "rewrite.mp3");
    let ip = copy_as(d.path(), "flac-pad.flac", "in-place.flac");
    for f in [&rw, &ip] {
        chown(f, 65534, 65534);
        chmod(f, 0o640);
        setfattr(f, "user.x", "1");
        setfattr(f, "trusted.noai-test", "kept");
        run_ok(Command::new("setfacl").args(["-m", "u:nobody:r"]).arg(f));
        chmod(f, 0o2640);
    }
    // An in-place write makes the kernel drop a capability (any write does), so only the
    // rewrite, which sets it after the data, can show it is kept.
    setfattr(&rw, "security.capability", CAPABILITY);
    let before: Vec<_> = [&rw, &ip].map(|f| (attributes(f), owner(f))).into();
    for (f, ((xattrs, acl), _)) in [&rw, &ip].iter().zip(&before) {
        for a in ["user.x", "trusted.noai-test", "system.posix_acl_access"] {
            assert!(xattrs.contains(a), "{}: {a} not set: {xattrs}", f.display());
        }
        assert!(acl.contains("user:nobody:r--"), "{acl}");
    }
    assert!(before[0].0.0.contains("security.capability"));
    let doc = noai_json(&["tag", d.path().to_str().unwrap()], 0);
    assert_eq!(action(&doc, "rewrite.mp3"), written("rewrite"));
    assert_eq!(action(&doc, "in-place.flac"), written("in-place"));
    for (f, was) in [&rw, &ip].iter().zip(&before) {
        assert_eq!(&(attributes(f), owner(f)), was, "{} changed", f.display());
        assert_tagged(f);
    }
    assert_eq!(names(d.path()), ["in-place.flac", "rewrite.mp3"]);
}

/// Any write makes the kernel drop a file capability, so an in-place write cannot keep it.
#[test]
fn an_in_place_write_that_would_drop_a_capability_is_refused() {
    if !is_root("an_in_place_write_that_would_drop_a_capability_is_refused") {
        return;
    }
    let d = tempdir();
    let f = copy_sample(d.path(), "flac-pad.flac");
    setfattr(&f, "security.capability", CAPABILITY);
    let before = (bytes(&f), attributes(&f));
    let doc = noai_json(&["tag", p(&f)], 2);
    let err = error_of(&doc, "flac-pad.flac");
    assert!(err.contains("security.capability"), "unclear error: {err}");
    assert!((bytes(&f), attributes(&f)) == before, "the file changed");
    assert_eq!(names(d.path()), ["flac-pad.flac"]);
}

#[test]
fn a_rewrite_does_not_add_the_folders_default_acl() {
    if !is_root("a_rewrite_does_not_add_the_folders_default_acl") {
        return;
    }
    let d = tempdir();
    let dir = d.path().join("inherits");
    std::fs::create_dir(&dir).unwrap();
    run_ok(
        Command::new("setfacl")
            .args(["-d", "-m", "u:nobody:rw"])
            .arg(&dir),
    );
    let f = copy_as(&dir, "mp3-noid3.mp3", "song.mp3");
    run_ok(Command::new("setfacl").arg("-b").arg(&f));
    let before = (attributes(&f), owner(&f));
    assert!(!before.0.0.contains("posix_acl_access"), "{:?}", before.0);
    let doc = noai_json(&["tag", dir.to_str().unwrap()], 0);
    assert_eq!(action(&doc, "song.mp3"), written("rewrite"));
    assert_eq!(
        (attributes(&f), owner(&f)),
        before,
        "the rewritten file gained the folder's default ACL"
    );
    assert_tagged(&f);
}

/// A folder of the test's temp dir with an owner, group and mode.
fn folder(d: &Path, name: &str, gid: u32, mode: u32) -> PathBuf {
    let p = d.join(name);
    std::fs::create_dir(&p).unwrap();
    chown(&p, 0, gid);
    chmod(&p, mode);
    p
}

/// A sample copied into `dir` as `name`, given to `uid:gid` with `mode`.
fn file_of(dir: &Path, sample: &str, name: &str, (uid, gid): (u32, u32), mode: u32) -> PathBuf {
    let p = copy_as(dir, sample, name);
    chown(&p, uid, gid);
    chmod(&p, mode);
    p
}

#[test]
fn a_group_member_does_not_take_over_another_users_file() {
    if !is_root("a_group_member_does_not_take_over_another_users_file") {
        return;
    }
    let a = accounts();
    let d = tempdir();
    let bin = shared_binary(d.path());
    let shared = folder(d.path(), "shared", a.share_gid, 0o2775);
    let bobs = (a.bob.uid, a.share_gid);
    let rw = file_of(&shared, "mp3-noid3.mp3", "bob-rewrite.mp3", bobs, 0o664);
    let ip = file_of(&shared, "flac-pad.flac", "bob-in-place.flac", bobs, 0o664);
    let before = bytes(&rw);
    let r = noai_as(
        &a.alice,
        &bin,
        d.path(),
        &["tag", "--format", "json", p(&shared)],
    );
    let doc = r.expect(2).json();
    let err = error_of(&doc, "bob-rewrite.mp3");
    assert!(
        err.contains("belongs to noai-bob") && err.contains("not changed"),
        "unclear error: {err}"
    );
    assert_eq!(bytes(&rw), before, "the refused file changed");
    assert_eq!(owner(&rw), (a.bob.uid, a.share_gid, 0o664));
    // The same permission lets an in-place write through; it keeps the inode and its owner.
    assert_eq!(action(&doc, "bob-in-place.flac"), written("in-place"));
    assert_eq!(owner(&ip), (a.bob.uid, a.share_gid, 0o664));
    assert_tagged(&ip);
    assert_eq!(names(&shared), ["bob-in-place.flac", "bob-rewrite.mp3"]);
    // Only a file's owner (or root) may read it without moving its access time (O_NOATIME):
    // alice reads bob's files the usual way, for the write above and for a verify.
    let r = noai_as(&a.alice, &bin, d.path(), &["verify", p(&ip)]).expect(0);
    assert!(r.stdout.contains("tagged"), "{}", r.stdout);
}

/// A folder its user may search and write but not list hides which undo journal names a file:
/// a write there is refused, and the file stays as it was.
#[test]
fn a_folder_that_cannot_be_listed_refuses_a_write_there() {
    if !is_root("a_folder_that_cannot_be_listed_refuses_a_write_there") {
        return;
    }
    let (a, d) = (accounts(), tempdir());
    let hidden = folder(d.path(), "hidden", 0, 0o333);
    let alices = (a.alice.uid, a.alice.gid);
    let f = file_of(&hidden, "flac-pad.flac", "alice.flac", alices, 0o644);
    let before = bytes(&f);
    let args = ["tag", "--format", "json", p(&f)];
    let doc = noai_as(&a.alice, &shared_binary(d.path()), d.path(), &args)
        .expect(2)
        .json();
    let err = error_of(&doc, "alice.flac");
    assert!(
        err.contains("cannot list the folder"),
        "unclear error: {err}"
    );
    assert_eq!(bytes(&f), before);
}

#[test]
fn another_users_file_in_a_world_writable_folder_is_refused() {
    if !is_root("another_users_file_in_a_world_writable_folder_is_refused") {
        return;
    }
    let a = accounts();
    let d = tempdir();
    let bin = shared_binary(d.path());
    let open = folder(d.path(), "open", 0, 0o777);
    let bobs = (a.bob.uid, a.bob.gid);
    let alices = (a.alice.uid, a.alice.gid);
    let refused = [
        file_of(&open, "mp3-noid3.mp3", "bob-rewrite.mp3", bobs, 0o644),
        file_of(&open, "flac-pad.flac", "bob-in-place.flac", bobs, 0o644),
    ];
    let own = file_of(&open, "mp3-noid3.mp3", "alice.mp3", alices, 0o640);
    // Her own file, but with a capability she may not set: a rewrite would drop it.
    let cap = file_of(&open, "mp3-noid3.mp3", "alice-cap.mp3", alices, 0o640);
    setfattr(&cap, "security.capability", CAPABILITY);
    let before: Vec<_> = refused.iter().chain([&cap]).map(|f| bytes(f)).collect();
    let r = noai_as(
        &a.alice,
        &bin,
        d.path(),
        &["tag", "--format", "json", p(&open)],
    );
    let doc = r.expect(2).json();
    for f in &refused {
        let name = f.file_name().unwrap().to_str().unwrap();
        let err = error_of(&doc, name);
        assert!(
            err.contains("no permission to write it") && err.contains("noai-bob"),
            "{name}: unclear error: {err}"
        );
        assert_eq!(owner(f), (a.bob.uid, a.bob.gid, 0o644));
    }
    let err = error_of(&doc, "alice-cap.mp3");
    assert!(err.contains("security.capability"), "unclear error: {err}");
    let after: Vec<_> = refused.iter().chain([&cap]).map(|f| bytes(f)).collect();
    assert!(before == after, "a refused file changed");
    assert_eq!(action(&doc, "alice.mp3"), written("rewrite"));
    assert_eq!(owner(&own), (a.alice.uid, a.alice.gid, 0o640));
    assert_tagged(&own);
    assert_eq!(
        names(&open),
        [
            "alice-cap.mp3",
            "alice.mp3",
            "bob-in-place.flac",
            "bob-rewrite.mp3"
        ]
    );
}

#[test]
fn a_rewrite_over_another_users_file_in_a_sticky_folder_is_refused_up_front() {
    if !is_root("a_rewrite_over_another_users_file_in_a_sticky_folder_is_refused_up_front") {
        return;
    }
    let a = accounts();
    let d = tempdir();
    let bin = shared_binary(d.path());
    let sticky = folder(d.path(), "sticky", 0, 0o1777);
    let f = file_of(
        &sticky,
        "mp3-noid3.mp3",
        "bob.mp3",
        (a.bob.uid, a.bob.gid),
        0o666,
    );
    let before = bytes(&f);
    let r = noai_as(
        &a.alice,
        &bin,
        d.path(),
        &["tag", "--format", "json", p(&sticky)],
    );
    let err = error_of(&r.expect(2).json(), "bob.mp3");
    assert!(
        err.contains("sticky") && err.contains("noai-bob"),
        "unclear error: {err}"
    );
    assert_eq!(bytes(&f), before);
    assert_eq!(names(&sticky), ["bob.mp3"]);
}

/// A file whose inode changed (chmod there and back: same bytes, size, mode and mtime, only
/// the ctime moved) between staging and applying is reported and not written, for both
/// strategies. Uses the debug-build hook `NOAI_TEST_PAUSE_MS`.
#[test]
fn a_file_whose_ctime_moved_is_not_written() {
    for sample in ["flac-pad.flac", "flac-nopad.flac"] {
        let d = tempdir();
        let f = copy_sample(d.path(), sample);
        let before = (bytes(&f), stat(&f), owner(&f));
        // Past the copy's coarse ctime tick, so the chmod below surely gives a new one.
        std::thread::sleep(Duration::from_millis(20));
        let pause = Pause::new();
        let mut child = pause
            .on(Command::new(env!("CARGO_BIN_EXE_noai")).args(["tag", "--format", "json", p(&f)]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        pause.wait(&mut child);
        chmod(&f, 0o600);
        chmod(&f, before.2.2);
        pause.resume();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sample}: not refused");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let err = error_of(&doc, sample);
        assert!(err.contains("changed while"), "{sample}: {err}");
        assert_eq!((bytes(&f), stat(&f), owner(&f)), before, "{sample} changed");
        assert_eq!(names(d.path()), [sample], "{sample}: journal or temp left");
        // Our own steps (lock, journal, temp file) do not move the ctime: unpaused, it is written.
        let doc = noai_json(&["tag", p(&f)], 0);
        assert_eq!(file_entry(&doc, sample)["status"], "tagged");
    }
}

// ---------------------------------------------------------------------------------------------
// FUSE: syncfs does not reach the daemon, so each file and folder is fsynced

/// An in-place and a rewrite candidate on the FUSE file system, with their bytes.
fn fuse_files(fs: &LogFs) -> [(PathBuf, Vec<u8>); 2] {
    ["flac-pad.flac", "mp3-noid3.mp3"].map(|s| {
        let f = copy_sample(&fs.root, s);
        let b = bytes(&f);
        (f, b)
    })
}

#[test]
fn on_fuse_every_journal_temp_file_file_and_folder_is_fsynced() {
    if !is_root("on_fuse_every_journal_temp_file_file_and_folder_is_fsynced") {
        return;
    }
    let d = tempdir();
    let fs = LogFs::mount(d.path());
    let files = fuse_files(&fs);
    let doc = noai_json(&["tag", p(&fs.mnt)], 0);
    assert_eq!(action(&doc, "flac-pad.flac"), written("in-place"));
    assert_eq!(action(&doc, "mp3-noid3.mp3"), written("rewrite"));
    let log = fs.take_log();
    let lines: Vec<&str> = log.lines().collect();
    for want in [
        "fsync /.flac-pad.flac.noai-journal",
        "fsync /flac-pad.flac",
        "fsync /mp3-noid3.mp3",
        "fsyncdir /",
    ] {
        assert!(lines.contains(&want), "no `{want}` in the log:\n{log}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("fsync /.mp3-noid3.mp3.noai-") && l.ends_with(".tmp")),
        "the temp file was not fsynced:\n{log}"
    );
    for (f, _) in &files {
        assert_tagged(f);
    }
    assert_eq!(names(&fs.root), ["flac-pad.flac", "mp3-noid3.mp3"]);
}

/// The in-place files of one folder share one journal file that names them all inside it:
/// no file gets a journal name (a link) of its own. Seen in the pause between staging and
/// applying (journal written and synced, files untouched), on a plain folder and on the FUSE
/// file system with hard links refused; the next run finds each file's record by reading the
/// folder's journal.
#[test]
fn a_folder_shares_one_journal_file_that_names_its_files_inside_it() {
    if !is_root("a_folder_shares_one_journal_file_that_names_its_files_inside_it") {
        return;
    }
    let plain = tempdir();
    let d = tempdir();
    let fs = LogFs::mount(d.path());
    // Links refused there: nothing needs one.
    std::fs::write(&fs.nolink, b"").unwrap();
    for (dir, root) in [
        (plain.path(), plain.path()),
        (fs.mnt.as_path(), fs.root.as_path()),
    ] {
        let names = ["flac-pad.flac", "mp3-v23-pad.mp3", "wav-plain.wav"];
        for s in names {
            copy_sample(root, s);
        }
        let pause = Pause::new();
        let mut child = interrupted::spawn_tag(&[p(dir)], Some(&pause));
        pause.wait(&mut child);
        let mut named = journalled(root);
        named.sort();
        let want: Vec<PathBuf> = names.iter().map(|n| root.join(n)).collect();
        assert_eq!(named, want, "{dir:?}: the journal names every file");
        let journals = leftovers(root);
        assert_eq!(journals.len(), 1, "{dir:?}: one journal file: {journals:?}");
        let meta = std::fs::symlink_metadata(&journals[0]).unwrap();
        assert_eq!(meta.nlink(), 1, "{dir:?}: no links");
        child.kill().unwrap();
        child.wait().unwrap();
        // The next run recovers each file from its record in the folder's journal, and tags.
        let doc = noai_json(&["tag", p(dir)], 0);
        for n in names {
            assert_eq!(action(&doc, n), written("in-place"), "{n}");
            assert_tagged(&root.join(n));
        }
        let mut left: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        left.sort();
        assert!(left.is_empty(), "{dir:?}: left behind: {left:?}");
    }
}

/// Where a file cannot grow by a truncate (some FUSE and network file systems), an append's
/// holes are written as zeros instead: the same bytes as on a file system with holes.
#[test]
fn on_fuse_without_a_growing_truncate_an_appends_zeros_are_written() {
    if !is_root("on_fuse_without_a_growing_truncate_an_appends_zeros_are_written") {
        return;
    }
    let plain = tempdir();
    let want = copy_sample(plain.path(), "wav-plain.wav");
    noai_json(&["tag", p(&want)], 0);
    let d = tempdir();
    let fs = LogFs::mount(d.path());
    std::fs::write(&fs.notrunc, b"").unwrap();
    let f = copy_sample(&fs.root, "wav-plain.wav");
    let grown = std::fs::File::options()
        .write(true)
        .open(fs.mnt.join("wav-plain.wav"));
    assert!(
        grown.unwrap().set_len(1 << 20).is_err(),
        "the FUSE file system let a file grow by a truncate"
    );
    let doc = noai_json(&["tag", p(&fs.mnt)], 0);
    assert_eq!(action(&doc, "wav-plain.wav"), written("in-place"));
    assert_eq!(
        bytes(&f),
        bytes(&want),
        "not the bytes written where holes work"
    );
    assert_eq!(names(&fs.root), ["wav-plain.wav"]);
}

#[test]
fn on_fuse_a_failing_fsync_leaves_the_files_as_they_were() {
    if !is_root("on_fuse_a_failing_fsync_leaves_the_files_as_they_were") {
        return;
    }
    let d = tempdir();
    let fs = LogFs::mount(d.path());
    let files = fuse_files(&fs);
    std::fs::write(&fs.fail, b"").unwrap();
    let doc = noai_json(&["tag", p(&fs.mnt)], 2);
    for (f, was) in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let err = error_of(&doc, name);
        assert!(err.contains("cannot sync"), "{name}: {err}");
        assert!(&bytes(f) == was, "{name} changed");
    }
    assert!(fs.take_log().contains("fsync /.flac-pad.flac.noai-journal"));
    assert_eq!(names(&fs.root), ["flac-pad.flac", "mp3-noid3.mp3"]);
}

/// The fsync after the in-place write fails: the old bytes go back; the next run tags it.
#[test]
fn on_fuse_a_failing_fsync_after_writing_rolls_the_file_back() {
    if !is_root("on_fuse_a_failing_fsync_after_writing_rolls_the_file_back") {
        return;
    }
    let d = tempdir();
    let fs = LogFs::mount(d.path());
    let f = copy_sample(&fs.root, "flac-pad.flac");
    let was = bytes(&f);
    let pause = Pause::new();
    let mut child = pause
        .on(Command::new(env!("CARGO_BIN_EXE_noai")).args(["tag", "--format", "json", p(&fs.mnt)]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // In the pause, the first sync (journal, file, folder) is done: the next one fails.
    pause.wait(&mut child);
    assert!(
        fs.take_log().contains("fsyncdir /"),
        "no folder sync before writing"
    );
    std::fs::write(&fs.fail, b"").unwrap();
    pause.resume();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = error_of(&doc, "flac-pad.flac");
    assert!(
        err.contains("cannot sync") && err.contains("after writing"),
        "{err}"
    );
    assert!(bytes(&f) == was, "the file was not rolled back");
    std::fs::remove_file(&fs.fail).unwrap();
    noai_json(&["tag", p(&fs.mnt)], 0);
    assert_tagged(&f);
    assert_eq!(names(&fs.root), ["flac-pad.flac"]);
}
