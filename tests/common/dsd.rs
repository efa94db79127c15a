//! Fixtures and readers for the RF64/BW64, DSF and DSDIFF tests: tiny valid files built by hand
//! (DSF: one channel, blocks of 4096 bytes; DSDIFF: FVER, PROP, DSD), an RF64 made from a WAV by
//! moving its sizes into a `ds64` chunk, tags added by mutagen, and mutagen's view of every ID3
//! frame. Nothing here uses noai's parsers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::tool_ok;

/// A DSF file: `blocks` blocks of 4096 bytes of one channel, no tag.
pub fn dsf(blocks: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..4096 * blocks).map(|i| (i * 7 % 251) as u8).collect();
    let mut fmt = b"fmt ".to_vec();
    fmt.extend_from_slice(&52u64.to_le_bytes());
    for v in [1u32, 0, 1, 1, 2_822_400, 1] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    fmt.extend_from_slice(&(4096u64 * 8 * blocks as u64).to_le_bytes());
    fmt.extend_from_slice(&4096u32.to_le_bytes());
    fmt.extend_from_slice(&0u32.to_le_bytes());
    let mut out = b"DSD ".to_vec();
    out.extend_from_slice(&28u64.to_le_bytes());
    let total = 28 + fmt.len() + 12 + data.len();
    out.extend_from_slice(&(total as u64).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend(fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(12 + data.len() as u64).to_le_bytes());
    out.extend(data);
    out
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u64).to_be_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A DSDIFF file: FVER, PROP (FS, CHNL, CMPR), a `COMT` chunk when `comment`, and `DSD ` audio.
pub fn dff(comment: bool) -> Vec<u8> {
    let prop = [
        b"SND ".to_vec(),
        chunk(b"FS  ", &2_822_400u32.to_be_bytes()),
        chunk(b"CHNL", b"\x00\x01SLFT"),
        chunk(b"CMPR", b"DSD \x0enot compressed\x00"),
    ]
    .concat();
    let audio: Vec<u8> = (0..8192).map(|i| (i * 5 % 253) as u8).collect();
    let mut body = b"DSD ".to_vec();
    body.extend(chunk(b"FVER", &0x0105_0000u32.to_be_bytes()));
    body.extend(chunk(b"PROP", &prop));
    if comment {
        body.extend(chunk(
            b"COMT",
            b"\x00\x01\x07\xea\x0c\x03\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x05hello",
        ));
    }
    body.extend(chunk(b"DSD ", &audio));
    let mut out = b"FRM8".to_vec();
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend(body);
    out
}

/// The WAV `wav` as RF64 (`form`: RF64 or BW64): a `ds64` chunk first, the 32-bit root and
/// `data` sizes 0xFFFFFFFF, the real ones in `ds64`.
pub fn to_rf64(wav: &[u8], form: &[u8; 4]) -> Vec<u8> {
    assert_eq!(&wav[..4], b"RIFF", "not a WAV");
    let mut body = Vec::new();
    let mut data_len = 0u64;
    let mut at = 12;
    while at + 8 <= wav.len() {
        let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        let id = &wav[at..at + 4];
        body.extend_from_slice(id);
        if id == b"data" {
            data_len = len as u64;
            body.extend_from_slice(&u32::MAX.to_le_bytes());
        } else {
            body.extend_from_slice(&wav[at + 4..at + 8]);
        }
        let end = (at + 8 + len + (len & 1)).min(wav.len());
        body.extend_from_slice(&wav[at + 8..end]);
        at = end;
    }
    let mut out = form.to_vec();
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(b"WAVEds64");
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&((4 + 36 + body.len()) as u64).to_le_bytes());
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&(data_len / 2).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend(body);
    out
}

/// The chunks of an RF64 file (id, whole chunk bytes), read through `ds64`.
pub fn rf64_chunks(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let le = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (end, data) = (8 + le(20) as usize, le(28));
    assert!(end <= b.len(), "ds64 riffSize past the end of the file");
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= end {
        let mut len = u64::from(u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()));
        if len == u64::from(u32::MAX) {
            len = data;
        }
        let stop = (at + 8 + len as usize).min(end);
        out.push((b[at..at + 4].try_into().unwrap(), b[at..stop].to_vec()));
        at = stop + (len as usize & 1);
    }
    out
}

/// The top-level chunks of a DSDIFF file (id, whole chunk bytes).
pub fn dff_chunks(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let be = |at: usize| u64::from_be_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    let end = 12 + be(4);
    assert_eq!(end, b.len(), "FRM8 size does not match the file");
    let mut out = Vec::new();
    let mut at = 16;
    while at + 12 <= end {
        let len = be(at + 4);
        out.push((
            b[at..at + 4].try_into().unwrap(),
            b[at..at + 12 + len].to_vec(),
        ));
        at += 12 + len + (len & 1);
    }
    out
}

const FRAMES: &str = r#"
import sys, json, hashlib, struct, zlib, mutagen
from mutagen.id3 import TIT2, TPE1, APIC
def png(w=8, h=8):
    def ck(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\x00" + b"".join(bytes((x * 30, y * 30, 90)) for x in range(w)) for y in range(h))
    return b"\x89PNG\r\n\x1a\n" + ck(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + ck(b"IDAT", zlib.compress(raw)) + ck(b"IEND", b"")
path, what = sys.argv[1], sys.argv[2]
f = mutagen.File(path)
assert f is not None, "mutagen does not recognise " + path
if what == "write":
    if f.tags is None:
        f.add_tags()
    f.tags.add(TIT2(encoding=3, text="A title"))
    f.tags.add(TPE1(encoding=1, text="Ärtist"))
    f.tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=png()))
    f.save()
    sys.exit(0)
ours, other = [], {}
for k, fr in (f.tags or {}).items():
    if k.startswith("TXXX:") and fr.desc.upper() in ("TDM-RESERVATION", "DATAMINING", "TDM-POLICY", "OTHERCONSTRAINTS"):
        ours.append([fr.desc, str(fr.text[0])])
    else:
        other[k] = hashlib.sha256(repr(fr).encode() + getattr(fr, "data", b"")).hexdigest()
print(json.dumps({"ours": sorted(ours), "other": other, "kind": type(f).__name__, "length": f.info.length}))
"#;

/// mutagen's ID3 frames of a DSF/DSDIFF/WAV file: `ours` (SPEC TXXX as [key, value]) and a hash
/// of every other frame, pictures included.
pub fn frames(path: &Path) -> Value {
    let s = tool_ok(
        Command::new("python3")
            .args(["-c", FRAMES])
            .arg(path)
            .arg("read"),
    );
    serde_json::from_str(&s).expect("mutagen frames: not JSON")
}

/// Adds a title, an artist and a cover with mutagen.
pub fn mutagen_tag(path: &Path) {
    tool_ok(
        Command::new("python3")
            .args(["-c", FRAMES])
            .arg(path)
            .arg("write"),
    );
}

/// MediaInfo's general-section fields (`key : value` lines of its text output).
pub fn mediainfo(path: &Path) -> Vec<(String, String)> {
    let s = tool_ok(Command::new("mediainfo").arg(path));
    s.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once(" : "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}
