//! The independent check of a Matroska/WebM write, read with `webm-iterable` (an EBML element
//! iterator with the Matroska schema, which we did not write; it shares no code with
//! `formats::mkv`). Both versions are walked element by element and must agree on:
//! - every element outside `Tags`, in order, with its value (binary values and each Cluster's
//!   content compared by SHA-256), leaving out only `Void`s, the `CRC-32` of a SeekHead and
//!   SeekHead entries for `Tags` (our planner may repoint, add or drop those);
//! - the children of the `Tags` elements, leaving out the SimpleTags of the edited keys in
//!   file-level `Tag`s (and such a `Tag` left with no SimpleTag);
//! - the offset of every level-1 element but `Tags` and `Void` (SeekHead and Cues positions
//!   stay right because nothing moved);
//! - in the new version, every SeekHead entry for `Tags` points at a `Tags` element, and a
//!   `Tags` after the first Cluster has such an entry.

use std::io::{Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};
use webm_iterable::WebmIterator;
use webm_iterable::iterator::AllowableErrors;
use webm_iterable::matroska_spec::{EbmlTag, Master, MatroskaSpec};

use super::super::overlay::Unchanged;
use crate::bad;
use crate::formats::{Result, hex};
use crate::model::Edit;

// Element IDs, spelled out here so this check shares nothing with the planner.
const SEGMENT: u64 = 0x1853_8067;
const SEEK_HEAD: u64 = 0x114D_9B74;
const SEEK: u64 = 0x4DBB;
const SEEK_ID: u64 = 0x53AB;
const SEEK_POSITION: u64 = 0x53AC;
const CLUSTER: u64 = 0x1F43_B675;
const TAGS: u64 = 0x1254_C367;
const TAG: u64 = 0x7373;
const TARGETS: u64 = 0x63C0;
const TARGET_TYPE_VALUE: u64 = 0x68CA;
const SIMPLE_TAG: u64 = 0x67C8;
const TAG_NAME: u64 = 0x45A3;
const VOID: u64 = 0xEC;
const CRC32: u64 = 0xBF;
const TAGS_ID: [u8; 4] = [0x12, 0x54, 0xC3, 0x67];

/// What one version holds, as the iterator saw it.
#[derive(Default)]
struct Summary {
    items: Vec<String>,
    tags: Vec<String>,
    /// (ID, offset) of the level-1 elements other than `Tags` and `Void`.
    placed: Vec<(u64, u64)>,
    /// Offsets of the `Tags` elements.
    tags_at: Vec<u64>,
    /// SeekPositions of the SeekHead entries for `Tags`.
    tags_seeks: Vec<u64>,
    data_start: Option<u64>,
    first_cluster: Option<u64>,
}

/// Old and new must agree on everything but the edited SimpleTags (see the module doc).
/// `same`: where both versions are the same bytes of one file (an in-place write's views, but
/// for its regions); a block there is compared by its place and length, not its digest.
pub fn prove<A: Read + Seek, B: Read + Seek>(
    old: &mut A,
    new: &mut B,
    edit: &Edit,
    same: Option<&Unchanged>,
) -> Result<()> {
    let was = summary(old, edit, same).map_err(|e| refused("old", &e))?;
    let now = summary(new, edit, same).map_err(|e| refused("new", &e))?;
    first_difference(&was.items, &now.items, "element")?;
    first_difference(&was.tags, &now.tags, "Tags content")?;
    if was.placed != now.placed {
        return Err(bad!(
            Refused,
            "internal check: the write would move a Matroska element other than Tags; not written"
        ));
    }
    let data = now.data_start.unwrap_or(0);
    for pos in &now.tags_seeks {
        if !now.tags_at.contains(&(data + pos)) {
            return Err(bad!(
                Refused,
                "internal check: a SeekHead entry for Tags would point at byte {}, where no Tags element starts; not written",
                data + pos
            ));
        }
    }
    let late = now
        .tags_at
        .iter()
        .filter(|at| now.first_cluster.is_some_and(|c| **at > c));
    for at in late {
        if !now.tags_seeks.iter().any(|p| data + p == *at) {
            return Err(bad!(
                Refused,
                "internal check: the Tags element after the Clusters (byte {at}) would have no SeekHead entry; not written"
            ));
        }
    }
    Ok(())
}

