//! Discovery: the roots walked in a stable, sorted order; audio candidates chosen by extension
//! (the container is decided later by content); hidden and excluded entries left out; symlinks
//! not followed unless asked. Also notices the journals and temp files of interrupted runs.
//! Inside folders, what is not audio is skipped silently; a path named explicitly (an argument or
//! a `--files-from` line) that cannot be processed is an error, so a wrong path fails a CI job.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::BufRead;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use walkdir::WalkDir;

use crate::bad;
use crate::config::{Roots, WalkOptions};
use crate::error::{ErrorKind, FileError};
use crate::write;

/// File extensions (lowercase) that make a file a candidate (SPEC §4).
pub const AUDIO_EXTENSIONS: [&str; 25] = [
    "mp3", "wav", "aif", "aiff", "aifc", "flac", "ogg", "oga", "opus", "spx", "m4a", "m4b", "mp4",
    "rf64", "bw64", "dsf", "dff", "wv", "ape", "mpc", "tta", "wma", "asf", "mka", "webm",
];

/// Why an entry is not processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    NotAudio,
    Symlink,
    NotRegular,
}

impl Skip {
    /// The reason as the summary counts it.
    pub fn name(self) -> &'static str {
        match self {
            Skip::NotAudio => "not-audio",
            Skip::Symlink => "symlink",
            Skip::NotRegular => "not-a-regular-file",
        }
    }
}

/// One entry the walk produced, in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Candidate(PathBuf),
    Skipped(PathBuf, Skip),
    /// A path that could not be walked (permission denied, loop, too long…).
    Error(PathBuf, FileError),
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::Candidate(p) | Found::Skipped(p, _) | Found::Error(p, _) => p,
        }
    }
}

type Entries = Box<dyn Iterator<Item = walkdir::Result<walkdir::DirEntry>>>;

/// The walk as a stream of `Found`, root by root, in sorted order: a catalogue of any size is
/// processed in chunks without listing it first.
pub struct Walker {
    opts: WalkOptions,
    roots: RootSource,
    current: Option<(PathBuf, Entries)>,
    /// The listing of an `s3://` root (src/remote/), walked in place of a folder.
    listing: Option<Box<dyn Iterator<Item = Found>>>,
    seen: HashSet<(u64, u64)>,
    /// Undo journals and temp files of an interrupted run, noticed on the way.
    leftovers: Rc<RefCell<Vec<PathBuf>>>,
}

