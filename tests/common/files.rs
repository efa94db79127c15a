//! Files as the tests see them: bytes, stat and mtime, hashes, and what noai may leave beside a
//! file (journals, temp files).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// ID3v2's syncsafe integer (7 bits a byte, big-endian), as tag and frame sizes built by hand
/// need it.
pub fn syncsafe(n: u32) -> [u8; 4] {
    [
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ]
}

pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// (inode, size, mtime seconds, mtime nanoseconds)
pub fn stat(path: &Path) -> (u64, u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

/// Sets a file's mtime to an old, fixed value so "unchanged" is visible.
pub fn age(path: &Path) {
    let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

/// (bytes, mtime): what "nothing was written" compares.
pub fn state(f: &Path) -> (Vec<u8>, (i64, i64)) {
    let (_, _, s, ns) = stat(f);
    (bytes(f), (s, ns))
}

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of `b`, lowercase hex.
pub fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

/// Every file with `.noai-` in its name (journals, temp files) under `dir`, recursively.
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(leftovers(&p));
        } else if e.file_name().as_bytes().windows(6).any(|w| w == b".noai-") {
            out.push(p);
        }
    }
    out
}

/// The records of a folder's journal (format 008: magic, count, per record its length and the
/// record), as far as they are there: a journal read while it is still being written gives
/// what it holds so far; any other file gives none.
pub fn journal_records(data: &[u8]) -> Vec<&[u8]> {
    if !data.starts_with(b"NOAIJ008") {
        return Vec::new();
    }
    let num = |at: usize| {
        let b = data.get(at..at + 8)?;
        usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok()
    };
    let (mut out, mut at) = (Vec::new(), 16);
    for _ in 0..num(8).unwrap_or(0) {
        let Some(rec) = num(at).and_then(|len| data.get(at + 8..at + 8 + len)) else {
            break;
        };
        out.push(rec);
        at += 8 + rec.len();
    }
    out
}

/// The file name a journal record gives (after its magic and the name's length).
pub fn record_name(rec: &[u8]) -> &std::ffi::OsStr {
    let k = u64::from_le_bytes(rec[8..16].try_into().unwrap()) as usize;
    std::ffi::OsStr::from_bytes(&rec[16..16 + k])
}

/// The files the undo journals under `dir` (recursively) hold undo data for: each file a
/// folder's journal (format 008) names inside it, else the file a journal's own name gives.
/// A journal read while it is still being written names what it holds so far.
pub fn journalled(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for j in leftovers(dir) {
        let name = j.file_name().unwrap().as_bytes();
        let Some(stem) = (name.strip_prefix(b".")).and_then(|n| n.strip_suffix(b".noai-journal"))
        else {
            continue;
        };
        let data = std::fs::read(&j).unwrap_or_default();
        if !data.starts_with(b"NOAIJ008") {
            out.push(j.with_file_name(std::ffi::OsStr::from_bytes(stem)));
            continue;
        }
        let whole = journal_records(&data).into_iter().filter(|r| r.len() >= 16);
        out.extend(whole.map(|r| j.with_file_name(record_name(r))));
    }
    out
}

/// The names in `dir` other than `keep` (sorted): a write must leave nothing beside its file.
pub fn others_beside(dir: &Path, keep: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != keep)
        .collect();
    names.sort();
    names
}

/// The undo journal noai keeps beside `p` while it writes it in place.
pub fn journal_of(p: &Path) -> PathBuf {
    let mut name = b".".to_vec();
    name.extend_from_slice(p.file_name().unwrap().as_bytes());
    name.extend_from_slice(b".noai-journal");
    p.with_file_name(std::ffi::OsStr::from_bytes(&name))
}

pub fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
