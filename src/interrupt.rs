//! Ctrl-C (SIGINT) and SIGTERM end a run cleanly instead of at a random instant: the handler
//! only sets a flag; the walk stops taking chunks, the current chunk stages no more files and
//! either applies its staged writes or undoes them, and the run exits 130 with the summary of
//! what was done. A second signal changes nothing (the flag is already set), so it cannot tear
//! a write either; SIGKILL stays the way to stop at once, and the undo journal covers that.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to the flag. `SA_RESTART`: a read or write in progress carries on.
pub fn install() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is valid; the handler is an `extern "C" fn(c_int)` that
        // only stores to an atomic, and `sa_mask` is initialised by sigemptyset.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True once the run was asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
