//! Vorbis comment blocks (FLAC `VORBIS_COMMENT`, and the Ogg comment packet body): decode to
//! fields, apply an `Edit`, encode. Shared by `flac` and `ogg`; pure byte handling, no I/O.

use super::{Edit, RawField, Result};
use crate::bad;

/// A decoded comment block: the vendor string and the `KEY=value` entries as raw bytes, so that
/// entries we do not touch are re-encoded byte-identically (even if they are not valid UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comments {
    pub vendor: Vec<u8>,
    pub entries: Vec<Vec<u8>>,
}

impl Comments {
    /// Parses a comment block from the start of `data`; returns it and the bytes consumed
    /// (Ogg Vorbis adds a framing bit after it, Opus may add padding).
    pub fn decode(data: &[u8]) -> Result<(Comments, usize)> {
        let mut pos = 0usize;
        let vendor = take_string(data, &mut pos, "vendor string")?;
        let count = take_u32(data, &mut pos, "comment count")? as usize;
        // Each entry needs at least its 4-byte length: bound the count by the data before
        // allocating, so a hostile count cannot request gigabytes.
        if count > (data.len() - pos) / 4 {
            return Err(bad!(
                "corrupt comment block: {count} entries claimed in {} bytes",
                data.len() - pos
            ));
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            entries.push(take_string(data, &mut pos, "comment")?);
        }
        Ok((Comments { vendor, entries }, pos))
    }

    /// Encodes the block (without any framing bit).
    pub fn encode(&self) -> Vec<u8> {
        let size = 8 + self.vendor.len() + self.entries.iter().map(|e| 4 + e.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&(self.vendor.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.vendor);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&(e.len() as u32).to_le_bytes());
            out.extend_from_slice(e);
        }
        out
    }

    /// Every entry as a field; entries without `=` or with a non-UTF-8 text are skipped (they
    /// cannot be one of ours), lossy only for display.
    pub fn fields(&self) -> Vec<RawField> {
        self.entries
            .iter()
            .filter_map(|e| {
                let eq = e.iter().position(|&b| b == b'=')?;
                let key = std::str::from_utf8(&e[..eq]).ok()?;
                let value = text(&e[eq + 1..]);
                Some(RawField {
                    key: key.to_string(),
                    value,
                })
            })
            .collect()
    }

    /// Applies `edit`: drops entries whose key is removed (case-insensitively), appends the new
    /// ones. Returns false when nothing changed, so callers can skip the write.
    pub fn apply(&mut self, edit: &Edit) -> bool {
        let before = self.entries.clone();
        self.entries.retain(|e| match key_of(e) {
            Some(k) => !edit.removes(k),
            None => true,
        });
        for (k, v) in &edit.set {
            self.entries.push(format!("{k}={v}").into_bytes());
        }
        self.entries != before
    }
}

/// `bytes` as text, lossy only where they are not UTF-8. `from_utf8` checks a word at a time
/// where `from_utf8_lossy` goes byte by byte: a picture's base64 (100 KB and more) was 5 % of
/// `verify`'s CPU time on lib5k.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn key_of(entry: &[u8]) -> Option<&str> {
    let eq = entry.iter().position(|&b| b == b'=')?;
    std::str::from_utf8(&entry[..eq]).ok()
}

fn take_u32(data: &[u8], pos: &mut usize, what: &str) -> Result<u32> {
    let bytes = data
        .get(*pos..*pos + 4)
        .ok_or_else(|| bad!("truncated comment block: no room for the {what}"))?;
    *pos += 4;
    Ok(u32::from_le_bytes(bytes.try_into().unwrap()))
}

fn take_string(data: &[u8], pos: &mut usize, what: &str) -> Result<Vec<u8>> {
    let len = take_u32(data, pos, what)? as usize;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| bad!("corrupt comment block: {what} of {len} bytes runs past the block"))?;
    let s = data[*pos..end].to_vec();
    *pos = end;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(entries: &[&str]) -> Comments {
        Comments {
            vendor: b"ref".to_vec(),
            entries: entries.iter().map(|e| e.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn round_trips_bytes() {
        let c = block(&["TITLE=x", "weird\u{ff}"]);
        let enc = c.encode();
        let (d, used) = Comments::decode(&enc).unwrap();
        assert_eq!(d, c);
        assert_eq!(used, enc.len());
    }

    #[test]
    fn apply_replaces_case_insensitively_and_keeps_others() {
        let mut c = block(&["TITLE=x", "tdm-reservation=0", "ARTIST=y"]);
        let edit = Edit {
            remove: vec!["TDM-RESERVATION".into()],
            set: vec![("TDM-RESERVATION".into(), "1".into())],
            ..Default::default()
        };
        assert!(c.apply(&edit));
        assert_eq!(
            c.entries,
            block(&["TITLE=x", "ARTIST=y", "TDM-RESERVATION=1"]).entries
        );
        assert!(!c.apply(&edit), "second application changes nothing");
    }

    #[test]
    fn hostile_count_is_an_error_not_an_allocation() {
        let mut data = vec![0, 0, 0, 0];
        data.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Comments::decode(&data).is_err());
    }

    #[test]
    fn truncated_entry_is_an_error() {
        let mut enc = block(&["TITLE=x"]).encode();
        enc.truncate(enc.len() - 2);
        assert!(Comments::decode(&enc).is_err());
    }
}
