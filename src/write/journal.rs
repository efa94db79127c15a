//! The undo journal of an in-place write: `.<name>.noai-journal` beside the file holds, per
//! region about to be overwritten, its old and its new bytes. It is written and made durable
//! (the batch's `syncfs`) before the file is touched and removed after the write is durable, so
//! a kill or crash at any instant leaves either the old file, the new file, or a journal that
//! `recover` (src/write/recover.rs) uses to put the old bytes back over a torn write. Keeping
//! the new bytes lets recovery tell a torn write (every byte old or new) from a file another
//! program changed since (anything else), which must never be rolled back. Since format 004
//! it also keeps the file's mtime and atime, which a rollback puts back. Format 005 (same layout
//! as 004) may also shrink the file: the cut tail is a region with old bytes and no new ones; an
//! older noai reports a 005 journal instead of misreading it. Since format 006 a journal file
//! frames one or more records, one per file of a folder's batch (`bundle.rs`): in 006 the other
//! files reached it through hard links, in 008 only the records name them, and a file's journal
//! is found by reading its folder's (`journals.rs`); a record is still what one file's recovery
//! reads. Record
//! format 007 (same layout as 005, and written only where 005 cannot say it) may leave parts
//! of an append out: the write leaves long runs of zeros (the padding of an appended tag) as
//! holes, so neither the file nor the journal holds them, and recovery takes any byte between
//! the old and the new end that no region covers to be a zero of the new version.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Snapshot;
pub use super::bundle::Journal;
use crate::bad;
use crate::formats::Result;

pub const JOURNAL_SUFFIX: &str = ".noai-journal";
/// The format: the family (`NOAIJ`) and its version. Another version of the family is reported
/// and kept, never deleted: it may hold the only way back for a torn file.
const MAGIC: &[u8; 8] = b"NOAIJ007";
/// Older versions, still read (a user may have one on disk): 005 is 007 with every appended
/// byte journalled, 004 is 005 without a cut, 003 is 004 without the times.
const MAGIC_005: &[u8; 8] = b"NOAIJ005";
const MAGIC_004: &[u8; 8] = b"NOAIJ004";
const MAGIC_003: &[u8; 8] = b"NOAIJ003";
const KNOWN: [&[u8; 8]; 4] = [MAGIC, MAGIC_005, MAGIC_004, MAGIC_003];
const FAMILY: &[u8] = b"NOAIJ";
/// No journal of ours is larger, or has more regions: a bigger one is not trusted.
pub const MAX_BYTES: u64 = 64 << 20;
pub const MAX_REGIONS: u64 = 1 << 16;

/// Where the undo journal of `target` lives.
pub fn journal_path(target: &Path) -> PathBuf {
    super::sibling(target, JOURNAL_SUFFIX)
}

/// True for a file name of our journals.
pub fn is_journal_name(name: &std::ffi::OsStr) -> bool {
    let b = name.as_bytes();
    b.starts_with(b".")
        && b.ends_with(JOURNAL_SUFFIX.as_bytes())
        && b.len() > 1 + JOURNAL_SUFFIX.len()
}

/// The file a journal belongs to: a name recorded in it (one of several in a 006 file) when
/// that name leads back to this journal (needed for long, hashed names), else the name of the
/// journal without its dot and suffix. `None` when neither leads back to `journal`. An 008
/// journal belongs to every file it names (`targets_of`).
pub fn target_of(journal: &Path, rec: &[u8]) -> Option<PathBuf> {
    let belongs = |t: PathBuf| (journal_path(&t) == journal).then_some(t);
    let names = match super::bundle::is_framed(rec) {
        true => super::bundle::names(rec),
        false => recorded_name(rec).into_iter().collect(),
    };
    let recorded = names
        .into_iter()
        .find_map(|n| belongs(journal.with_file_name(n)));
    recorded.or_else(|| {
        let name = journal.file_name()?.as_bytes();
        let stem = name
            .strip_prefix(b".")?
            .strip_suffix(JOURNAL_SUFFIX.as_bytes())?;
        belongs(journal.with_file_name(OsString::from_vec(stem.to_vec())))
    })
}

/// Every file a journal holds undo data for: each file an 008 journal names (beside it), or
/// the one file of an older journal (`target_of`). A journal that cannot be read (`rec`
/// empty) or is torn is judged by its name.
pub fn targets_of(journal: &Path, rec: &[u8]) -> Vec<PathBuf> {
    // A folder's journal cut short while it was written is named after one of its files,
    // none of which was touched: that one settles it (by removing it).
    if !rec.starts_with(super::bundle::MAGIC) || super::bundle::records(rec).is_none() {
        return target_of(journal, rec).into_iter().collect();
    }
    super::bundle::names(rec)
        .into_iter()
        .filter(|n| plain_name(n.as_bytes()))
        .map(|n| journal.with_file_name(n))
        .collect()
}