fn refused(which: &str, e: &str) -> crate::error::FileError {
    bad!(
        Refused,
        "internal check: webm-iterable cannot read the {which} Matroska file ({e}); not written"
    )
}

fn first_difference(was: &[String], now: &[String], what: &str) -> Result<()> {
    if let Some(i) = (0..was.len().max(now.len())).find(|i| was.get(*i) != now.get(*i)) {
        let shown = was.get(i).or(now.get(i)).map_or("", |s| s.as_str());
        let shown: String = shown.chars().take(80).collect();
        return Err(bad!(
            Refused,
            "internal check: the write would change the Matroska {what} #{i} ({shown}); not written"
        ));
    }
    Ok(())
}

/// Walks one version.
fn summary<R: Read + Seek>(
    r: &mut R,
    edit: &Edit,
    same: Option<&Unchanged>,
) -> std::result::Result<Summary, String> {
    let len = r.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    r.rewind().map_err(|e| e.to_string())?;
    let buffered = [
        // (Not `Tags` itself: the iterator reports a buffered master's offset past its header.)
        MatroskaSpec::Tag(Master::Start),
        MatroskaSpec::Seek(Master::Start),
    ];
    let mut it = WebmIterator::new(r, &buffered);
    it.allow_errors(&[AllowableErrors::InvalidTagIds]);
    it.set_max_allowable_tag_size(Some(usize::try_from(len).unwrap_or(usize::MAX)));
    let mut s = Summary::default();
    // The IDs of the open master elements, outermost first.
    let mut stack: Vec<u64> = Vec::new();
    let mut cluster: Option<Sha256> = None;
    while let Some(tag) = it.next() {
        let tag = tag.map_err(|e| e.to_string())?;
        let at = it.last_emitted_tag_offset() as u64;
        let id = tag.get_id();
        let master = tag.as_master();
        if matches!(master, Some(Master::End)) {
            stack.pop();
            if id == CLUSTER
                && let Some(h) = cluster.take()
            {
                s.items
                    .push(format!("Cluster sha256 {}", hex(&h.finalize())));
            }
            continue;
        }
        if stack == [SEGMENT] {
            s.data_start.get_or_insert(at);
            match id {
                TAGS => s.tags_at.push(at),
                VOID => {}
                _ => s.placed.push((id, at)),
            }
            if id == CLUSTER {
                s.first_cluster.get_or_insert(at);
            }
        }
        if let Some(h) = cluster.as_mut() {
            hash_in(h, id, &tag, at, same);
        } else {
            record(&mut s, &stack, &tag, edit);
        }
        if matches!(master, Some(Master::Start)) {
            stack.push(id);
            if id == CLUSTER {
                cluster = Some(Sha256::new());
            }
        }
    }
    Ok(s)
}

/// One element outside the Clusters, as an item (or left out, see the module doc).
fn record(s: &mut Summary, stack: &[u64], tag: &MatroskaSpec, edit: &Edit) {
    let id = tag.get_id();
    let parent = stack.last().copied();
    if id == VOID || id == TAGS || (id == CRC32 && matches!(parent, Some(SEEK_HEAD | TAGS))) {
        return;
    }
    if parent == Some(TAGS) {
        s.tags.extend(tag_content(tag, edit));
        return;
    }
    if id == SEEK {
        let kids = full(tag);
        let seek_id = kids.iter().find(|k| k.get_id() == SEEK_ID);
        if seek_id.and_then(|k| k.as_binary()) == Some(&TAGS_ID[..]) {
            let pos = kids.iter().find(|k| k.get_id() == SEEK_POSITION);
            s.tags_seeks
                .extend(pos.and_then(|p| p.as_unsigned_int()).copied());
            return;
        }
    }
    s.items
        .push(format!("{} {id:#x} {}", stack.len(), value(tag)));
}

