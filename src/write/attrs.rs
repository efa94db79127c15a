//! A rewrite replaces the file by a new inode, so everything the old inode carried besides its
//! bytes must be carried over, or the file is not changed: owner, group, mode and every extended
//! attribute (`user.*`, POSIX ACLs as `system.posix_acl_access`, `security.*` such as SELinux
//! labels and file capabilities, and `trusted.*` where the user may see them).
//!
//! The order matters. The owner goes first, on the still empty temp file: that is where a
//! user who may write but does not own the file is stopped, cheaply, and a `chown` would clear
//! setuid/setgid and `security.capability` set before it (so does writing the data). Then the
//! attributes, then the mode (an ACL write may clear setgid; a `chmod` leaves the ACL's mask as
//! the original had it, since the mask is the group bits). Last, everything is read back and
//! compared with the original: what the kernel silently declined shows up there.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fs::{File, Permissions};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::Target;
use super::access::{euid, group_name, user_name};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// Integrity hashes the kernel keeps for the content (IMA/EVM): a copy of the old value would
/// be wrong for the new bytes, so they are neither copied nor compared.
const KERNEL_KEPT: [&[u8]; 2] = [b"security.ima", b"security.evm"];

/// Gives the (empty) temp file the original's owner and group, or refuses.
pub(super) fn take_owner(t: &Target, out: &File) -> Result<()> {
    let (uid, gid) = (t.snapshot.uid, t.snapshot.gid);
    let Err(e) = std::os::unix::fs::fchown(out, Some(uid), Some(gid)) else {
        return Ok(());
    };
    if e.raw_os_error() != Some(libc::EPERM) {
        return Err(bad!(
            Refused,
            "cannot keep the owner and group: {e}; not changed"
        ));
    }
    if uid != euid() {
        return Err(bad!(
            Refused,
            "the file belongs to {}; this change needs a rewrite, which would make it yours; not changed",
            user_name(uid)
        ));
    }
    Err(bad!(
        Refused,
        "the file's group is {}, which you are not a member of; this change needs a rewrite, which would change its group; not changed",
        group_name(gid)
    ))
}