/// True for a name that can only be a file of the journal's own folder (no `/`, not `.` or
/// `..`, not empty): the only names a record may give.
pub fn plain_name(name: &[u8]) -> bool {
    !name.is_empty() && !name.contains(&b'/') && name != b"." && name != b".."
}

/// The file name a single record gives.
pub fn recorded_name(rec: &[u8]) -> Option<&OsStr> {
    split_name(rec).map(|(name, _)| OsStr::from_bytes(name))
}

/// Splits a record after the magic into the recorded file name and the rest.
fn split_name(rec: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = KNOWN.iter().find_map(|m| rec.strip_prefix(*m))?;
    let n = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
    let name = rest.get(8..8usize.checked_add(n)?)?;
    Some((name, &rest[8 + n..]))
}

/// One region of a patch as the journal keeps it: where, the old bytes, the new length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    pub offset: u64,
    pub old: Vec<u8>,
    pub new_len: u64,
}

/// One region as recovery reads it back: where, the old bytes and the new bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub offset: u64,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Record layout (little-endian): MAGIC, name length + name, dev, ino, old size, new size,
/// the original mtime and atime (seconds, nanoseconds; 004 only), region count, then per region offset, old length, new length, old bytes, new bytes; SHA-256
/// of everything before it. dev and ino are a hint only: they change across remounts.
fn encode(name: &[u8], snap: &Snapshot, new_size: u64, changes: &[(&Undo, &[u8])]) -> Vec<u8> {
    let body: usize = changes
        .iter()
        .map(|(u, n)| 24 + u.old.len() + n.len())
        .sum();
    let mut rec = Vec::with_capacity(96 + name.len() + body);
    // 005 unless the append leaves holes: a downgraded noai can still read what it knows.
    let spans = changes.iter().map(|(u, n)| (u.offset, n.len() as u64));
    let holes = !gaps(snap.size, new_size, spans).is_empty();
    rec.extend_from_slice(if holes { MAGIC } else { MAGIC_005 });
    rec.extend_from_slice(&(name.len() as u64).to_le_bytes());
    rec.extend_from_slice(name);
    for n in [
        snap.dev,
        snap.ino,
        snap.size,
        new_size,
        snap.mtime.0 as u64,
        snap.mtime.1 as u64,
        snap.atime.0 as u64,
        snap.atime.1 as u64,
        changes.len() as u64,
    ] {
        rec.extend_from_slice(&n.to_le_bytes());
    }
    for (u, new) in changes {
        for n in [u.offset, u.old.len() as u64, new.len() as u64] {
            rec.extend_from_slice(&n.to_le_bytes());
        }
        rec.extend_from_slice(&u.old);
        rec.extend_from_slice(new);
    }
    let sum = Sha256::digest(&rec);
    rec.extend_from_slice(&sum);
    rec
}

