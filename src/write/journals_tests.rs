//! Finding a file's journal by reading its folder, and settling it for the files held.

use super::*;
use crate::write::Snapshot;
use crate::write::journal::{Undo, journal_path, record};
use std::os::unix::fs::FileExt;

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
    let named = find([files[1].0.as_path(), other.as_path()]);
    assert_eq!(named.of(&files[0].0), std::slice::from_ref(&j));
    assert_eq!(named.of(&files[1].0), std::slice::from_ref(&j));
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
    let named = find([files[1].0.as_path()]);
    let out = named.settle(&[files[1].0.as_path()]);
    assert_eq!(out.len(), 1);
    assert!(out[&files[1].0].is_ok(), "{out:?}");
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
    let stale = find([files[0].0.as_path()]);
    assert!(stale.of(&files[0].0).is_empty());
    let mut named = Named::default();
    let gone = d.path().join(".x.flac.noai-journal");
    let entry = HashMap::from([(OsString::from("a.flac"), vec![gone])]);
    named.folders.insert(d.path().to_path_buf(), entry);
    let kept = left(&files);
    tear(&files[0].0);
    let out = named.settle(&[files[0].0.as_path()]);
    assert!(out[&files[0].0].is_ok(), "{out:?}");
    assert_eq!(std::fs::read(&files[0].0).unwrap(), b"HEADER-OLD-AUDIO");
    assert!(!kept.exists());
}
