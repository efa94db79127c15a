//! The fuzz targets' bodies: one function per target, taking the raw fuzz input and panicking
//! when an invariant fails. Parse errors are never failures (hostile input may be rejected); a
//! panic, a wrong result, a hang or a huge allocation is.
//!
//! Shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`) and by the root crate's
//! regression test (`tests/it/robustness/fuzz_regressions.rs` includes this file with
//! `#[path]`), so a saved crash input replays through exactly the same checks. Only `noai`'s
//! public API, `libc`, `tempfile` and `std` are used here, all of which the root crate's tests
//! can see.
//!
//! Inputs are plain bytes, not `arbitrary`-derived structures: the seeds are real files (or
//! pieces of them), and the regression test cannot depend on `arbitrary`. Where a target needs
//! more than the bytes under test (an edit, an expected policy), it reads it from a small text
//! format described at the function.

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::os::fd::FromRawFd;

use noai::formats::vorbis::Comments;
use noai::formats::{
    self, Carrier, CarrierKind, Container, Edit, Part, Plan, RawField, Region, Source,
};
use noai::formats::{id3v2, ogg, sniff};
use noai::policy::{self, Policy, Wanted};

// ---------------------------------------------------------------------------------------------
// Helpers

/// An anonymous in-memory file holding `bytes`: a memfd, or an unlinked temp file in /dev/shm.
pub fn mem_file(bytes: &[u8]) -> File {
    // SAFETY: memfd_create takes a NUL-terminated name and returns a new owned fd or -1.
    let fd = unsafe { libc::memfd_create(c"noai-fuzz".as_ptr(), libc::MFD_CLOEXEC) };
    let mut f = if fd >= 0 {
        // SAFETY: `fd` was just created and is owned by nobody else.
        unsafe { File::from_raw_fd(fd) }
    } else {
        tempfile::tempfile_in("/dev/shm")
            .or_else(|_| tempfile::tempfile())
            .expect("no temp file")
    };
    f.write_all(bytes).expect("cannot fill the temp file");
    f
}

/// The edit `noai tag --policy no-ai-training` makes (see `engine::decide`).
pub fn tag_edit() -> Edit {
    let fields = Wanted {
        policy: Policy::NoAiTraining,
        policy_url: None,
        constraints: None,
    }
    .fields();
    Edit {
        remove: fields.iter().map(|(k, _)| k.clone()).collect(),
        set: fields,
        ..Default::default()
    }
}

/// A tag edit with every SPEC key, a non-ASCII value (exercises UTF-16/UTF-8 text encodings)
/// and a long one (exercises frame sizes past 127 bytes, i.e. syncsafe and multi-byte sizes).
pub fn tag_edit_full() -> Edit {
    let fields = Wanted {
        policy: Policy::License,
        policy_url: Some("https://example.com/ai-policy?x=1".into()),
        constraints: Some(format!("Lizenz nötig ✓ — {}", "x".repeat(300))),
    }
    .fields();
    Edit {
        remove: policy::SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        set: fields,
        ..Default::default()
    }
}

/// The edit `noai strip` makes.
pub fn strip_edit() -> Edit {
    Edit {
        remove: policy::SPEC_KEYS.iter().map(|k| k.to_string()).collect(),
        set: Vec::new(),
        ..Default::default()
    }
}

fn check_ranges(what: &str, ranges: &[Range<u64>], len: u64) {
    for r in ranges {
        assert!(
            r.start <= r.end && r.end <= len,
            "{what}: payload range {r:?} is not inside the file ({len} bytes); all: {ranges:?}"
        );
    }
}

