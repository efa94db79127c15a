//! Every Ogg page a write produces must carry a right checksum, by the proof's own CRC
//! (`oggflac::crc`, built on crc32fast) rather than the planner's (crc-fast): lofty's Ogg reader
//! does not check checksums, and a player drops a page whose checksum is wrong, and the audio on
//! it. A rewrite renumbers every audio page and so recomputes every checksum: all its pages are
//! checked. An in-place write changes only header pages: the pages up to the end of its last
//! region are (those after it are the original's bytes).

use std::io::{Read, Seek, SeekFrom};

use super::oggflac::Page;
use crate::bad;
use crate::formats::Result;

/// Checks the checksum of every page that starts before `upto`, walking from the start of `r`
/// (`len` bytes) page by page.
pub(super) fn check<R: Read + Seek>(r: &mut R, len: u64, upto: u64) -> Result<()> {
    let mut at = 0u64;
    while at < upto.min(len) {
        let page = r
            .seek(SeekFrom::Start(at))
            .and_then(|_| Page::read(r))
            .map_err(|e| {
                bad!(
                    Refused,
                    "internal check: the Ogg page at byte {at} would be unreadable ({e}); not written"
                )
            })?;
        at += page.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::oggflac::crc;
    use super::*;
    use std::io::Cursor;

    /// A page of `body` (one packet) with its checksum, by the proof's CRC.
    fn page(body: &[u8], seq: u32) -> Vec<u8> {
        let mut p = b"OggS\0\0".to_vec();
        p.extend_from_slice(&[0; 8]); // granule
        p.extend_from_slice(&7u32.to_le_bytes()); // serial
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&[0; 4]); // checksum, set below
        p.push(1);
        p.push(body.len() as u8);
        p.extend_from_slice(body);
        let sum = crc(&[&p]);
        p[22..26].copy_from_slice(&sum.to_le_bytes());
        p
    }

    #[test]
    fn a_wrong_checksum_is_refused_where_it_is_checked() {
        let (a, b, c) = (
            page(b"first", 0),
            page(b"second page", 1),
            page(b"third", 2),
        );
        let file = [a.clone(), b.clone(), c.clone()].concat();
        let len = file.len() as u64;
        check(&mut Cursor::new(&file), len, len).unwrap();
        // The second page's checksum off by one bit.
        let mut bad = file.clone();
        bad[a.len() + 22] ^= 1;
        let err = check(&mut Cursor::new(&bad), len, len).unwrap_err();
        assert!(
            err.message().contains(&format!("byte {}", a.len())),
            "{err}"
        );
        assert!(err.message().contains("wrong checksum"), "{err}");
        // Not checked when only the pages before it were written.
        check(&mut Cursor::new(&bad), len, a.len() as u64).unwrap();
        // A page cut short, or something that is not a page, is refused too.
        let cut = &file[..file.len() - 2];
        assert!(check(&mut Cursor::new(cut), cut.len() as u64, cut.len() as u64).is_err());
        let mut junk = file.clone();
        junk[a.len()] = b'X';
        assert!(check(&mut Cursor::new(&junk), len, len).is_err());
    }
}