/// Reads a record front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(usize::try_from(n).ok()?)?;
        self.0 = b;
        Some(a)
    }

    fn num(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// A journal's content, read back.
#[derive(Debug)]
pub struct Decoded {
    pub name: Vec<u8>,
    pub dev: u64,
    pub ino: u64,
    pub old_size: u64,
    pub new_size: u64,
    /// The original (mtime, atime) a rollback puts back; `None` in a 003 journal.
    pub times: Option<[(i64, i64); 2]>,
    pub changes: Vec<Change>,
}

/// The parts of the bytes a write appends (from `old_size` to `new_size`) that none of the
/// writes (offset, length; in order, not overlapping) holds: the holes of a 007 record, which
/// read as zeros in the new version. Empty for a write that appends nothing.
pub fn gaps(
    old_size: u64,
    new_size: u64,
    writes: impl IntoIterator<Item = (u64, u64)>,
) -> Vec<std::ops::Range<u64>> {
    let mut out = Vec::new();
    let mut at = old_size;
    for (offset, len) in writes {
        if offset > at && offset <= new_size {
            out.push(at..offset);
        }
        at = at.max(offset.saturating_add(len));
    }
    if at < new_size {
        out.push(at..new_size);
    }
    out
}

impl Decoded {
    /// The holes of the record (`gaps` of its regions' new bytes); only a 007 record has any.
    pub fn gaps(&self) -> Vec<std::ops::Range<u64>> {
        let spans = self.changes.iter().map(|c| (c.offset, c.new.len() as u64));
        gaps(self.old_size, self.new_size, spans)
    }
}

/// What a journal file holds.
#[derive(Debug)]
pub enum Parsed {
    /// Cut short or damaged while it was being written: the target was not touched yet, since
    /// that happens only after the journal is durable.
    Torn,
    /// Our format, another version (named).
    OtherVersion(String),
    /// Not a journal of ours at all, or one whose checksum holds but whose content cannot be
    /// (regions outside the file, too many): kept for a person.
    Foreign(&'static str),
    Current(Decoded),
}

pub fn parse(rec: &[u8]) -> Parsed {
    if rec.len() < MAGIC.len() && MAGIC.starts_with(rec) || rec.iter().all(|&b| b == 0) {
        return Parsed::Torn;
    }
    if !KNOWN.iter().any(|m| rec.starts_with(*m)) {
        return match rec.strip_prefix(FAMILY) {
            Some(v) => Parsed::OtherVersion(String::from_utf8_lossy(&v[..v.len().min(3)]).into()),
            None => Parsed::Foreign("it does not start with noai's journal signature"),
        };
    }
    let Some((body, sum)) = rec.split_at_checked(rec.len().saturating_sub(32)) else {
        return Parsed::Torn;
    };
    if Sha256::digest(body).as_slice() != sum {
        return Parsed::Torn;
    }
    match decode(body) {
        Some(d) => Parsed::Current(d),
        None => Parsed::Foreign("its checksum holds but its regions do not fit its file sizes"),
    }
}

/// The fields of a record whose checksum held; `None` unless every region lies inside the old
/// (old bytes) and new (new bytes) file, in order, and the appended part (new bytes, but for
/// the holes of a 007 record) or the cut
/// part (old bytes) is all journalled.
fn decode(body: &[u8]) -> Option<Decoded> {
    let (name, rest) = split_name(body)?;
    let mut c = Cursor(rest);
    let (dev, ino, old_size, new_size) = (c.num()?, c.num()?, c.num()?, c.num()?);
    let times = match !body.starts_with(MAGIC_003) {
        true => {
            let mut t = || Some((c.num()? as i64, c.num()? as i64));
            Some([t()?, t()?])
        }
        false => None,
    };
    let count = c.num()?;
    let (cuts, holes) = (
        body.starts_with(MAGIC) || body.starts_with(MAGIC_005),
        body.starts_with(MAGIC),
    );
    if count > MAX_REGIONS || (new_size < old_size && !cuts) {
        return None;
    }
    let (mut changes, mut prev_end) = (Vec::new(), 0u64);
    // How far from the new length the regions reach unbroken in old bytes (a cut tail).
    let mut cut_covered = new_size;
    for _ in 0..count {
        let (offset, old_len, new_len) = (c.num()?, c.num()?, c.num()?);
        let (old, new) = (c.take(old_len)?.to_vec(), c.take(new_len)?.to_vec());
        let (old_end, new_end) = (offset.checked_add(old_len)?, offset.checked_add(new_len)?);
        // An append's regions hold no old bytes (and in 007 may start past the old end).
        if offset < prev_end || (old_len > 0 && old_end > old_size) || new_end > new_size {
            return None;
        }
        if offset <= cut_covered && old_end > cut_covered {
            cut_covered = old_end;
        }
        prev_end = old_end.max(new_end);
        changes.push(Change { offset, old, new });
    }
    // 007 may leave holes in the appended part; everything else must be journalled.
    let spans = changes.iter().map(|c| (c.offset, c.new.len() as u64));
    let whole = (holes || gaps(old_size, new_size, spans).is_empty()) && cut_covered >= old_size;
    (c.0.is_empty() && whole).then(|| Decoded {
        name: name.to_vec(),
        dev,
        ino,
        old_size,
        new_size,
        times,
        changes,
    })
}

/// The record of one in-place write: `new_bytes` are the bytes each region of `undo` gets.
/// Errors when the two do not match or the change is too large for a journal.
pub fn record(
    target: &Path,
    snap: &Snapshot,
    new_size: u64,
    undo: &[Undo],
    new_bytes: &[&[u8]],
) -> Result<Vec<u8>> {
    if undo.len() != new_bytes.len()
        || undo
            .iter()
            .zip(new_bytes)
            .any(|(u, n)| u.new_len != n.len() as u64)
    {
        return Err(bad!(
            Refused,
            "internal check: journal regions do not match the write"
        ));
    }
    let name = target.file_name().unwrap_or_default().as_bytes();
    let changes: Vec<(&Undo, &[u8])> = undo.iter().zip(new_bytes.iter().copied()).collect();
    let rec = encode(name, snap, new_size, &changes);
    // Room for the 006 frame around it, so it is never refused when written.
    if rec.len() as u64 > MAX_BYTES - 64 || undo.len() as u64 > MAX_REGIONS {
        return Err(bad!(
            Refused,
            "the in-place change is too large for an undo journal ({} bytes, {} regions); not written",
            rec.len(),
            undo.len()
        ));
    }
    Ok(rec)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
