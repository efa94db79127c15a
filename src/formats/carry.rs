//! The older tags that readers fall back on when a file has no ID3v2 tag: ID3v1 and APEv2 at the
//! end of an MP3, RIFF `LIST/INFO` in a WAV, the `NAME`/`AUTH`/`ANNO`/`(c) ` text chunks of an
//! AIFF. When `tag` creates the ID3v2 tag, readers that prefer it (TagLib, ffprobe on MP3) stop
//! looking at these; so their standard fields are carried into the new tag as standard frames,
//! mapped the way TagLib and mutagen map them, and the old tags are left untouched. The mapping
//! is deterministic, which is also how `strip` recognises the copies again (`id3v2::carry`).

use super::{Container, Edit, Plan, Result, Source, id3v2};

/// One standard field bound for a new ID3v2.3 tag: a text frame id (`TIT2`, …) or `COMM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub id: [u8; 4],
    pub text: String,
}

/// The ID3v1 genre names, by index (Winamp's extended list, as TagLib, mutagen and ffmpeg have
/// it). Only used to tell a known index from an unknown one: the frame carries `(n)`, so each
/// reader names the genre exactly as it named the ID3v1 one.
const GENRES: usize = 192;

/// The ID3v2 tag `tag` would create from the older tags alone, without a field of ours; `None`
/// when they hold nothing to carry. A file without an ID3v2 tag is proven against this: a new
/// tag may hold the carried copies and ours, nothing else (and `strip` may remove no other).
pub fn baseline_tag(src: &Source, container: Container) -> Result<Option<Vec<u8>>> {
    let fields = super::family(container).legacy_fields(src)?;
    if fields.is_empty() {
        return Ok(None);
    }
    id3v2::carry::new_tag_carrying(&Edit::default(), false, &fields).map(Some)
}

/// The fields TagLib shows for an MP3 without an ID3v2 tag: those of the APEv2 tag when there is
/// one, else those of the ID3v1 tag (TagLib's `MPEG::File::properties` takes the first of ID3v2,
/// APE, ID3v1).
pub fn mpeg(src: &Source) -> Result<Vec<Field>> {
    let v1 = id3v1(src)?;
    let ape_end = src.len() - if v1.is_some() { 128 } else { 0 };
    if let Some(ape) = apev2(src, ape_end)?
        && !ape.is_empty()
    {
        return Ok(ape);
    }
    Ok(v1.unwrap_or_default())
}

/// The ID3v1(.1) tag in the last 128 bytes: title, artist, album, year, comment, track, genre.
fn id3v1(src: &Source) -> Result<Option<Vec<Field>>> {
    if src.len() < 128 {
        return Ok(None);
    }
    let b = src.read(src.len() - 128, 128, "ID3v1 tag")?;
    if &b[..3] != b"TAG" {
        return Ok(None);
    }
    // ID3v1.1: a zero byte before a non-zero last comment byte makes that byte the track.
    let track = (b[125] == 0 && b[126] != 0).then_some(b[126]);
    let comment = if track.is_some() {
        &b[97..125]
    } else {
        &b[97..127]
    };
    let mut out = Vec::new();
    for (id, raw) in [
        (b"TIT2", &b[3..33]),
        (b"TPE1", &b[33..63]),
        (b"TALB", &b[63..93]),
    ] {
        push(&mut out, *id, latin1(raw));
    }
    push_date(&mut out, latin1(&b[93..97]));
    push(&mut out, *b"COMM", latin1(comment));
    if let Some(t) = track {
        push(&mut out, *b"TRCK", t.to_string());
    }
    if usize::from(b[127]) < GENRES {
        push(&mut out, *b"TCON", format!("({})", b[127]));
    }
    Ok(Some(out))
}

/// ID3v1 text: Latin-1, cut at the first NUL, surrounding blanks trimmed (as TagLib does).
fn latin1(raw: &[u8]) -> String {
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    let s: String = raw[..end].iter().map(|&c| c as char).collect();
    s.trim().to_string()
}

