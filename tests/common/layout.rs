//! The byte layouts the tests check a tagged file against, read independently of noai's parsers:
//! FLAC metadata blocks, Ogg pages, RIFF/FORM chunks and the ID3v2 header.

/// FLAC metadata blocks after `fLaC` (an ID3v2 prefix skipped): (type, raw body).
pub fn flac_blocks(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut p = 0;
    if b.starts_with(b"ID3") {
        let n = b[6..10].iter().fold(0usize, |a, &x| (a << 7) | x as usize);
        p = 10 + n + if b[5] & 0x10 != 0 { 10 } else { 0 };
    }
    assert_eq!(&b[p..p + 4], b"fLaC", "no fLaC marker");
    p += 4;
    let mut out = Vec::new();
    loop {
        let h = b[p];
        let n = u32::from_be_bytes([0, b[p + 1], b[p + 2], b[p + 3]]) as usize;
        out.push((h & 0x7f, b[p + 4..p + 4 + n].to_vec()));
        p += 4 + n;
        if h & 0x80 != 0 {
            return out;
        }
    }
}

/// Ogg pages: (granule position, serial number) of each.
pub fn ogg_pages(b: &[u8]) -> Vec<(u64, u32)> {
    let mut p = 0;
    let mut out = Vec::new();
    while p + 27 <= b.len() {
        assert_eq!(&b[p..p + 4], b"OggS", "lost Ogg page sync at byte {p}");
        let granule = u64::from_le_bytes(b[p + 6..p + 14].try_into().unwrap());
        let serial = u32::from_le_bytes(b[p + 14..p + 18].try_into().unwrap());
        let nseg = b[p + 26] as usize;
        let body: usize = b[p + 27..p + 27 + nseg].iter().map(|&x| x as usize).sum();
        out.push((granule, serial));
        p += 27 + nseg + body;
    }
    assert_eq!(p, b.len(), "trailing bytes after the last Ogg page");
    out
}

/// RIFF/FORM chunks: (id, body). Also asserts the outer size field matches the file.
pub fn iff_chunks(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let le = &b[..4] == b"RIFF";
    let rd = |x: &[u8]| {
        let a: [u8; 4] = x.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(
        rd(&b[4..8]) as usize,
        b.len() - 8,
        "RIFF/FORM size field does not match the file length"
    );
    let mut p = 12;
    let mut out = Vec::new();
    while p + 8 <= b.len() {
        let id: [u8; 4] = b[p..p + 4].try_into().unwrap();
        let n = rd(&b[p + 4..p + 8]) as usize;
        assert!(
            p + 8 + n <= b.len(),
            "chunk {:?} runs past the end",
            String::from_utf8_lossy(&id)
        );
        out.push((id, b[p + 8..p + 8 + n].to_vec()));
        p += 8 + n + (n & 1);
    }
    assert_eq!(p, b.len(), "chunk walk does not end at the end of the file");
    out
}

/// An ID3v2 tag at the start of `b`: (major version, flags).
pub fn id3_header(b: &[u8]) -> Option<(u8, u8)> {
    b.starts_with(b"ID3").then(|| (b[3], b[5]))
}

/// The length of an ID3v2 tag at the start of `b`, header and footer included.
pub fn id3_len(b: &[u8]) -> Option<usize> {
    if !b.starts_with(b"ID3") || b.len() < 10 {
        return None;
    }
    let n = b[6..10]
        .iter()
        .fold(0usize, |a, &x| (a << 7) | usize::from(x & 0x7F));
    Some(10 + n + if b[5] & 0x10 != 0 { 10 } else { 0 })
}
