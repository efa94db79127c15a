//! The walk of one `s3://bucket/prefix` root: the keys starting with the raw prefix, a page
//! (1,000 keys) at a time so memory stays flat, in key order, chosen as the local walk chooses
//! files (audio by name, hidden and excluded keys left out). The size each object has in the
//! listing is kept until the engine reads it, so no HEAD request is needed.

use std::path::Path;

use super::location::Location;
use super::{client, in_shard, set_fatal, sizes};
use crate::config::WalkOptions;
use crate::walk::{Found, Skip, is_audio_name};

pub struct Listing {
    location: Location,
    opts: WalkOptions,
    page: std::vec::IntoIter<(String, u64)>,
    /// `None` before the first page; `Some(None)` after the last.
    token: Option<Option<String>>,
}

/// The walk of `root`; a root that cannot be listed stops the run (see `set_fatal`).
pub fn list(root: &Path, opts: &WalkOptions) -> Box<dyn Iterator<Item = Found>> {
    match Location::parse(root) {
        Ok(location) => Box::new(Listing {
            location,
            opts: opts.clone(),
            page: Vec::new().into_iter(),
            token: None,
        }),
        Err(msg) => Box::new(std::iter::once(Found::Error(
            root.to_path_buf(),
            crate::bad!(IoRead, "{msg}"),
        ))),
    }
}

impl Listing {
    /// Fetches the next page; false when there is none (or the listing failed).
    fn next_page(&mut self) -> bool {
        let token = match self.token.take() {
            Some(None) => {
                self.token = Some(None);
                return false;
            }
            Some(t) => t,
            None => None,
        };
        let client = match client() {
            Ok(c) => c,
            Err(msg) => return self.stop(msg),
        };
        let l = &self.location;
        match client.list_page(&l.bucket, &l.prefix, token) {
            Ok((keys, next)) => {
                self.page = keys.into_iter();
                self.token = Some(next);
                true
            }
            Err(f) => {
                let msg = format!(
                    "cannot list s3://{}/{} at {}: {}",
                    l.bucket,
                    l.prefix,
                    client.settings.endpoint_name(),
                    explain(&f.msg)
                );
                self.stop(msg)
            }
        }
    }

    fn stop(&mut self, msg: String) -> bool {
        set_fatal(msg);
        self.token = Some(None);
        false
    }

    /// What the walk makes of one key, as `walk::classify` does for a file.
    fn classify(&self, key: String, size: u64) -> Option<Found> {
        if key.ends_with('/') {
            return None; // a "folder" marker object
        }
        let rel = key.get(self.location.prefix.len()..).unwrap_or(&key);
        let name = key.rsplit('/').next().unwrap_or(&key);
        let hidden = !self.opts.hidden && rel.split('/').any(|s| s.starts_with('.'));
        let excluded = self.opts.excludes.is_match(rel) || self.opts.excludes.is_match(name);
        if hidden || excluded {
            return None;
        }
        let path = self.location.path_of(&key);
        if !in_shard(&path) {
            return None;
        }
        if !is_audio_name(name.as_ref()) {
            return Some(Found::Skipped(path, Skip::NotAudio));
        }
        let mut sizes = sizes().lock().unwrap_or_else(|e| e.into_inner());
        sizes.entry(path.clone()).or_insert((size, 0)).1 += 1;
        Some(Found::Candidate(path))
    }
}

/// What to do about a listing that failed, for the usual causes.
fn explain(msg: &str) -> String {
    let hint = if msg.contains("403") || msg.contains("401") {
        " (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may list this bucket)"
    } else if msg.contains("404") {
        " (no such bucket?)"
    } else if !msg.starts_with("HTTP") {
        " (check AWS_ENDPOINT_URL, and AWS_ALLOW_HTTP=true for an http:// endpoint)"
    } else {
        ""
    };
    format!("{msg}{hint}")
}

impl Iterator for Listing {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            match self.page.next() {
                Some((key, size)) => {
                    if let Some(found) = self.classify(key, size) {
                        return Some(found);
                    }
                }
                None if self.next_page() => {}
                None => return None,
            }
        }
    }
}
