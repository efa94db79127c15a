//! Finding a file's journal by reading its folder, and settling it for the files held.

use super::*;
use crate::write::Snapshot;
use crate::write::journal::{Undo, journal_path, record};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// `dir/name` holding `HEADER-OLD-AUDIO` and its record of writing `NEW` over `OLD`.
fn file(dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let p = dir.join(name);
    std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
    let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
    let undo = [Undo {
        offset: 7,
        old: b"OLD".to_vec(),
        new_len: 3,
    }];
    let rec = record(&p, &snap, 16, &undo, &[b"NEW"]).unwrap();
    (p, rec)
}

/// A folder's journal for `files`, left as a kill leaves it; and its path.
fn left(files: &[(PathBuf, Vec<u8>)]) -> PathBuf {
    let items: Vec<(&Path, Vec<u8>)> = files
        .iter()
        .map(|(p, r)| (p.as_path(), r.clone()))
        .collect();
    let js: Vec<_> = super::super::bundle::write(&items)
        .into_iter()
        .map(|j| j.unwrap())
        .collect();
    let path = js[0].path().to_path_buf();
    js.into_iter().for_each(|j| j.abandon());
    path
}

/// Settles `held` (files of one folder) as if `listed` were its listing; keyed by path.
fn settled<'a>(listed: Folder, held: &[&'a Path]) -> HashMap<&'a Path, Result<()>> {
    let names = held.iter().map(|f| f.file_name().unwrap()).collect();
    let out = settle_folder(parent_dir(held[0]), listed, names);
    (held.iter())
        .map(|f| (*f, out[f.file_name().unwrap()].clone()))
        .collect()
}

/// `settle_in` for `held`, keyed by path.
fn settle_all<'a>(held: &[&'a Path]) -> HashMap<&'a Path, Result<()>> {
    let out = settle_in(parent_dir(held[0]), held);
    held.iter().copied().zip(out).collect()
}

fn tear(p: &Path) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.write_all_at(b"NE", 7).unwrap();
}

#[test]
fn every_file_a_folders_journal_names_is_found_not_only_its_namesake() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    let (other, _) = file(d.path(), "c.flac");
    let j = left(&files);
    assert_eq!(j, journal_path(&files[0].0));
    let named = Named::default();
    assert_eq!(named.of(&files[0].0), vec![j.clone()]);
    assert_eq!(named.of(&files[1].0), vec![j.clone()]);
    assert!(named.of(&other).is_empty());
}

#[test]
fn a_held_file_is_settled_with_the_rest_of_its_folders_journal() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    left(&files);
    files.iter().for_each(|(p, _)| tear(p));
    let held = std::fs::File::open(&files[1].0).unwrap();
    held.try_lock().unwrap();
    let out = settle_all(&[files[1].0.as_path()]);
    assert_eq!(out.len(), 1);
    assert!(out[files[1].0.as_path()].is_ok(), "{out:?}");
    for (p, _) in &files {
        assert_eq!(std::fs::read(p).unwrap(), b"HEADER-OLD-AUDIO");
    }
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        2,
        "journal gone"
    );
}

/// The listing is stale: the journal it saw was settled by another process, which kept a
/// file's record in a new journal. The folder is read again and the new one settled.
#[test]
fn a_journal_gone_since_the_listing_makes_the_folder_read_again() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac")];
    let stale = Named::default();
    assert!(stale.of(&files[0].0).is_empty());
    let gone = d.path().join(".x.flac.noai-journal");
    let entry = HashMap::from([(OsString::from("a.flac"), vec![gone])]);
    let kept = left(&files);
    tear(&files[0].0);
    let out = settled(Ok(entry), &[files[0].0.as_path()]);
    assert!(out[files[0].0.as_path()].is_ok(), "{out:?}");
    assert_eq!(std::fs::read(&files[0].0).unwrap(), b"HEADER-OLD-AUDIO");
    assert!(!kept.exists());
}