/// The APEv2 tag whose footer ends at `end`: its text items Title, Artist, Album, Year,
/// Comment, Track, Genre, Copyright (keys are case-insensitive).
fn apev2(src: &Source, end: u64) -> Result<Option<Vec<Field>>> {
    if end < 32 {
        return Ok(None);
    }
    let foot = src.read(end - 32, 32, "APEv2 footer")?;
    if &foot[..8] != b"APETAGEX" {
        return Ok(None);
    }
    let le = |i: usize| u32::from_le_bytes([foot[i], foot[i + 1], foot[i + 2], foot[i + 3]]);
    let (size, count) = (u64::from(le(12)), le(16));
    if size < 32 || size > end {
        return Ok(None);
    }
    let items = src.read(end - size, size - 32, "APEv2 items")?;
    let mut by_key: Vec<(String, String)> = Vec::new();
    let mut pos = 0usize;
    for _ in 0..count {
        let Some(head) = items.get(pos..pos + 8) else {
            break;
        };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let flags = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let Some(key_len) = items[pos + 8..].iter().position(|&c| c == 0) else {
            break;
        };
        let key = String::from_utf8_lossy(&items[pos + 8..pos + 8 + key_len]).to_ascii_uppercase();
        let start = pos + 8 + key_len + 1;
        let Some(value) = items.get(start..start + len) else {
            break;
        };
        // Item type 0 is UTF-8 text; binary and external items are no text fields.
        if (flags >> 1) & 3 == 0 {
            by_key.push((key, String::from_utf8_lossy(value).into_owned()));
        }
        pos = start + len;
    }
    let get = |k: &str| {
        by_key
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    push(&mut out, *b"TIT2", get("TITLE"));
    push(&mut out, *b"TPE1", get("ARTIST"));
    push(&mut out, *b"TALB", get("ALBUM"));
    push_date(&mut out, get("YEAR"));
    push(&mut out, *b"COMM", get("COMMENT"));
    push(&mut out, *b"TRCK", get("TRACK"));
    push(&mut out, *b"TCON", get("GENRE"));
    push(&mut out, *b"TCOP", get("COPYRIGHT"));
    Ok(Some(out))
}

/// The fields of a RIFF `INFO` list, given as (id, data) pairs in file order (TagLib's and
/// ffmpeg's RIFF INFO mapping; the first of `IPRT`/`ITRK` wins, as in TagLib).
pub fn riff_info(items: &[([u8; 4], Vec<u8>)]) -> Vec<Field> {
    let get = |ids: &[&[u8; 4]]| {
        ids.iter()
            .find_map(|id| items.iter().find(|(i, _)| i == *id))
            .map(|(_, d)| chunk_text(d))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    push(&mut out, *b"TIT2", get(&[b"INAM"]));
    push(&mut out, *b"TPE1", get(&[b"IART"]));
    push(&mut out, *b"TALB", get(&[b"IPRD"]));
    push_date(&mut out, get(&[b"ICRD"]));
    push(&mut out, *b"COMM", get(&[b"ICMT"]));
    push(&mut out, *b"TRCK", get(&[b"IPRT", b"ITRK"]));
    push(&mut out, *b"TCON", get(&[b"IGNR"]));
    push(&mut out, *b"TCOP", get(&[b"ICOP"]));
    out
}

/// The fields of the AIFF text chunks `NAME`, `AUTH`, `ANNO` (the first), `(c) `.
pub fn aiff_text(items: &[([u8; 4], Vec<u8>)]) -> Vec<Field> {
    let get = |id: &[u8; 4]| {
        items
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, d)| chunk_text(d))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    push(&mut out, *b"TIT2", get(b"NAME"));
    push(&mut out, *b"TPE1", get(b"AUTH"));
    push(&mut out, *b"COMM", get(b"ANNO"));
    push(&mut out, *b"TCOP", get(b"(c) "));
    out
}

/// Chunk text: up to the first NUL; UTF-8 when it is valid (ffmpeg writes it), else Latin-1.
fn chunk_text(d: &[u8]) -> String {
    let end = d.iter().position(|&c| c == 0).unwrap_or(d.len());
    let raw = &d[..end];
    let s = match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => raw.iter().map(|&c| c as char).collect(),
    };
    s.trim().to_string()
}

