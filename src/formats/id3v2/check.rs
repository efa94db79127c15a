//! The authoritative check of an ID3v2 edit, run on the planned bytes before anything is
//! written. Our walk must explain every byte of the old tag (or the file is refused), the new tag
//! must keep every frame that is not ours byte for byte, and the `id3` crate, a parser we did not
//! write, must agree: it reads the old tag, must see the frames our walk sees, and must find
//! every other frame of the new tag equal and the new fields present.
//!
//! The id3 crate (1.17.2) reads v2.4 frame sizes as syncsafe only, and skips a v2.3 extended
//! header by the wrong length; lofty 0.25.5 reads v2.4 sizes the same way. When the crate's
//! reading of the tag as it is disagrees with ours, it reads a canonical copy instead (same
//! frames, syncsafe sizes, no extended header, no tag-level unsynchronisation). When it cannot
//! read even that (grouped or encrypted frames) or reads other frames than we do (it keeps only
//! the last of two frames with the same id or description), our walk, which left no byte
//! unexplained, and the byte-for-byte frame comparison stand alone.

use std::ops::Range;

use super::{Edit, FLAG_UNSYNC, Result, Sizes, Tag, assemble, parse, to_syncsafe};
use crate::bad;
use crate::formats::xmp;

/// `cross_check` while planning, for a dry run only (`Edit::precheck`): a plan that is written
/// is checked by the write layer's proof.
pub fn precheck(old: &[u8], new: &[u8], edit: &Edit) -> Result<()> {
    match edit.precheck {
        true => cross_check(old, new, edit),
        false => Ok(()),
    }
}

/// Checks that `new` is `old` with `edit` applied and nothing else changed (both whole tags,
/// header included; an empty `old` stands for a file that had no tag). The error says which
/// frame would change.
pub fn cross_check(old: &[u8], new: &[u8], edit: &Edit) -> Result<()> {
    let empty;
    let old = if old.is_empty() {
        empty = assemble(3, 0, &[], Some(10))?;
        &empty[..]
    } else {
        old
    };
    let before = parse(old).map_err(|e| {
        bad!(
            Refused,
            "the ID3v2 tag is not fully understood ({e}); not written"
        )
    })?;
    let after = parse(new).map_err(|e| {
        bad!(
            Refused,
            "internal check: the new ID3v2 tag does not parse ({e}); not written"
        )
    })?;
    compare_raw(&before, &after, edit)?;
    if let Some(done) = with_id3(old, new, &before, edit) {
        return done;
    }
    // Only now build the canonical copies (they copy every frame, pictures included).
    let (a, b) = (before.canonical()?, after.canonical()?);
    if let Some(done) = with_id3(&a, &b, &before, edit) {
        return done;
    }
    Ok(())
}

/// The id3 crate's comparison of `old` and `new`, or `None` when its reading of `old` does
/// not match our walk's (then it has nothing to say about these bytes).
fn with_id3(old: &[u8], new: &[u8], ours: &Tag, edit: &Edit) -> Option<Result<()>> {
    let t = read(old).ok().filter(|t| same_frames(t, ours))?;
    Some(
        read(new)
            .map_err(|e| {
                bad!(
                    Refused,
                    "internal check: the id3 crate cannot read the new ID3v2 tag ({e}); not written"
                )
            })
            .and_then(|n| compare_id3(&t, &n, edit)),
    )
}

fn read(b: &[u8]) -> std::result::Result<id3::Tag, id3::Error> {
    id3::Tag::read_from2(std::io::Cursor::new(b))
}