/// The children of a buffered master.
fn full(tag: &MatroskaSpec) -> &[MatroskaSpec] {
    match tag.as_master() {
        Some(Master::Full(kids)) => kids,
        _ => &[],
    }
}

/// A value as text: binary data by its SHA-256, a buffered master by its children.
/// Feeds one element inside a Cluster to the Cluster's digest: a binary value (a block) by its
/// bytes, anything else by its text, each tagged and length-prefixed so no two sequences of
/// elements hash alike. (Hashing each block's own digest as text cost a second SHA-256 pass and
/// a string per block.) A block that both versions read from the same bytes of the file (`same`:
/// from its start `at` through the longest header, an 8-byte ID and an 8-byte size, and its
/// data; unknown IDs pass as binary elements too) is fed as its place and
/// length instead: hashing the audio of an in-place write's untouched Clusters was most of its
/// time, and a block moved or cut differently still hashes differently.
fn hash_in(h: &mut Sha256, id: u64, tag: &MatroskaSpec, at: u64, same: Option<&Unchanged>) {
    h.update(id.to_be_bytes());
    let (kind, bytes): (&[u8], std::borrow::Cow<[u8]>) = match tag.as_binary() {
        Some(b) if same.is_some_and(|u| u.covers(&(at..at + 16 + b.len() as u64))) => {
            h.update(b"s");
            h.update(at.to_be_bytes());
            h.update((b.len() as u64).to_be_bytes());
            return;
        }
        Some(b) => (b"b", std::borrow::Cow::Borrowed(b)),
        None => (b"v", value(tag).into_bytes().into()),
    };
    h.update(kind);
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(&bytes);
}

fn value(tag: &MatroskaSpec) -> String {
    if let Some(b) = tag.as_binary() {
        return format!("{} bytes sha256 {}", b.len(), hex(&Sha256::digest(b)));
    }
    match tag.as_master() {
        Some(Master::Full(kids)) => {
            let inner: Vec<String> = kids
                .iter()
                .filter(|k| k.get_id() != VOID)
                .map(|k| format!("{:#x}={}", k.get_id(), value(k)))
                .collect();
            format!("[{}]", inner.join(", "))
        }
        Some(Master::Start) => "start".into(),
        Some(Master::End) => "end".into(),
        None => format!("{tag:?}"),
    }
}

/// A child of a `Tags` element; for a file-level `Tag`, without the edited SimpleTags (and
/// nothing for such a `Tag` they leave empty).
fn tag_content(tag: &MatroskaSpec, edit: &Edit) -> Option<String> {
    if tag.get_id() != TAG {
        return Some(value(tag));
    }
    let kids = full(tag);
    let file_level = kids
        .iter()
        .filter(|k| k.get_id() == TARGETS)
        .flat_map(full)
        .all(|t| match t.get_id() {
            TARGET_TYPE_VALUE => t.as_unsigned_int() == Some(&50),
            _ => t.as_unsigned_int().is_none_or(|v| *v == 0),
        });
    let ours = |k: &MatroskaSpec| {
        file_level
            && k.get_id() == SIMPLE_TAG
            && full(k)
                .iter()
                .find(|n| n.get_id() == TAG_NAME)
                .and_then(|n| n.as_utf8())
                .is_some_and(|n| edited(n.trim_end_matches('\0'), edit))
    };
    let simples = kids.iter().filter(|k| k.get_id() == SIMPLE_TAG).count();
    let kept: Vec<&MatroskaSpec> = kids.iter().filter(|k| !ours(k)).collect();
    let left = kept.iter().filter(|k| k.get_id() == SIMPLE_TAG).count();
    if simples > 0 && left == 0 {
        return None;
    }
    let inner: Vec<String> = kept
        .iter()
        .filter(|k| k.get_id() != VOID)
        .map(|k| format!("{:#x}={}", k.get_id(), value(k)))
        .collect();
    Some(format!("Tag [{}]", inner.join(", ")))
}

/// A key the edit removes or sets.
fn edited(name: &str, edit: &Edit) -> bool {
    edit.removes(name) || edit.set.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

#[cfg(test)]
#[path = "mkv_tests.rs"]
mod tests;