fn push(out: &mut Vec<Field>, id: [u8; 4], text: String) {
    if !text.is_empty() {
        out.push(Field { id, text });
    }
}

/// A year goes to `TYER` (the ID3v2.3 frame); a longer date, which `TYER` cannot hold, to
/// `TDRC`, which TagLib, mutagen and ffmpeg read in a v2.3 tag too.
fn push_date(out: &mut Vec<Field>, text: String) {
    let year = text.len() == 4 && text.bytes().all(|c| c.is_ascii_digit());
    push(out, if year { *b"TYER" } else { *b"TDRC" }, text);
}

/// `strip`'s plan that removes an MP3's first ID3v2 tag whole, when `tag` created it: it holds
/// only our fields and the copies carried into it. The file is then laid out as before `tag` and
/// readers fall back on the old tags again. `None` for a tag edit, when another ID3v2 tag follows
/// (removing the first would promote it) or the tag holds anything else (then `strip` removes
/// only our fields, in place where it can). WAV/AIFF do the same with their chunks (`riff`).
pub fn mpeg_unwrap(src: &Source, tag: &id3v2::Tag, edit: &Edit) -> Result<Option<Plan>> {
    if !edit.set.is_empty() || id3v2::region_len(src, tag.region_len)?.is_some() {
        return Ok(None);
    }
    if !tag.only_ours_and(edit, &mpeg(src)?)? {
        return Ok(None);
    }
    Ok(Some(Plan::splice(src, 0, Vec::new(), tag.region_len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testutil::source_of;

    fn v1(title: &str, comment: &[u8], genre: u8) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b[..3].copy_from_slice(b"TAG");
        b[3..3 + title.len()].copy_from_slice(title.as_bytes());
        b[93..97].copy_from_slice(b"1999");
        b[97..97 + comment.len()].copy_from_slice(comment);
        b[126] = 7;
        b[127] = genre;
        b
    }

    #[test]
    fn id3v1_maps_to_standard_frames() {
        let mut f = vec![0xAAu8; 300];
        f.extend(v1("Song  ", b"hi", 17));
        let got = mpeg(&source_of(&f)).unwrap();
        let ids: Vec<_> = got.iter().map(|f| (f.id, f.text.as_str())).collect();
        assert_eq!(
            ids,
            [
                (*b"TIT2", "Song"),
                (*b"TYER", "1999"),
                (*b"COMM", "hi"),
                (*b"TRCK", "7"),
                (*b"TCON", "(17)")
            ]
        );
    }

    #[test]
    fn apev2_wins_over_id3v1_and_unknown_genre_is_dropped() {
        let mut f = vec![0xAAu8; 300];
        let item = |k: &str, v: &str| {
            let mut b = (v.len() as u32).to_le_bytes().to_vec();
            b.extend([0, 0, 0, 0]);
            b.extend(k.as_bytes());
            b.push(0);
            b.extend(v.as_bytes());
            b
        };
        let items = [item("Title", "Ä"), item("YEAR", "2001-02-03")].concat();
        let mut foot = b"APETAGEX".to_vec();
        foot.extend(2000u32.to_le_bytes());
        foot.extend(((items.len() + 32) as u32).to_le_bytes());
        foot.extend(2u32.to_le_bytes());
        foot.extend([0u8; 12]);
        f.extend(items);
        f.extend(foot);
        f.extend(v1("Other", b"", 250));
        let got = mpeg(&source_of(&f)).unwrap();
        assert_eq!(
            got,
            [
                Field {
                    id: *b"TIT2",
                    text: "Ä".into()
                },
                Field {
                    id: *b"TDRC",
                    text: "2001-02-03".into()
                }
            ]
        );
        assert!(
            mpeg(&source_of(&v1("x", b"", 250)[..100]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn riff_info_takes_the_first_track_id() {
        let items = vec![
            (*b"ITRK", b"9\0".to_vec()),
            (*b"IPRT", b"5\0".to_vec()),
            (*b"INAM", b"T\0".to_vec()),
            (*b"ISFT", b"Lavf\0".to_vec()),
        ];
        let got = riff_info(&items);
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].id, got[1].text.as_str()), (*b"TRCK", "5"));
    }
}
