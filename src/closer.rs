//! Closing deleted files off the workers' path. Once a rewrite is renamed over a file and made
//! durable, our descriptor of the original is often the last reference to its old inode; once
//! a batch's undo journals are removed, the write layer's descriptor of a journal file is the
//! last reference to it. Closing such a descriptor frees the blocks, and on a file system
//! mounted with `discard` (ext4 here) waits for the device to trim them. No later step needs
//! that work done, so such a file goes to one background thread, which closes it while the
//! workers plan the next chunk. (Its names are already gone: recovery never sees it.)
//!
//! Only a file with no name left goes there: one still reachable by another name (a hard link)
//! keeps our lock until it is closed, so it is closed at once, before any later chunk opens it.
//! `settle` waits until every handed-over file is closed; the commit calls it before it measures
//! free space for a batch and stages it, and signing before it stages its copies, so the old
//! blocks are free before new ones are taken (the space budget holds) and the held descriptors
//! never exceed one chunk's files (within `fds::PER_FILE`'s allowance). Unit tests that finish
//! journals share this one thread, so tests here check their own files, never the counters.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc::{self, Sender};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The thread and its queue, started on first use.
struct Worker {
    queue: Sender<File>,
    thread: JoinHandle<()>,
}

static WORKER: Mutex<Option<Worker>> = Mutex::new(None);
/// Files handed over and not yet closed.
static PENDING: Mutex<usize> = Mutex::new(0);
static SETTLED: Condvar = Condvar::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these counters half-updated: keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes `file` now, or hands it to the background thread when no name refers to it any more.
pub fn close(file: File) {
    let unlinked = file.metadata().is_ok_and(|m| m.nlink() == 0);
    if !unlinked {
        return drop(file);
    }
    let mut worker = lock(&WORKER);
    if worker.is_none() {
        *worker = start();
    }
    let Some(w) = worker.as_ref() else {
        return drop(file);
    };
    *lock(&PENDING) += 1;
    if let Err(mpsc::SendError(file)) = w.queue.send(file) {
        drop(file);
        done();
    }
}

fn start() -> Option<Worker> {
    let (queue, files) = mpsc::channel::<File>();
    let thread = std::thread::Builder::new()
        .name("noai-closer".into())
        .spawn(move || {
            for file in files {
                // Counted down however the close ends, so `settle` can never wait forever.
                let _done = Done;
                drop(file);
            }
        })
        .ok()?;
    Some(Worker { queue, thread })
}

/// Counts one handed-over file as closed when dropped.
struct Done;

impl Drop for Done {
    fn drop(&mut self) {
        done();
    }
}

fn done() {
    let mut pending = lock(&PENDING);
    *pending = pending.saturating_sub(1);
    if *pending == 0 {
        SETTLED.notify_all();
    }
}

/// Waits until every file handed over so far is closed.
pub fn settle() {
    let mut pending = lock(&PENDING);
    while *pending > 0 {
        pending = SETTLED.wait(pending).unwrap_or_else(|e| e.into_inner());
    }
}

/// Closes everything handed over and stops the thread when dropped: the end of a run, however
/// it ends.
pub struct Finish;

impl Drop for Finish {
    fn drop(&mut self) {
        finish();
    }
}

/// Closes everything handed over and stops the thread.
fn finish() {
    let worker = lock(&WORKER).take();
    if let Some(w) = worker {
        drop(w.queue);
        let _ = w.thread.join();
    }
    settle();
}

/// Our descriptors that refer to `path` (a deleted file's shows as `path (deleted)`).
#[cfg(test)]
pub(crate) fn held(path: &std::path::Path) -> usize {
    let path = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with(&path))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlinked_file_is_closed_by_settle_and_a_linked_one_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        let gone = File::create(&a).unwrap();
        let kept = File::create(&b).unwrap();
        std::fs::remove_file(&a).unwrap();
        kept.try_lock().unwrap();
        close(gone);
        close(kept);
        // The linked file's lock is free as soon as `close` returns.
        File::open(&b).unwrap().try_lock().unwrap();
        settle();
        assert_eq!(held(&a), 0);
        // The end of a run closes what is still queued.
        let last = File::create(&c).unwrap();
        std::fs::remove_file(&c).unwrap();
        close(last);
        drop(Finish);
        assert_eq!(held(&c), 0);
    }
}
