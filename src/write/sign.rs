//! The signing write path (`tag --sign`): the C2PA SDK writes the signed file into our temp
//! sibling, never into the user's file. Before that, a file the SDK would damage is refused
//! (an ID3v2 tag the `id3` crate cannot read, whose frames the SDK would silently drop; a
//! truncated file, which it signs anyway). After it, the proof (`proof::signed`: every frame,
//! chunk or box but the manifest unchanged; the audio payload unchanged; the manifest reads back
//! Valid with our entries), then the temp file goes the way of every rewrite: owner, mode,
//! extended attributes and (optionally) mtime carried, synced, renamed over the original.
//!
//! Memory: the SDK's RIFF writer holds a WAV in memory (about twice its size), so files above
//! `LARGE` sign one at a time; the rest spool at most `sign::manifest::SPOOL_MB` in memory each.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::Mutex;

use super::{Kind, Options, Staged, Target, access, attrs, flags, proof, rewrite, set_mtime};
use crate::bad;
use crate::error::FileError;
use crate::formats::{self, Result, Source, sniff};
use crate::model::Container;
use crate::sign::{Signer, manifest};

/// Files above this size sign one at a time (the RIFF writer's copy in memory).
pub const LARGE: u64 = 64 << 20;
static ONE_LARGE: Mutex<()> = Mutex::new(());

/// What signing a file came to.
pub enum Signing {
    /// It already carries a Valid manifest with the same entries: nothing to do.
    Already,
    /// The verified signed temp file, ready for `sync` and `Staged::apply`.
    Staged(Box<Staged>),
}