/// A TXXX frame the edit removes or sets, or the XMP packet (merged, and checked apart).
fn is_ours_key(key: &str, edit: &Edit) -> bool {
    edit.removes(key) || edit.set.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// Our frames and theirs, byte for byte (tag-level unsynchronisation undone).
fn compare_raw(old: &Tag, new: &Tag, edit: &Edit) -> Result<()> {
    // Each kept frame with its position in its tag (1-based, for the message).
    let kept = |t: &Tag| -> Vec<(usize, Range<usize>)> {
        (t.spans.iter().enumerate())
            .filter(|(_, s)| !t.is_ours(s, edit))
            .map(|(i, s)| (i + 1, s.clone()))
            .collect()
    };
    let (a, b) = (kept(old), kept(new));
    for (i, (at, s)) in a.iter().enumerate() {
        let same = b
            .get(i)
            .is_some_and(|(_, n)| new.frames[n.clone()] == old.frames[s.clone()]);
        if !same {
            return Err(bad!(
                Refused,
                "internal check: the edit would change ID3v2 frame {} (frame {at} of the tag); \
                 not written",
                old.id(s)
            ));
        }
    }
    if let Some((_, extra)) = b.get(a.len()) {
        return Err(bad!(
            Refused,
            "internal check: the edit would add ID3v2 frame {}; not written",
            new.id(extra)
        ));
    }
    // The XMP packet is ours to merge, never to drop, unless it held nothing but ours.
    let only_ours = |p: &[u8]| xmp::merge(Some(p), &[]).and_then(|m| xmp::is_empty(&m));
    if let Some(p) = old.xmp()?
        && new.xmp()?.is_none()
        && !(edit.set.is_empty() && only_ours(&p)?)
    {
        return Err(bad!(
            Refused,
            "internal check: the edit would drop the XMP packet (ID3 PRIV); not written"
        ));
    }
    let fields = new.fields()?;
    for (k, v) in &edit.set {
        if !fields.iter().any(|f| &f.key == k && &f.value == v) {
            return Err(bad!(
                Refused,
                "internal check: {k} missing from the new ID3v2 tag; not written"
            ));
        }
    }
    Ok(())
}

/// The id3 crate sees the frames our walk sees: as many, with the same ids in order (v2.2 ids
/// are renamed by the crate, so only the count is compared there).
fn same_frames(t: &id3::Tag, ours: &Tag) -> bool {
    let theirs: Vec<&str> = t.frames().map(|f| f.id()).collect();
    theirs.len() == ours.spans.len()
        && (ours.major == 2
            || theirs
                .iter()
                .zip(&ours.spans)
                .all(|(id, s)| id.as_bytes() == ours.id(s).as_bytes()))
}

fn compare_id3(old: &id3::Tag, new: &id3::Tag, edit: &Edit) -> Result<()> {
    let ours = |f: &id3::Frame| {
        matches!(f.content(), id3::Content::Private(p) if p.owner_identifier == "XMP")
            || f.content()
                .extended_text()
                .is_some_and(|t| is_ours_key(&t.description, edit))
    };
    let kept = |t: &id3::Tag| {
        (t.frames().enumerate())
            .filter(|(_, f)| !ours(f))
            .map(|(i, f)| (i + 1, f.clone()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (kept(old), kept(new));
    for (i, (at, f)) in a.iter().enumerate() {
        if b.get(i).map(|(_, n)| n) != Some(f) {
            return Err(bad!(
                Refused,
                "internal check (id3 crate): the edit would change ID3v2 frame {} (frame {at} \
                 of the tag); not written",
                f.id()
            ));
        }
    }
    if let Some((_, f)) = b.get(a.len()) {
        return Err(bad!(
            Refused,
            "internal check (id3 crate): the edit would add ID3v2 frame {}; not written",
            f.id()
        ));
    }
    for (k, v) in &edit.set {
        if !new
            .frames()
            .filter_map(|f| f.content().extended_text())
            .any(|t| &t.description == k && &t.value == v)
        {
            return Err(bad!(
                Refused,
                "internal check (id3 crate): {k} missing from the new ID3v2 tag; not written"
            ));
        }
    }
    Ok(())
}

impl Tag {
    /// The frame id at `span`, for messages.
    fn id(&self, span: &Range<usize>) -> String {
        let n = if self.major == 2 { 3 } else { 4 };
        String::from_utf8_lossy(&self.frames[span.start..span.start + n]).into_owned()
    }

    fn is_ours(&self, span: &Range<usize>, edit: &Edit) -> bool {
        self.is_xmp(span)
            || (self.is_user_text(span)
                && self
                    .user_text(span)
                    .is_ok_and(|f| is_ours_key(&f.key, edit)))
    }

    /// The same frames in the plainest tag the id3 crate reads right: syncsafe v2.4 sizes, no
    /// extended header or footer, no tag-level unsynchronisation before v2.4.
    fn canonical(&self) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(self.frames.len());
        for s in &self.spans {
            let at = body.len();
            body.extend_from_slice(&self.frames[s.clone()]);
            if self.major == 4 && self.sizes == Sizes::Plain {
                let n = u32::try_from(s.len() - 10)
                    .map_err(|_| bad!(Unsupported, "ID3v2 frame too large"))?;
                body[at + 4..at + 8].copy_from_slice(&to_syncsafe(n));
            }
        }
        let flags = if self.major == 4 {
            self.flags & FLAG_UNSYNC
        } else {
            0
        };
        assemble(self.major, flags, &body, Some(10 + body.len()))
    }
}