/// A journal that another process holds locked is never judged: neither a folder's (its
/// writer or another settler at work) nor an older one, even cut short (an older noai writing
/// it). A journal being written has a temp name, never a journal name.
#[test]
fn a_journal_being_written_or_held_by_another_process_is_left_alone() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    let j = left(&files[..1]);
    tear(&files[0].0);
    let partial = journal_path(&files[1].0);
    std::fs::write(&partial, b"NOAI").unwrap();
    let holders: Vec<std::fs::File> = [&j, &partial]
        .iter()
        .map(|p| std::fs::File::open(p).unwrap())
        .collect();
    holders.iter().for_each(|h| h.try_lock().unwrap());
    let held = [files[0].0.as_path(), files[1].0.as_path()];
    let out = settle_all(&held);
    for f in held {
        let e = out[f].as_ref().unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Busy, "{e}");
    }
    assert!(j.exists() && partial.exists());
    assert_eq!(std::fs::read(&partial).unwrap(), b"NOAI");
    drop(holders);
    // A temp file of a journal in the making is not a journal name.
    let (tmp, _f) = super::super::bundle::write_temp(&j, b"").unwrap();
    assert!(!is_journal_name(tmp.file_name().unwrap()));
    assert!(super::super::is_temp_name(tmp.file_name().unwrap()));
}

/// A journal that cannot be read (here a symbolic link) may name any file of its folder:
/// every file there is refused, by a writing job and a read-only one alike.
#[test]
fn a_journal_that_cannot_be_read_holds_every_file_of_its_folder() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    let link = d.path().join(".elsewhere.noai-journal");
    std::os::unix::fs::symlink("/nonexistent", &link).unwrap();
    let held = [files[0].0.as_path(), files[1].0.as_path()];
    let named = Named::default();
    for f in held {
        assert_eq!(named.of(f), vec![link.clone()]);
    }
    let out = settle_all(&held);
    for f in held {
        let e = out[f].as_ref().unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
    }
    assert!(link.is_symlink());
}

/// Settling keeps the records of the files it cannot settle in a journal owned as the old
/// one was, under the old one's name (root only: it gives the journal away).
#[test]
fn the_kept_journal_keeps_its_owner_and_its_name() {
    use std::os::unix::fs::MetadataExt;
    if super::super::access::euid() != 0 {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    for (p, _) in &files {
        std::os::unix::fs::chown(p, Some(4242), Some(4343)).unwrap();
    }
    let j = left(&files);
    std::os::unix::fs::chown(&j, Some(4242), Some(4343)).unwrap();
    tear(&files[0].0);
    let f = std::fs::File::options()
        .write(true)
        .open(&files[1].0)
        .unwrap();
    f.write_all_at(b"XYZ", 7).unwrap();
    let out = settle_all(&[files[0].0.as_path()]);
    assert!(out[files[0].0.as_path()].is_ok(), "{out:?}");
    let meta = std::fs::metadata(&j).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
    assert_eq!(recover::journal_targets(&j), vec![files[1].0.clone()]);
}

/// A journal's temp file is judged by its lock, not its pid (which a later run may get again):
/// kept while its writer holds it, removed once nobody does, even under this run's own pid.
#[test]
fn a_journal_temp_file_is_stale_once_nobody_holds_it() {
    let d = tempfile::tempdir().unwrap();
    let (tmp, f) =
        super::super::bundle::write_temp(&d.path().join(".a.noai-journal"), b"x").unwrap();
    assert!(!super::super::remove_stale_temp(&tmp).unwrap());
    assert!(tmp.exists());
    drop(f);
    assert!(super::super::remove_stale_temp(&tmp).unwrap());
    assert!(!tmp.exists());
}

/// A folder that cannot be listed (search permission without read) hides which journal names
/// a file: a writing run refuses every file there; a read-only one still sees the journal
/// named after a file.
#[test]
fn a_folder_that_cannot_be_listed_refuses_its_files_to_a_writing_run() {
    let d = tempfile::tempdir().unwrap();
    let files = [file(d.path(), "a.flac"), file(d.path(), "b.flac")];
    let denied = || Err("Permission denied (os error 13)".to_string());
    let held = [files[0].0.as_path(), files[1].0.as_path()];
    let out = settled(denied(), &held);
    for f in held {
        let e = out[f].as_ref().unwrap_err().to_string();
        assert!(e.contains("cannot list the folder"), "{e}");
    }
    let named = Named::default();
    (named.lock()).insert(d.path().to_path_buf(), Arc::new(denied()));
    assert!(named.of(&files[0].0).is_empty());
    std::fs::write(journal_path(&files[0].0), b"").unwrap();
    assert_eq!(named.of(&files[0].0), vec![journal_path(&files[0].0)]);
    assert!(named.of(&files[1].0).is_empty());
}