/// Checks, signs into a temp file and proves it; the user's file is unchanged.
pub fn stage(t: &Target, signer: &Signer, mime: &str, opts: Options) -> Result<Signing> {
    access::check(t, true)?;
    if t.snapshot.nlink > 1 {
        return Err(bad!(
            Refused,
            "the file has {} hard links and signing rewrites it, which would split them; not signed",
            t.snapshot.nlink
        ));
    }
    let src = Source::new(t.file, t.snapshot.size);
    precheck(&src, t.container)?;
    // Reading a large manifest's hashes costs memory too: one large file at a time from here.
    let _one =
        (t.snapshot.size > LARGE).then(|| ONE_LARGE.lock().unwrap_or_else(|p| p.into_inner()));
    let ctx = manifest::context(None).map_err(sdk("cannot set up the C2PA reader"))?;
    if manifest::existing(ctx, mime, t.file, &signer.entries) == manifest::Existing::Same {
        return Ok(Signing::Already);
    }
    let (tmp, out) = rewrite::create_temp(t.path)?;
    match fill_and_verify(t, signer, mime, &out, opts) {
        Ok(len) => Ok(Signing::Staged(Box::new(Staged {
            path: t.path.to_path_buf(),
            snapshot: t.snapshot,
            opts,
            kind: Kind::Rewrite(rewrite::Temp {
                path: tmp,
                len,
                cloned: 0,
                holes: 0,
                after: None,
            }),
            applied: false,
        }))),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn sdk(what: &'static str) -> impl Fn(c2pa::Error) -> FileError {
    move |e| bad!(Refused, "{what}: {e}; not signed")
}

/// Refuses what the SDK would sign but damage: a truncated file, an unreadable ID3v2 tag.
fn precheck(src: &Source, container: Container) -> Result<()> {
    proof::signed::whole(src, container).map_err(|e| {
        e.map_message(|m| format!("{m}; not signed (the file looks cut off or damaged)"))
    })?;
    match container {
        Container::Mpeg => super::sign_ends::mpeg(src, proof::signed::id3_len(src)?)?,
        Container::Flac => {
            let start = proof::signed::flac_blocks_end(src, proof::signed::id3_len(src)?)?;
            super::sign_ends::flac(src, start)?;
        }
        Container::Wav => {
            // The SDK rewrites the RIFF tree and leaves out anything after it.
            let riff = u64::from(u32::from_le_bytes(
                src.read(4, 4, "the RIFF size")?
                    .try_into()
                    .unwrap_or_default(),
            ));
            let end = 8 + riff + (riff & 1);
            if src.len() > end {
                return Err(bad!(
                    Refused,
                    "{} bytes after the end of the RIFF form, which the C2PA writer would drop; not signed",
                    src.len() - end
                ));
            }
        }
        _ => {}
    }
    if matches!(container, Container::Mpeg | Container::Flac) {
        let head = src.read_upto(0, 10)?;
        if head.starts_with(b"ID3") {
            let len = proof::signed::id3_len(src)?;
            let bytes = src.read(0, len, "the ID3v2 tag")?;
            if let Err(e) = id3::Tag::read_from2(std::io::Cursor::new(bytes)) {
                return Err(bad!(
                    Refused,
                    "the C2PA writer would drop every frame of this ID3v2 tag, which the id3 crate cannot read ({e}); not signed"
                ));
            }
        }
    }
    Ok(())
}

fn fill_and_verify(
    t: &Target,
    signer: &Signer,
    mime: &str,
    out: &File,
    opts: Options,
) -> Result<u64> {
    let io = |e: std::io::Error| FileError::io_write("write failed", &e);
    attrs::take_owner(t, out)?;
    flags::carry(t.file, out)?;
    let mut from = t.file;
    from.seek(SeekFrom::Start(0))
        .map_err(|e| FileError::io_read("seek failed", &e))?;
    let mut to = out;
    signer
        .sign(mime, &mut from, &mut to)
        .map_err(|e| bad!(Refused, "the C2PA SDK could not sign it: {e}; not signed"))?;
    let len = out.metadata().map_err(io)?.len();
    verify(t, signer, mime, out, len)?;
    attrs::carry(t, out)?;
    if opts.preserve_mtime {
        set_mtime(out, t.snapshot.mtime)?;
    }
    Ok(len)
}

/// The signed file must be the same container, with the same audio and every other item, and
/// its manifest must read back Valid with our entries.
fn verify(t: &Target, signer: &Signer, mime: &str, out: &File, len: u64) -> Result<()> {
    let old = Source::new(t.file, t.snapshot.size);
    let new = Source::new(out, len);
    let check = |m: String| {
        bad!(
            Refused,
            "internal check of the signed file: {m}; not written"
        )
    };
    let container =
        sniff::container(&new).map_err(|e| check(format!("it does not parse ({e})")))?;
    if container != t.container {
        return Err(check(format!("it is no longer {}", t.container.name())));
    }
    let new_payload = formats::payload(&new, container).map_err(FileError::in_check)?;
    let (was, now) = (
        audio(&old, container, t.payload.to_vec()),
        audio(&new, container, new_payload),
    );
    if formats::sha256_ranges(&old, &was)? != formats::sha256_ranges(&new, &now)? {
        return Err(check("the audio data would change".into()));
    }
    proof::signed::prove(container, &old, &new).map_err(FileError::in_check)?;
    formats::scan(&new, container).map_err(|e| check(format!("its tags do not parse ({e})")))?;
    let ctx = manifest::context(None).map_err(sdk("cannot set up the C2PA reader"))?;
    if manifest::existing(ctx, mime, out, &signer.entries) != manifest::Existing::Same {
        return Err(check(
            "its manifest does not read back as Valid with our entries".into(),
        ));
    }
    Ok(())
}

/// A WAV's payload is every chunk but its tags: a C2PA chunk is the manifest, not audio.
fn audio(
    src: &Source,
    container: Container,
    mut payload: Vec<std::ops::Range<u64>>,
) -> Vec<std::ops::Range<u64>> {
    if container == Container::Wav {
        payload.retain(|r| src.read_upto(r.start, 4).is_ok_and(|id| id != b"C2PA"));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::formats::testutil::source_of;

    #[test]
    fn refuses_an_id3_tag_the_id3_crate_cannot_read() {
        // A v2.3 tag whose TXXX has text encoding 7, before one MPEG frame header.
        let body = [b"TXXX".as_slice(), &[0, 0, 0, 4, 0, 0], b"\x07k\x00v"].concat();
        let n = body.len() as u8;
        let file = [
            b"ID3\x03\x00\x00\x00\x00\x00".as_slice(),
            &[n],
            &body,
            &[0xff, 0xfb, 0x90, 0x00],
        ]
        .concat();
        let e = precheck(&source_of(&file), Container::Mpeg).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
        assert!(e.message().contains("drop every frame"), "{e}");
    }

    #[test]
    fn refuses_a_truncated_file() {
        let flac = [b"fLaC".as_slice(), &[0x80, 0, 0, 34], &[0; 10]].concat();
        let e = precheck(&source_of(&flac), Container::Flac).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        let wav = [
            b"RIFF".as_slice(),
            &100u32.to_le_bytes(),
            b"WAVEdata",
            &[50, 0, 0, 0],
            &[0; 8],
        ]
        .concat();
        let e = precheck(&source_of(&wav), Container::Wav).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        let mp4 = [
            &[0, 0, 0, 16][..],
            b"ftypM4A ",
            &[0; 4],
            &[0, 0, 1, 0],
            b"moov",
            &[0; 8],
        ]
        .concat();
        let e = precheck(&source_of(&mp4), Container::Mp4).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
    }
}