pub fn is_audio_name(name: &OsStr) -> bool {
    Path::new(name)
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn is_leftover(name: &OsStr) -> bool {
    write::is_journal_name(name) || write::is_temp_name(name)
}

/// The roots, from the command line or read lazily from a `--files-from` list.
enum RootSource {
    Paths(std::vec::IntoIter<PathBuf>),
    List {
        reader: Box<dyn BufRead>,
        null: bool,
    },
    Failed(Option<(PathBuf, FileError)>),
}

impl RootSource {
    fn open(roots: &Roots) -> RootSource {
        match roots {
            Roots::Paths(p) => RootSource::Paths(p.clone().into_iter()),
            Roots::List { from, null } => {
                let reader: std::io::Result<Box<dyn BufRead>> = if from.as_os_str() == "-" {
                    Ok(Box::new(std::io::BufReader::new(std::io::stdin())))
                } else {
                    std::fs::File::open(from)
                        .map(|f| Box::new(std::io::BufReader::new(f)) as Box<dyn BufRead>)
                };
                match reader {
                    Ok(reader) => RootSource::List {
                        reader,
                        null: *null,
                    },
                    Err(e) => RootSource::Failed(Some((
                        from.clone(),
                        FileError::io_read("cannot read the path list", &e),
                    ))),
                }
            }
        }
    }

    /// The next root, or an error to report in its place.
    fn next(&mut self) -> Option<Result<PathBuf, (PathBuf, FileError)>> {
        match self {
            RootSource::Paths(it) => it.next().map(Ok),
            RootSource::Failed(e) => e.take().map(Err),
            RootSource::List { reader, null } => loop {
                let mut line = Vec::new();
                let sep = if *null { 0 } else { b'\n' };
                match reader.read_until(sep, &mut line) {
                    Ok(0) => return None,
                    Ok(_) => {
                        if line.last() == Some(&sep) {
                            line.pop();
                        }
                        if !*null && line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        if !line.is_empty() {
                            return Some(Ok(PathBuf::from(std::ffi::OsString::from_vec(line))));
                        }
                    }
                    Err(e) => {
                        return Some(Err((
                            PathBuf::from("-"),
                            FileError::io_read("cannot read the path list", &e),
                        )));
                    }
                }
            },
        }
    }
}

pub fn walk(opts: &WalkOptions) -> Walker {
    Walker {
        opts: opts.clone(),
        roots: RootSource::open(&opts.roots),
        current: None,
        listing: None,
        seen: HashSet::new(),
        leftovers: Rc::new(RefCell::new(Vec::new())),
    }
}

impl Walker {
    /// The journals and temp files seen so far (all of them once the walk is done).
    pub fn leftovers(&self) -> Vec<PathBuf> {
        self.leftovers.borrow().clone()
    }

    fn entries(&self, root: &Path) -> Entries {
        let (root_owned, opts, leftovers) = (
            root.to_path_buf(),
            self.opts.clone(),
            self.leftovers.clone(),
        );
        let walker = WalkDir::new(root)
            .follow_links(opts.follow_symlinks)
            .follow_root_links(opts.follow_symlinks)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(move |e| {
                let name = e.file_name();
                if e.depth() > 0 && is_leftover(name) {
                    leftovers.borrow_mut().push(e.path().to_path_buf());
                    return false;
                }
                let rel = e.path().strip_prefix(&root_owned).unwrap_or(e.path());
                let excluded =
                    e.depth() > 0 && (opts.excludes.is_match(rel) || opts.excludes.is_match(name));
                let hidden = e.depth() > 0 && !opts.hidden && is_hidden(name);
                !excluded && !hidden
            });
        Box::new(walker)
    }
}

impl Iterator for Walker {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            if let Some(listing) = &mut self.listing {
                match listing.next() {
                    Some(found) => return Some(found),
                    None => self.listing = None,
                }
            }
            if self.current.is_none() {
                let root = match self.roots.next()? {
                    Ok(root) => root,
                    Err((path, msg)) => return Some(Found::Error(path, msg)),
                };
                if crate::remote::is_remote(&root) {
                    self.listing = Some(crate::remote::list(&root, &self.opts));
                    continue;
                }
                let entries = self.entries(&root);
                self.current = Some((root, entries));
            }
            let (root, entries) = self.current.as_mut()?;
            match entries.next() {
                None => self.current = None,
                Some(Ok(e)) => {
                    if let Some(found) = classify(e, &self.opts, &mut self.seen) {
                        return Some(found);
                    }
                }
                Some(Err(err)) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    let e = match (err.loop_ancestor(), err.io_error()) {
                        (Some(a), _) => bad!(Unsupported, "symlink loop back to {}", a.display()),
                        (None, Some(e)) => {
                            FileError::new(ErrorKind::of_io(e, ErrorKind::IoRead), e.to_string())
                        }
                        (None, None) => bad!(IoRead, "{err}"),
                    };
                    return Some(Found::Error(path, e));
                }
            }
        }
    }
}

fn classify(
    e: walkdir::DirEntry,
    opts: &WalkOptions,
    seen: &mut HashSet<(u64, u64)>,
) -> Option<Found> {
    let ft = e.file_type();
    if ft.is_dir() {
        return None;
    }
    let explicit = e.depth() == 0;
    let path = e.into_path();
    if explicit && let Some(why) = refused_root(&path, ft) {
        return Some(Found::Error(path, why));
    }
    if ft.is_symlink() {
        // Only reached when not following (a followed link reports its target's type).
        let skip = if is_audio_name(path.as_os_str()) {
            Skip::Symlink
        } else {
            Skip::NotAudio
        };
        return Some(Found::Skipped(path, skip));
    }
    if !is_audio_name(path.file_name().unwrap_or_default()) {
        return Some(Found::Skipped(path, Skip::NotAudio));
    }
    if !ft.is_file() {
        return Some(Found::Skipped(path, Skip::NotRegular));
    }
    if opts.follow_symlinks {
        // The same file reached twice through links is processed once.
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(&path)
            && !seen.insert((m.dev(), m.ino()))
        {
            return None;
        }
    }
    Some(Found::Candidate(path))
}

/// Why a path given explicitly is not processed, if it is not: skipping it silently would let a
/// CI job with a wrong path pass while nothing was checked.
fn refused_root(path: &Path, ft: std::fs::FileType) -> Option<FileError> {
    if ft.is_symlink() {
        // A link to a folder lands here too: say why it was not walked.
        Some(bad!(
            Unsupported,
            "a symbolic link, not followed without -L/--follow-symlinks"
        ))
    } else if !is_audio_name(path.as_os_str()) {
        let exts = AUDIO_EXTENSIONS.map(|e| format!(".{e}")).join(" ");
        Some(bad!(
            Unsupported,
            "not a supported audio file (audio files end in {exts})"
        ))
    } else if !ft.is_file() {
        Some(bad!(Unsupported, "not a regular file"))
    } else {
        None
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
