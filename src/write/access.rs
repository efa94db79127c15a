//! May the running user change this file? Decided before anything is created, the same way for
//! both strategies, from the kernel's own answer for the effective user (`faccessat` with
//! `AT_EACCESS`, so ACLs, groups and read-only mounts count): write permission on the file, and
//! write and search permission on its folder, where the undo journal or temp file goes. Mode bits
//! alone are not enough (a 0644 file of another user in a world-writable folder looks writable
//! to a rename), but they still refuse a file or folder without any write bit, even for root:
//! root must not tag files someone made read-only.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{Target, parent_dir};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// Errors unless the running user may change `t` with the chosen strategy.
pub(super) fn check(t: &Target, rewrite: bool) -> Result<()> {
    let mode = t.snapshot.mode & 0o7777;
    if mode & 0o222 == 0 {
        return Err(bad!(
            Permission,
            "read-only file (mode {mode:o}): not changed"
        ));
    }
    let dir = parent_dir(t.path);
    let dmeta =
        std::fs::metadata(dir).map_err(|e| FileError::io_read("cannot stat its folder", &e))?;
    let dmode = dmeta.mode() & 0o7777;
    if dmode & 0o222 == 0 {
        return Err(bad!(
            Permission,
            "read-only folder (mode {dmode:o}): noai needs to create its undo or temp file beside the file; not changed"
        ));
    }
    if let Err(e) = may(t.path, libc::W_OK) {
        return Err(bad!(
            Permission,
            "{} (owner {}, group {}, mode {mode:o}); not changed",
            denied(&e, "no permission to write it"),
            user_name(t.snapshot.uid),
            group_name(t.snapshot.gid)
        ));
    }
    if let Err(e) = may(dir, libc::W_OK | libc::X_OK) {
        return Err(bad!(
            Permission,
            "{} (owner {}, mode {dmode:o}): noai needs to create its undo or temp file beside the file; not changed",
            denied(&e, "no permission to create files in its folder"),
            user_name(dmeta.uid())
        ));
    }
    // In a sticky folder (/tmp-style) only the owner of a file or of the folder may rename over
    // it; say so now instead of failing at the rename after the temp file is written.
    let me = euid();
    if rewrite && dmode & libc::S_ISVTX != 0 && me != 0 && me != t.snapshot.uid && me != dmeta.uid()
    {
        return Err(bad!(
            Permission,
            "its folder is sticky (mode {dmode:o}, like /tmp) and the file belongs to {}: this change needs a rewrite, which may not replace another user's file there; not changed",
            user_name(t.snapshot.uid)
        ));
    }
    Ok(())
}

/// The kernel's answer for the effective user.
fn may(path: &Path, how: libc::c_int) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
    if unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), how, libc::AT_EACCESS) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A refusal in words: plain "no permission" for EACCES, the system's reason otherwise
/// (read-only file system, immutable file).
fn denied(e: &std::io::Error, plain: &str) -> String {
    match e.raw_os_error() {
        Some(libc::EACCES) => format!("{plain} as {}", user_name(euid())),
        Some(libc::EROFS) => "read-only file system".to_string(),
        _ => format!("{plain}: {e}"),
    }
}

pub(super) fn euid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// The user's name, or the number when it has none.
pub(super) fn user_name(uid: u32) -> String {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: zeroed passwd is a valid out-parameter; buf outlives the call.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, and the buffer length is its real length.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return format!("uid {uid}");
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    name.to_string_lossy().into_owned()
}

/// The group's name, or the number when it has none.
pub(super) fn group_name(gid: u32) -> String {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: zeroed group is a valid out-parameter; buf outlives the call.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut out = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, and the buffer length is its real length.
    let rc = unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return format!("gid {gid}");
    }
    // SAFETY: on success gr_name points to a NUL-terminated string inside buf.
    let name = unsafe { std::ffi::CStr::from_ptr(gr.gr_name) };
    name.to_string_lossy().into_owned()
}