/// The bytes the ranges name, concatenated.
fn gather(bytes: &[u8], ranges: &[Range<u64>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in ranges {
        out.extend_from_slice(&bytes[r.start as usize..r.end as usize]);
    }
    out
}

/// Every `(key, value)` the edit sets is among the scanned fields (as the writer's verify
/// checks it: any carrier, exact key and value).
fn assert_has_fields(what: &str, carriers: &[Carrier], edit: &Edit) {
    for (k, v) in &edit.set {
        assert!(
            carriers
                .iter()
                .flat_map(|c| c.fields.iter())
                .any(|f| &f.key == k && &f.value == v),
            "{what}: {k}={v:?} is missing; carriers: {carriers:?}"
        );
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

// ---------------------------------------------------------------------------------------------
// sniff_scan

/// Input: a whole file. Sniff it; if it is a container we know, scan it (and evaluate the
/// carriers) and list its payload ranges, which must lie inside the file.
pub fn sniff_scan(data: &[u8]) {
    let file = mem_file(data);
    let src = Source::new(&file, data.len() as u64);
    let Ok(container) = sniff::container(&src) else {
        return;
    };
    if let Ok(scan) = formats::scan(&src, container) {
        assert_eq!(scan.container, container);
        let _ = policy::evaluate(&scan.carriers, None);
    }
    if let Ok(ranges) = formats::payload(&src, container) {
        check_ranges("payload", &ranges, src.len());
    }
}

// ---------------------------------------------------------------------------------------------
// plan_tag

/// Input: a whole file. Sniff it and plan three edits on it (`tag_edit`, `tag_edit_full`,
/// `strip_edit`). An in-place or patch plan must write inside the file (or append at its end, as `Plan::Patch`
/// allows) and touch no payload byte; every
/// plan, applied in memory (a rewrite assembled from its parts, Ogg pages through
/// `ogg::copy_pages`), must give a file of the same container that scans, carries the set
/// fields, and whose payload bytes equal the original's. `Ok(None)` ("nothing to change") for
/// an edit that sets fields means they must already be there.
pub fn plan_tag(data: &[u8]) {
    let file = mem_file(data);
    let src = Source::new(&file, data.len() as u64);
    let Ok(container) = sniff::container(&src) else {
        return;
    };
    let payload = formats::payload(&src, container).ok();
    if let Some(p) = &payload {
        check_ranges("original", p, src.len());
    }
    let scanned = formats::scan(&src, container).ok();
    for edit in [tag_edit(), tag_edit_full(), strip_edit()] {
        plan_one(
            data,
            &file,
            container,
            payload.as_deref(),
            scanned.is_some(),
            &edit,
        );
    }
}

fn plan_one(
    old: &[u8],
    file: &File,
    container: Container,
    payload: Option<&[Range<u64>]>,
    old_scans: bool,
    edit: &Edit,
) {
    let len = old.len() as u64;
    let src = Source::new(file, len);
    let plan = match formats::plan(&src, container, edit) {
        Ok(Some(p)) => p,
        Ok(None) => {
            if let Ok(scan) = formats::scan(&src, container) {
                assert_has_fields("plan said nothing to change", &scan.carriers, edit);
            }
            return;
        }
        Err(_) => return,
    };
    let new = match plan {
        Plan::Rewrite { parts } => {
            let mut out = Vec::new();
            for part in &parts {
                match part {
                    Part::Bytes(b) => out.extend_from_slice(b),
                    Part::Copy { offset, len: n } => {
                        let end = offset.checked_add(*n).filter(|&e| e <= len);
                        let end = end.unwrap_or_else(|| {
                            panic!("rewrite copies {offset}+{n}, outside the file ({len} bytes)")
                        });
                        out.extend_from_slice(&old[*offset as usize..end as usize]);
                    }
                    Part::OggPages {
                        offset,
                        len: n,
                        seq_delta,
                    } => {
                        assert!(
                            offset.checked_add(*n).is_some_and(|e| e <= len),
                            "rewrite copies Ogg pages {offset}+{n}, outside the file ({len} bytes)"
                        );
                        // A corrupt page (bad CRC) is refused here, as the writer refuses it.
                        if ogg::copy_pages(file, *offset, *n, *seq_delta, &mut out).is_err() {
                            return;
                        }
                    }
                }
            }
            out
        }
        // `Patch` and `Cut`: positioned writes (then, for a cut, the file cut short of its end,
        // never into the payload).
        other => {
            let cut = other.cut();
            let regions = other.regions().expect("not a rewrite");
            let mut out = apply_regions(old, &regions, payload);
            if let Some(n) = cut {
                let audio_end = payload.unwrap_or_default().iter().map(|p| p.end).max();
                let written_end = regions
                    .iter()
                    .map(|r| r.offset + r.bytes.len() as u64)
                    .max();
                assert!(
                    n < len && audio_end.max(written_end).is_none_or(|e| e <= n),
                    "cut to {n} drops audio or written bytes"
                );
                out.truncate(n as usize);
            }
            out
        }
    };
    check_result(old, container, payload, old_scans, &new, edit);
}

/// Positioned writes, checked as the writer checks them (`write::in_place::narrow`): in offset
/// order, not overlapping, inside the file except that the last may start exactly at its end
/// (an append), and touching no payload byte.
fn apply_regions(old: &[u8], regions: &[Region], payload: Option<&[Range<u64>]>) -> Vec<u8> {
    let len = old.len() as u64;
    let mut out = old.to_vec();
    let mut prev_end = 0;
    for (i, r) in regions.iter().enumerate() {
        let end = r
            .offset
            .checked_add(r.bytes.len() as u64)
            .expect("write region end overflows");
        let append = r.offset == len && i + 1 == regions.len();
        assert!(
            r.offset >= prev_end,
            "write region {i} at {} overlaps or precedes the previous one (ends at {prev_end})",
            r.offset
        );
        assert!(
            end <= len || append,
            "write region {i} {}..{end} runs past the end of the file ({len} bytes)",
            r.offset
        );
        for p in payload.unwrap_or_default() {
            assert!(
                !(r.offset < p.end && p.start < end),
                "write region {i} {}..{end} overlaps payload range {p:?}",
                r.offset
            );
        }
        if end as usize > out.len() {
            out.resize(end as usize, 0);
        }
        out[r.offset as usize..end as usize].copy_from_slice(&r.bytes);
        prev_end = end;
    }
    out
}

/// The edited file: same container, scans (when the original did), carries the set fields,
/// same payload bytes (when the original's payload was known).
fn check_result(
    old: &[u8],
    container: Container,
    payload: Option<&[Range<u64>]>,
    old_scans: bool,
    new: &[u8],
    edit: &Edit,
) {
    let nfile = mem_file(new);
    let nsrc = Source::new(&nfile, new.len() as u64);
    let got = sniff::container(&nsrc)
        .unwrap_or_else(|e| panic!("edited file ({edit:?}) does not sniff: {e}"));
    assert_eq!(got, container, "edited file changed container ({edit:?})");
    if old_scans {
        let scan = formats::scan(&nsrc, container)
            .unwrap_or_else(|e| panic!("edited file ({edit:?}) does not scan: {e}"));
        assert_has_fields("edited file", &scan.carriers, edit);
    }
    if let Some(p) = payload {
        let np = formats::payload(&nsrc, container)
            .unwrap_or_else(|e| panic!("edited file ({edit:?}): payload fails: {e}"));
        check_ranges("edited", &np, new.len() as u64);
        let (a, b) = (gather(old, p), gather(new, &np));
        assert!(
            a == b,
            "audio payload changed ({edit:?}): old {} bytes in {p:?}, new {} bytes in {np:?}, \
             first difference at payload byte {}",
            a.len(),
            b.len(),
            first_difference(&a, &b)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// id3_tag

/// Input: an ID3v2 tag (header included). `id3v2::parse` it; if it parses, apply the three
/// edits with `pad_to` `None` and `Some(input length)`: the new tag must be exactly `pad_to`
/// long, re-parse with the same version, and its fields must be the old ones minus the removed
/// keys, then the set ones, in order. The strict cross-check must accept it.
pub fn id3_tag(data: &[u8]) {
    let Ok(tag) = id3v2::parse(data) else {
        return;
    };
    let old_fields = tag.fields();
    for edit in [tag_edit(), tag_edit_full(), strip_edit()] {
        for pad in [None, Some(data.len())] {
            let Ok(Some(new)) = tag.edited(&edit, pad) else {
                continue;
            };
            if let Some(n) = pad {
                assert_eq!(new.len(), n, "edited tag is not padded to {n}");
            }
            let t2 = id3v2::parse(&new)
                .unwrap_or_else(|e| panic!("edited tag ({edit:?}, {pad:?}) does not parse: {e}"));
            assert_eq!(t2.major, tag.major);
            assert_eq!(t2.region_len, new.len() as u64);
            let fields = t2
                .fields()
                .unwrap_or_else(|e| panic!("edited tag's fields ({edit:?}): {e}"));
            // `edited` succeeded, so every old user text frame was readable.
            let old = old_fields
                .clone()
                .expect("edited() passed but fields() failed");
            let want: Vec<RawField> = old
                .into_iter()
                .filter(|f| !edit.removes(&f.key))
                .chain(edit.set.iter().map(|(k, v)| RawField {
                    key: k.clone(),
                    value: v.clone(),
                }))
                .collect();
            assert_eq!(fields, want, "edited tag's fields ({edit:?}, {pad:?})");
            // The strict check must accept every edit we plan, or such files would be refused.
            id3v2::cross_check(data, &new, &edit)
                .unwrap_or_else(|e| panic!("cross_check refuses our own edit ({edit:?}): {e}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// vorbis_comments

/// Input: a Vorbis comment block, then anything. `Comments::decode` it; it must re-encode to
/// exactly the bytes it consumed. Then apply `tag_edit`, `strip_edit` and an edit read from the
/// bytes after the block (`edit_from_text`); the encoded result must decode to the same
/// comments, and its fields must be the old ones minus the removed keys, then the set ones.
pub fn vorbis_comments(data: &[u8]) {
    let Ok((comments, used)) = Comments::decode(data) else {
        return;
    };
    assert!(
        used <= data.len(),
        "decode consumed {used} of {} bytes",
        data.len()
    );
    assert_eq!(
        comments.encode(),
        &data[..used],
        "decode/encode is not byte-exact"
    );
    let before = comments.fields();
    for edit in [tag_edit(), strip_edit(), edit_from_text(&data[used..])] {
        let mut edited = comments.clone();
        let changed = edited.apply(&edit);
        assert_eq!(
            changed,
            edited != comments,
            "apply's return value ({edit:?})"
        );
        assert_eq!(edited.vendor, comments.vendor);
        let bytes = edited.encode();
        let (again, n) = Comments::decode(&bytes)
            .unwrap_or_else(|e| panic!("edited block does not decode ({edit:?}): {e}"));
        assert_eq!(n, bytes.len());
        assert_eq!(again, edited, "edited block round trip ({edit:?})");
        let want: Vec<RawField> = before
            .iter()
            .filter(|f| !edit.removes(&f.key))
            .cloned()
            .chain(edit.set.iter().map(|(k, v)| RawField {
                key: k.clone(),
                value: v.clone(),
            }))
            .collect();
        assert_eq!(again.fields(), want, "edited block's fields ({edit:?})");
    }
}

/// An edit from text lines: `-KEY` removes KEY, `KEY=value` sets it (value trimmed, as the
/// engine trims). Keys are kept only when they are printable ASCII without `=`, as the
/// engine's keys are.
pub fn edit_from_text(bytes: &[u8]) -> Edit {
    let text = String::from_utf8_lossy(bytes);
    let ok_key =
        |k: &str| !k.is_empty() && k.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'=');
    let mut edit = Edit::default();
    for line in text.lines() {
        if let Some(k) = line.strip_prefix('-') {
            if ok_key(k) {
                edit.remove.push(k.to_string());
            }
        } else if let Some((k, v)) = line.split_once('=')
            && ok_key(k)
        {
            edit.set.push((k.to_string(), v.trim().to_string()));
        }
    }
    edit
}

// ---------------------------------------------------------------------------------------------
// policy_fields

/// Input: text lines. `#` starts a carrier (`#i` ID3v2, `#m` MP4, else Vorbis comment);
/// `KEY=value` adds a field to the current carrier (one is started if none); `?policy|url|
/// constraints` sets the expected policy (policy by name, as `Policy::name`; empty parts are
/// none). `parse_fields` and `evaluate` must not panic and must be deterministic; and what
/// `tag` writes for the expected policy must verify as tagged.
pub fn policy_fields(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut carriers: Vec<Carrier> = Vec::new();
    let mut expected: Option<Wanted> = None;
    for line in text.split('\n') {
        if let Some(rest) = line.strip_prefix('#') {
            let kind = match rest.bytes().next() {
                Some(b'i') => CarrierKind::Id3v2 { major: 3 },
                Some(b'm') => CarrierKind::Mp4Ilst,
                _ => CarrierKind::VorbisComment,
            };
            carriers.push(Carrier::new(kind, Vec::new()));
        } else if let Some(rest) = line.strip_prefix('?') {
            let mut parts = rest.split('|');
            let name = parts.next().unwrap_or("");
            let some = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
            let policy = Policy::ALL
                .iter()
                .copied()
                .find(|p| p.name() == name)
                .unwrap_or(Policy::ALL[name.len() % Policy::ALL.len()]);
            expected = Some(Wanted {
                policy,
                policy_url: some(parts.next()),
                constraints: some(parts.next()),
            });
        } else if let Some((k, v)) = line.split_once('=') {
            if carriers.is_empty() {
                carriers.push(Carrier::new(CarrierKind::VorbisComment, Vec::new()));
            }
            carriers.last_mut().unwrap().fields.push(RawField {
                key: k.to_string(),
                value: v.to_string(),
            });
        }
    }
    for c in &carriers {
        assert_eq!(
            policy::parse_fields(&c.fields),
            policy::parse_fields(&c.fields)
        );
    }
    let v1 = policy::evaluate(&carriers, expected.as_ref());
    let v2 = policy::evaluate(&carriers, expected.as_ref());
    assert_eq!(v1, v2, "evaluate is not deterministic");
    let _ = policy::evaluate(&carriers, None);

    // What `tag` writes for the expected policy verifies as tagged (with a valid URL, as the
    // CLI demands one).
    if let Some(w) = &expected {
        if w.policy_url
            .as_deref()
            .is_some_and(|u| !policy::is_policy_url(u) || u != u.trim())
        {
            return;
        }
        let written = [Carrier::new(
            CarrierKind::VorbisComment,
            w.fields()
                .into_iter()
                .map(|(key, value)| RawField { key, value })
                .collect(),
        )];
        let v = policy::evaluate(&written, Some(w));
        assert_eq!(v.status, policy::Status::Tagged, "{w:?} -> {v:?}");
        let v = policy::evaluate(&written, None);
        let want = if w.policy.reserved() {
            policy::Status::Tagged
        } else {
            policy::Status::Mismatch
        };
        assert_eq!(v.status, want, "{w:?} without expectation -> {v:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// ogg_flac

/// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, no final xor), so built pages pass.
fn ogg_crc(data: &[u8]) -> u32 {
    let mut c = 0u32;
    for &b in data {
        c ^= u32::from(b) << 24;
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
        }
    }
    c
}

/// One Ogg page of stream 1 holding `segments` (lacing values and body), CRC filled in.
fn ogg_page(flags: u8, granule: u64, seq: u32, lacing: &[u8], body: &[u8]) -> Vec<u8> {
    let mut p = b"OggS\0".to_vec();
    p.push(flags);
    p.extend_from_slice(&granule.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&[0; 4]);
    p.push(lacing.len() as u8);
    p.extend_from_slice(lacing);
    p.extend_from_slice(body);
    let crc = ogg_crc(&p);
    p[22..26].copy_from_slice(&crc.to_le_bytes());
    p
}

/// Packs `packets` into pages of up to 255 lacing values, appending them to `out`.
fn ogg_pages(out: &mut Vec<u8>, packets: &[&[u8]], seq: &mut u32, granule: u64, eos: bool) {
    let mut segs: Vec<(u8, &[u8])> = Vec::new();
    for p in packets {
        let mut chunks: Vec<&[u8]> = p.chunks(255).collect();
        if p.len() % 255 == 0 {
            chunks.push(&[]);
        }
        segs.extend(chunks.into_iter().map(|c| (c.len() as u8, c)));
    }
    let pages: Vec<_> = segs.chunks(255).collect();
    let mut continued = false;
    for (i, page) in pages.iter().enumerate() {
        let lacing: Vec<u8> = page.iter().map(|s| s.0).collect();
        let body: Vec<u8> = page.iter().flat_map(|s| s.1.iter().copied()).collect();
        let mut flags = if continued { 1 } else { 0 };
        if *seq == 0 {
            flags |= 2;
        }
        if eos && i + 1 == pages.len() {
            flags |= 4;
        }
        out.extend(ogg_page(flags, granule, *seq, &lacing, &body));
        *seq += 1;
        continued = page.last().is_some_and(|s| s.0 == 255);
    }
}

/// Input: an Ogg FLAC stream as packets, laid into valid pages (right CRCs) so the fuzzer works
/// on the FLAC mapping, not on checksums. Byte 0 picks the layout (bit 0: each header packet on
/// pages of its own, as libFLAC writes them, else packed; bit 1: the last page ends the stream);
/// the rest is split at `|P|`: the identification packet after `\x7fFLAC`, then one metadata
/// block per packet, and last the audio (packets of up to 4000 bytes, a page each).
/// The file goes through `plan_tag`'s checks; the write proof's own walker
/// (`write::ogg_flac_metadata`) must not panic, and where both it and the planner read the file,
/// they must agree on the Vorbis comment fields.
pub fn ogg_flac(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    while let Some(i) = rest[at..].windows(3).position(|w| w == b"|P|") {
        pieces.push(&rest[at..at + i]);
        at += i + 3;
    }
    pieces.push(&rest[at..]);
    let Some((audio, headers)) = pieces.split_last() else {
        return;
    };
    let Some((id, blocks)) = headers.split_first() else {
        return;
    };
    let id = [b"\x7fFLAC".as_slice(), id].concat();
    let (mut file, mut seq) = (Vec::new(), 0u32);
    ogg_pages(&mut file, &[&id], &mut seq, 0, false);
    if mode & 1 != 0 {
        for b in blocks {
            ogg_pages(&mut file, &[b], &mut seq, 0, false);
        }
    } else if !blocks.is_empty() {
        ogg_pages(&mut file, blocks, &mut seq, 0, false);
    }
    let chunks: Vec<&[u8]> = audio.chunks(4000).collect();
    for (i, c) in chunks.iter().enumerate() {
        let eos = mode & 2 != 0 && i + 1 == chunks.len();
        ogg_pages(&mut file, &[c], &mut seq, 4096 * (i as u64 + 1), eos);
    }
    plan_tag(&file);
    let walked = noai::write::ogg_flac_metadata(&mut std::io::Cursor::new(&file));
    let Ok((mapping, flac)) = walked else {
        return;
    };
    assert_eq!(mapping.len(), 9, "mapping header length");
    assert!(flac.starts_with(b"fLaC"), "native view starts with fLaC");
    let mem = mem_file(&file);
    let src = Source::new(&mem, file.len() as u64);
    let Ok(scan) = formats::scan(&src, Container::OggFlac) else {
        return;
    };
    // The first block after STREAMINFO (4 + 4 + 34 bytes in) is the comment block the planner read.
    let body = flac.get(46..).unwrap_or_default();
    let (comments, _) = Comments::decode(body).expect("the walker's comment block decodes");
    assert_eq!(
        scan.carriers[0].fields,
        comments.fields(),
        "planner and proof walker disagree on the comments"
    );
}

/// RF64/BW64, DSF and DSDIFF (`formats::riff::rf64`, `formats::dsd`): the first input byte
/// picks the form's magic (`RF64`, `BW64`, `DSD `, `FRM8`), which is put before the rest, so
/// mutations spend their time on the sizes and chunks rather than on finding the magic; then
/// the `plan_tag` invariants (payload ranges, plans that stay in the file and off the audio, a
/// result that scans with the set fields and the same payload).
pub fn chunked_plan(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let magic: &[u8; 4] = match pick % 4 {
        0 => b"RF64",
        1 => b"BW64",
        2 => b"DSD ",
        _ => b"FRM8",
    };
    let mut file = magic.to_vec();
    file.extend_from_slice(rest);
    plan_tag(&file);
}

// ---------------------------------------------------------------------------------------------
// apev2_tail

/// Input: a selector byte, then the rest of a file. The selector's low bits pick the signature
/// put in front (WavPack `wvpk`, Monkey's `MAC `, Musepack `MP+`/`MPCK`, TTA `TTA1`); its high
/// bit puts a small ID3v2 tag before that (TTA then writes ours into it when there is no APE
/// tag). The file goes through `plan_tag`'s checks; besides, every in-place plan must keep each
/// field of the last carrier other than the edit's own keys, in order.
pub fn apev2_tail(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let magic: &[u8] = match sel % 5 {
        0 => b"wvpk",
        1 => b"MAC ",
        2 => b"MP+\x17",
        3 => b"MPCK",
        _ => b"TTA1",
    };
    let mut file = Vec::with_capacity(data.len() + 40);
    if sel & 0x80 != 0 {
        file.extend_from_slice(b"ID3\x03\0\0\0\0\0\x10");
        file.extend_from_slice(&[0; 16]);
    }
    file.extend_from_slice(magic);
    file.extend_from_slice(rest);
    plan_tag(&file);
    let mem = mem_file(&file);
    let src = Source::new(&mem, file.len() as u64);
    let Ok(container) = sniff::container(&src) else {
        return;
    };
    for edit in [tag_edit(), tag_edit_full(), strip_edit()] {
        let Ok(Some(plan)) = formats::plan(&src, container, &edit) else {
            continue;
        };
        let Ok(before) = formats::scan(&src, container) else {
            continue;
        };
        let cut = plan.cut();
        let Some(regions) = plan.regions() else {
            continue;
        };
        let mut new = apply_regions(&file, &regions, None);
        if let Some(n) = cut {
            new.truncate(n as usize);
        }
        let nmem = mem_file(&new);
        let nsrc = Source::new(&nmem, new.len() as u64);
        let after = formats::scan(&nsrc, container).expect("an edited file scans");
        let others = |c: Option<&Carrier>| -> Vec<RawField> {
            c.map(|c| {
                c.fields
                    .iter()
                    .filter(|f| !owned(&edit, &f.key))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
        };
        let primary = |cs: &[Carrier]| cs.iter().rev().find(|c| c.editable).cloned();
        assert_eq!(
            others(primary(&before.carriers).as_ref()),
            others(primary(&after.carriers).as_ref()),
            "{edit:?} changed a field that is not ours"
        );
    }
}

fn owned(edit: &Edit, key: &str) -> bool {
    edit.removes(key) || edit.set.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
}

// ---------------------------------------------------------------------------------------------
// asf_header

/// Input: an ASF file (only inputs that start with the Header Object GUID are tried). The
/// `plan_tag` invariants (plans stay in the file, in-place writes miss the payload, the edited
/// file sniffs as ASF, scans and carries the fields, same payload bytes), and `tag` is
/// idempotent: planning the same edit on the tagged file changes nothing.
pub fn asf_header(data: &[u8]) {
    if !data.starts_with(&formats::asf::HEADER) {
        return;
    }
    plan_tag(data);
    let file = mem_file(data);
    let src = Source::new(&file, data.len() as u64);
    let edit = tag_edit();
    let Ok(Some(plan)) = formats::plan(&src, Container::Asf, &edit) else {
        return;
    };
    let new = noai::formats::render::apply(&src, &plan).expect("a checked plan renders");
    let nfile = mem_file(&new);
    let nsrc = Source::new(&nfile, new.len() as u64);
    let again = formats::plan(&nsrc, Container::Asf, &edit)
        .unwrap_or_else(|e| panic!("the tagged ASF file does not plan again: {e}"));
    assert!(
        again.is_none(),
        "tagging a tagged ASF file changes it again"
    );
}

// ---------------------------------------------------------------------------------------------
// mkv_tag

/// Matroska/WebM: `plan_tag`'s checks (plans stay inside the file, the audio Clusters are
/// unchanged, the edited file scans with our fields) on an input that is a Matroska file when it
/// starts with an EBML header, or else the data of a Segment behind a fixed EBML header, so the
/// fuzzer spends its time on the level-1 elements (SeekHead, Tags, Void, Clusters).
pub fn mkv_tag(data: &[u8]) {
    if data.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return plan_tag(data);
    }
    let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x8B, 0x42, 0x82, 0x88];
    file.extend_from_slice(b"matroska");
    file.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x01]);
    file.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
    file.extend_from_slice(data);
    plan_tag(&file);
}