/// An in-place write keeps the inode, but the kernel drops a file capability on any write, and
/// setuid (and setgid with group execute) on a write by a user without `CAP_FSETID`: such a
/// file is refused rather than silently changed.
pub(super) fn check_in_place(t: &Target) -> Result<()> {
    let name = c"security.capability";
    // SAFETY: a size query (null buffer, length 0) on a valid fd with a NUL-terminated name.
    let cap =
        unsafe { libc::fgetxattr(t.file.as_raw_fd(), name.as_ptr(), std::ptr::null_mut(), 0) };
    if cap >= 0 {
        return Err(bad!(
            Refused,
            "it carries a file capability (security.capability), which any write makes the system drop; not changed"
        ));
    }
    let mode = t.snapshot.mode;
    let setid = mode & libc::S_ISUID != 0
        || mode & (libc::S_ISGID | libc::S_IXGRP) == (libc::S_ISGID | libc::S_IXGRP);
    if setid && euid() != 0 {
        return Err(bad!(
            Refused,
            "it is setuid or setgid (mode {:o}), which a write by you makes the system clear; not changed",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// Copies every extended attribute and the mode to the temp file, then checks that owner,
/// group, mode and attributes read back as the original's.
pub(super) fn carry(t: &Target, out: &File) -> Result<()> {
    let (src, dst) = (t.file.as_raw_fd(), out.as_raw_fd());
    let old = attributes(src)
        .map_err(|e| FileError::io_read("cannot read its extended attributes", &e))?;
    let new = attributes(dst)
        .map_err(|e| FileError::io_read("cannot read the temp file's extended attributes", &e))?;
    // Inherited from the folder (a default ACL) but not on the original: the file must not
    // gain permissions either.
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        // SAFETY: a valid fd and NUL-terminated name.
        if unsafe { libc::fremovexattr(dst, name.as_ptr()) } != 0 {
            return Err(bad!(
                Refused,
                "the new file would get the extended attribute {} from its folder, and it cannot be removed ({}); not changed",
                show(name),
                std::io::Error::last_os_error()
            ));
        }
    }
    // An attribute the kernel already set identically (an SELinux label) is left alone.
    for (name, value) in old.iter().filter(|(n, v)| new.get(*n) != Some(*v)) {
        // SAFETY: a valid fd, NUL-terminated name, and a pointer/length pair of one buffer.
        let rc =
            unsafe { libc::fsetxattr(dst, name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
        if rc != 0 {
            return Err(bad!(
                Refused,
                "cannot keep the extended attribute {} ({}); this change needs a rewrite, which would drop it; not changed",
                show(name),
                std::io::Error::last_os_error()
            ));
        }
    }
    let mode = t.snapshot.mode & 0o7777;
    if let Err(e) = out.set_permissions(Permissions::from_mode(mode)) {
        return Err(bad!(
            Refused,
            "cannot keep the mode {mode:o}: {e}; not changed"
        ));
    }
    read_back(t, out, &old)
}

/// The temp file as the kernel now has it must match the original in every kept property.
fn read_back(t: &Target, out: &File, old: &BTreeMap<CString, Vec<u8>>) -> Result<()> {
    let m = out
        .metadata()
        .map_err(|e| FileError::io_read("cannot stat the temp file", &e))?;
    let s = &t.snapshot;
    let lost = if (m.uid(), m.gid()) != (s.uid, s.gid) {
        "owner or group".to_string()
    } else if m.mode() & 0o7777 != s.mode & 0o7777 {
        format!(
            "mode ({:o} instead of {:o})",
            m.mode() & 0o7777,
            s.mode & 0o7777
        )
    } else {
        let now = attributes(out.as_raw_fd()).map_err(|e| {
            FileError::io_read("cannot read back the temp file's extended attributes", &e)
        })?;
        match old
            .iter()
            .find(|(n, v)| now.get(*n) != Some(*v))
            .map(|(n, _)| n)
            .or_else(|| now.keys().find(|n| !old.contains_key(*n)))
        {
            Some(name) => format!("extended attribute {}", show(name)),
            None => return Ok(()),
        }
    };
    Err(bad!(
        Refused,
        "a rewrite would not keep its {lost} (the system declined it); not changed"
    ))
}

/// Every extended attribute the caller may see, by name, without the kernel-kept ones. A file
/// system without extended attributes has none.
fn attributes(fd: RawFd) -> std::io::Result<BTreeMap<CString, Vec<u8>>> {
    let list = match sized(|buf, len| {
        // SAFETY: buf is null with len 0 (a size query) or valid for len bytes.
        unsafe { libc::flistxattr(fd, buf.cast(), len) }
    }) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(BTreeMap::new()),
        r => r?,
    };
    let mut out = BTreeMap::new();
    for name in list.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        if KERNEL_KEPT.contains(&name) {
            continue;
        }
        let name = CString::new(name).expect("split at NUL");
        let value = sized(|buf, len| {
            // SAFETY: a valid fd and name; buf is null with len 0 or valid for len bytes.
            unsafe { libc::fgetxattr(fd, name.as_ptr(), buf.cast(), len) }
        });
        match value {
            Ok(v) => {
                out.insert(name, v);
            }
            // Listed but gone (removed meanwhile): not there.
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Calls a size-query-then-fill syscall until the buffer is large enough.
fn sized(call: impl Fn(*mut u8, usize) -> isize) -> std::io::Result<Vec<u8>> {
    loop {
        let n = call(std::ptr::null_mut(), 0);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut buf = vec![0u8; n as usize];
        let got = call(buf.as_mut_ptr(), buf.len());
        if got >= 0 {
            buf.truncate(got as usize);
            return Ok(buf);
        }
        let e = std::io::Error::last_os_error();
        // ERANGE: it grew between the two calls; ask again.
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(e);
        }
    }
}

fn show(name: &CStr) -> String {
    name.to_string_lossy().into_owned()
}
