//! ASF (Windows Media Audio, `.wma`/`.asf`): a Header Object of sub-objects (File Properties,
//! Stream Properties, Content Description, Extended Content Description, Header Extension,
//! Padding, ...), then the Data Object with the audio packets and optional Index objects. Our
//! carrier is one Extended Content Description (ECD) attribute per SPEC key, a UTF-16LE string;
//! the Metadata and Metadata Library objects inside the Header Extension are read too (as
//! read-only carriers: mutagen and WMP put attributes there only when the ECD cannot hold them).
//! An edit re-renders only the header, growing or shrinking the Padding Object so the Data
//! Object stays where it is; without room the header is rewritten with fresh padding and the
//! File Properties' file size follows. Everything after the header is the payload. Encrypted
//! (DRM) or signed files and ASF with a video stream are refused.

mod attrs;
mod plan;
#[cfg(test)]
mod tests;

use std::ops::Range;

use super::{Carrier, CarrierKind, ContainerFormat, Edit, Plan, Planned, Result, Source};
use crate::bad;
use attrs::Descriptor;

/// A GUID as ASF stores it: the first three fields little-endian, the last eight bytes as is.
pub const fn guid(s: &str) -> [u8; 16] {
    let b = s.as_bytes();
    let mut hex = [0u8; 32];
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        let c = b[i];
        i += 1;
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            b'a'..=b'f' => c - b'a' + 10,
            _ => continue,
        };
        hex[n] = v;
        n += 1;
    }
    assert!(n == 32, "a GUID has 32 hex digits");
    // Text order of the bytes -> file order: 3 2 1 0, 5 4, 7 6, then 8..16 as they are.
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = [0u8; 16];
    let mut k = 0;
    while k < 16 {
        let j = order[k];
        out[k] = (hex[2 * j] << 4) | hex[2 * j + 1];
        k += 1;
    }
    out
}

pub const HEADER: [u8; 16] = guid("75B22630-668E-11CF-A6D9-00AA0062CE6C");
pub const DATA: [u8; 16] = guid("75B22636-668E-11CF-A6D9-00AA0062CE6C");
const FILE_PROPERTIES: [u8; 16] = guid("8CABDCA1-A947-11CF-8EE4-00C00C205365");
const STREAM_PROPERTIES: [u8; 16] = guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365");
const ECD: [u8; 16] = guid("D2D0A440-E307-11D2-97F0-00A0C95EA850");
const PADDING: [u8; 16] = guid("1806D474-CADF-4509-A4BA-9AABCB96AAE8");
const HEADER_EXTENSION: [u8; 16] = guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365");
const METADATA: [u8; 16] = guid("C5F8CBEA-5BAF-4877-8467-AA8C44FA4CCA");
const METADATA_LIBRARY: [u8; 16] = guid("44231C94-9498-49D1-A141-1D134E457054");
const VIDEO_MEDIA: [u8; 16] = guid("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B");
/// Objects that mean the header is protected: DRM, or a signature an edit would break.
const PROTECTED: [([u8; 16], &str); 4] = [
    (
        guid("2211B3FB-BD23-11D2-B4B7-00A0C955FC6E"),
        "Content Encryption",
    ),
    (
        guid("298AE614-2622-4C17-B935-DAE07EE9289C"),
        "Extended Content Encryption",
    ),
    (
        guid("2211B3FC-BD23-11D2-B4B7-00A0C955FC6E"),
        "Digital Signature",
    ),
    (
        guid("43058533-6981-49E6-9B74-AD12CB86D58C"),
        "Advanced Content Encryption",
    ),
];

/// The Header Object's fixed part: GUID, size, object count, two reserved bytes.
const HEADER_FIXED: u64 = 30;
/// Every object starts with its GUID and a 64-bit size.
const OBJECT_HEAD: u64 = 24;
/// The Header Extension's fixed part after the object head: a GUID, a u16, the data size u32.
const EXTENSION_FIXED: u64 = 22;
/// The largest header read whole (cover art lives there): beyond it the file is refused.
const MAX_HEADER: u64 = 256 << 20;

/// The ASF family.
pub struct Asf;

impl ContainerFormat for Asf {
    fn carriers(&self, src: &Source) -> Result<Vec<Carrier>> {
        carriers(src)
    }
    fn plan(&self, src: &Source, edit: &Edit) -> Result<Option<Plan>> {
        Ok(plan::plan(src, edit)?.map(|(plan, _)| plan))
    }
    /// One read of the header for both (it may hold large cover art).
    fn plan_with_payload(&self, src: &Source, edit: &Edit) -> Result<Option<Planned>> {
        Ok(plan::plan(src, edit)?.map(|(plan, payload)| Planned { plan, payload }))
    }
    fn payload(&self, src: &Source) -> Result<Vec<Range<u64>>> {
        let h = Header::read(src)?;
        Ok(std::iter::once(h.len..src.len()).collect())
    }
}

/// One object: its GUID, where it starts and its whole length (head included).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Object {
    guid: [u8; 16],
    at: u64,
    len: u64,
}

impl Object {
    fn end(&self) -> u64 {
        self.at + self.len
    }
}

/// The Header Object, whole, and its sub-objects (offsets into `bytes`, which starts at 0).
struct Header {
    len: u64,
    bytes: Vec<u8>,
    objects: Vec<Object>,
}

