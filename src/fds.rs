//! Open files: a chunk holds every one of its files open (with its lock) from planning to the
//! end of its commit, plus a temp file or journal per write, so a low limit on open files
//! (1024 is common, 256 on some systems) would fail files with "Too many open files". The soft
//! limit is raised to the hard one at start, and chunks are sized to what it then allows.

/// Files a chunk takes when the limit allows it: enough to share a write batch's syncs and keep
/// both cores busy, few enough that memory stays flat however large the catalogue is.
pub const MAX_CHUNK: usize = 512;
/// Descriptors kept free of the chunk's files: the output, the pool's threads, the walk.
const RESERVE: u64 = 64;
/// Descriptors a file of a chunk may hold at once: the file, its temp file or journal, and a
/// reader opened again to check the result.
const PER_FILE: u64 = 3;

/// Raises the soft limit on open files to the hard limit and returns the chunk size it allows
/// (at least 1, at most `MAX_CHUNK`).
pub fn chunk_size() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read or write the struct passed.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return MAX_CHUNK;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur
    };
    let size = allowed(soft);
    reserve_table(size as u64 * PER_FILE + RESERVE);
    size
}

/// Grows the process's descriptor table to `n` entries now, while it has one thread. A table
/// grown later, with the worker threads running, waits for an RCU grace period at every
/// doubling (`expand_fdtable`): a read-only chunk holding its files open took 1.46× as long
/// (issue 11, part 8). The table never shrinks, so one early growth serves the whole run.
fn reserve_table(n: u64) {
    let Ok(at) = libc::c_int::try_from(n.saturating_sub(1)) else {
        return;
    };
    for fd in 0..3 {
        // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor we may not own onto a new number,
        // which is closed again at once; a closed `fd` only makes it fail.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, at) };
        if dup >= 0 {
            // SAFETY: `dup` was just opened here and is not used anywhere else.
            unsafe { libc::close(dup) };
            return;
        }
    }
}

/// The chunk size a soft limit of `soft` open files allows.
fn allowed(soft: u64) -> usize {
    let n = soft.saturating_sub(RESERVE) / PER_FILE;
    (n as usize).clamp(1, MAX_CHUNK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_with_the_limit_and_never_vanish() {
        assert_eq!(allowed(20_000), MAX_CHUNK);
        assert_eq!(allowed(1024), 320);
        assert_eq!(allowed(256), 64);
        assert_eq!(allowed(10), 1);
        assert_eq!(allowed(libc::RLIM_INFINITY), MAX_CHUNK);
    }
}
