//! Settings for glibc's allocator, made once at start. Planning and proving a file with large
//! metadata (cover art in an MP4 `ilst` or an ID3v2 tag, often 100 KB or more) builds and frees
//! several buffers of that size. By default glibc serves blocks from 128 KiB up with a fresh
//! `mmap` (raising that bar only as such blocks are freed) and gives free memory at the top of
//! its heap back to the kernel beyond 128 KiB, so the same pages were mapped, faulted in, zeroed
//! and unmapped again for file after file. Serving blocks below 4 MiB from the heap and keeping up
//! to 32 MiB of free memory there halved the page faults of `tag --dry-run` on lib5k's MP4 and
//! APIC MP3 files and cut its CPU time by 17–24 % (BENCHMARKS.md, issue 11 part 6). What is
//! kept is bounded by those 32 MiB per arena (glibc gives each thread that allocates an arena,
//! up to 8 per core): a few arenas here, the workers', the closer's and the main thread's. A
//! block of 4 MiB or more is still mapped on its own, now always (setting either value turns
//! off glibc's rising threshold); no per-file buffer of ours is that large. Measured peak RSS:
//! `tag` of lib5k 46 → 48 MB, `verify --format jsonl` of 100,000 files 19 → 24 MB.

/// Applies the settings; without glibc (e.g. musl) there is nothing to set.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
    }
}