impl Header {
    /// Reads and checks the header: sizes that add up, the count that matches, a Data Object
    /// right after it, nothing we refuse to edit.
    fn read(src: &Source) -> Result<Header> {
        let fixed = src.read(0, HEADER_FIXED, "ASF header")?;
        if fixed[..16] != HEADER {
            return Err(bad!(
                Corrupt,
                "not an ASF file: no Header Object at the start"
            ));
        }
        let len = le64(&fixed[16..24]);
        let count = u32::from_le_bytes([fixed[24], fixed[25], fixed[26], fixed[27]]);
        if !(HEADER_FIXED..=MAX_HEADER).contains(&len) {
            return Err(bad!(Corrupt, "ASF Header Object size {len} is impossible"));
        }
        let bytes = src.read(0, len, "ASF Header Object")?;
        let objects = walk(&bytes, HEADER_FIXED, "Header Object")?;
        if objects.len() as u64 != u64::from(count) {
            return Err(bad!(
                Corrupt,
                "the ASF header says {count} objects but holds {}",
                objects.len()
            ));
        }
        let data = src.read(len, OBJECT_HEAD, "ASF Data Object")?;
        if data[..16] != DATA {
            return Err(bad!(Corrupt, "no ASF Data Object right after the header"));
        }
        // Size 0 is a stream written without seeking back; otherwise it must fit the file.
        let data_len = le64(&data[16..24]);
        if data_len != 0 && data_len > src.len() - len {
            return Err(bad!(
                Truncated,
                "truncated: the ASF Data Object claims {data_len} bytes, the file has {} after the header",
                src.len() - len
            ));
        }
        let h = Header {
            len,
            bytes,
            objects,
        };
        h.refuse_protected()?;
        Ok(h)
    }

    fn body(&self, o: &Object) -> &[u8] {
        &self.bytes[(o.at + OBJECT_HEAD) as usize..o.end() as usize]
    }

    fn find(&self, guid: [u8; 16]) -> Vec<&Object> {
        self.objects.iter().filter(|o| o.guid == guid).collect()
    }

    /// The objects inside the Header Extension(s).
    fn extension_objects(&self) -> Result<Vec<(Object, &[u8])>> {
        let mut out = Vec::new();
        for ext in self.find(HEADER_EXTENSION) {
            let body = self.body(ext);
            if (body.len() as u64) < EXTENSION_FIXED {
                return Err(bad!(Corrupt, "ASF Header Extension too short"));
            }
            let size = u32::from_le_bytes([body[18], body[19], body[20], body[21]]) as usize;
            let inner = body.get(22..22 + size).ok_or_else(|| {
                bad!(
                    Corrupt,
                    "ASF Header Extension data size runs past the object"
                )
            })?;
            for o in walk(inner, 0, "Header Extension")? {
                let b = &inner[o.at as usize..o.end() as usize];
                out.push((o, b));
            }
        }
        Ok(out)
    }

    fn refuse_protected(&self) -> Result<()> {
        let inner = self.extension_objects()?;
        let guids = self.objects.iter().map(|o| o.guid);
        for g in guids.chain(inner.iter().map(|(o, _)| o.guid)) {
            if let Some((_, name)) = PROTECTED.iter().find(|(p, _)| *p == g) {
                return Err(bad!(
                    Unsupported,
                    "the ASF file is protected (a {name} object): its header is not edited"
                ));
            }
        }
        for sp in self.find(STREAM_PROPERTIES) {
            if self.body(sp).get(..16) == Some(&VIDEO_MEDIA[..]) {
                return Err(bad!(
                    Unsupported,
                    "an ASF file with a video stream (WMV) is not an audio file"
                ));
            }
        }
        if self.find(ECD).len() > 1 {
            return Err(bad!(
                Unsupported,
                "the ASF header holds two Extended Content Description objects"
            ));
        }
        Ok(())
    }

    /// The ECD's descriptors (none when there is no ECD).
    fn descriptors(&self) -> Result<Vec<Descriptor>> {
        match self.find(ECD).first() {
            Some(o) => attrs::decode_ecd(self.body(o)),
            None => Ok(Vec::new()),
        }
    }
}

/// The objects laid end to end in `bytes[from..]`, which they must fill exactly.
fn walk(bytes: &[u8], from: u64, what: &str) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    let mut at = from;
    let end = bytes.len() as u64;
    while at < end {
        if end - at < OBJECT_HEAD {
            return Err(bad!(Corrupt, "ASF {what}: a partial object at byte {at}"));
        }
        let head = &bytes[at as usize..(at + OBJECT_HEAD) as usize];
        let len = le64(&head[16..24]);
        if len < OBJECT_HEAD || len > end - at {
            return Err(bad!(
                Corrupt,
                "ASF {what}: an object at byte {at} claims {len} bytes"
            ));
        }
        let mut guid = [0u8; 16];
        guid.copy_from_slice(&head[..16]);
        out.push(Object { guid, at, len });
        at += len;
    }
    Ok(out)
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The ECD carrier (editable, last: the primary one) after the read-only Metadata and Metadata
/// Library attributes.
pub fn carriers(src: &Source) -> Result<Vec<Carrier>> {
    let h = Header::read(src)?;
    let mut out = Vec::new();
    for (o, b) in h.extension_objects()? {
        let place = match o.guid {
            METADATA => "Metadata",
            METADATA_LIBRARY => "Metadata Library",
            _ => continue,
        };
        let fields = attrs::decode_metadata(&b[OBJECT_HEAD as usize..], place)?;
        if !fields.is_empty() {
            out.push(Carrier::new(CarrierKind::Asf { place }, fields).read_only());
        }
    }
    let fields = h
        .descriptors()?
        .iter()
        .filter_map(Descriptor::field)
        .collect();
    let ecd = "Extended Content Description";
    out.push(Carrier::new(CarrierKind::Asf { place: ecd }, fields));
    Ok(out)
}
