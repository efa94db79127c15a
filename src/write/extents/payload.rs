//! Which parts of a rewrite's payload comparison the proven clones stand in for. A proven range
//! counts only where it lies in the new payload at the same place in the payload as its source
//! lies in the old one: a clone from the wrong offset is on "the same blocks" as its own source
//! and still proves nothing about the payload.

use std::ops::Range;

use super::Shared;

/// A stretch where both payloads run on unbroken: `len` bytes at `old` in the old file are the
/// bytes at `new` in the new file, if the payloads are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stretch {
    old: u64,
    new: u64,
    len: u64,
}

/// The two payloads (lists of ranges read as one stream each) cut where either breaks, and
/// what is left over on either side when their lengths differ.
fn stretches(
    old: &[Range<u64>],
    new: &[Range<u64>],
) -> (Vec<Stretch>, Vec<Range<u64>>, Vec<Range<u64>>) {
    let size = |r: &Range<u64>| r.end.saturating_sub(r.start);
    let (mut oi, mut ni) = (old.iter().cloned(), new.iter().cloned());
    let (mut o, mut n) = (oi.next(), ni.next());
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (o.clone(), n.clone()) {
        let len = size(&a).min(size(&b));
        out.push(Stretch {
            old: a.start,
            new: b.start,
            len,
        });
        o = (a.start + len < a.end)
            .then(|| a.start + len..a.end)
            .or_else(|| oi.next());
        n = (b.start + len < b.end)
            .then(|| b.start + len..b.end)
            .or_else(|| ni.next());
    }
    (
        out,
        o.into_iter().chain(oi).collect(),
        n.into_iter().chain(ni).collect(),
    )
}

/// The payload ranges still to be compared byte by byte, once the `proven` ranges of the new
/// file (from `spans`) are taken out where their shift is the payload's. Returns matching lists
/// (old, new) that cut the payload at the same places; payloads of different lengths keep their
/// difference, so the comparison still fails.
pub fn unproven(
    old: &[Range<u64>],
    new: &[Range<u64>],
    proven: &[Range<u64>],
    spans: &[Shared],
) -> (Vec<Range<u64>>, Vec<Range<u64>>) {
    let (all, left_old, left_new) = stretches(old, new);
    let (mut rest_old, mut rest_new) = (Vec::new(), Vec::new());
    for s in all {
        let mut at = 0;
        for cut in cuts(s, proven, spans) {
            if cut.start > at {
                rest_old.push(s.old + at..s.old + cut.start);
                rest_new.push(s.new + at..s.new + cut.start);
            }
            at = at.max(cut.end);
        }
        if at < s.len {
            rest_old.push(s.old + at..s.old + s.len);
            rest_new.push(s.new + at..s.new + s.len);
        }
    }
    rest_old.extend(left_old);
    rest_new.extend(left_new);
    (rest_old, rest_new)
}

/// Whether `span` moves bytes by the stretch's shift (old offset minus new offset).
fn in_step(span: &Shared, s: Stretch) -> bool {
    span.from.wrapping_sub(span.at) == s.old.wrapping_sub(s.new)
}

/// Within stretch `s`, the proven parts whose clone came from the matching old offset, as
/// offsets into the stretch, in order.
fn cuts(s: Stretch, proven: &[Range<u64>], spans: &[Shared]) -> Vec<Range<u64>> {
    let mut cuts: Vec<Range<u64>> = Vec::new();
    for p in proven {
        let Some(span) = spans
            .iter()
            .find(|x| x.at <= p.start && p.end <= x.at + x.len)
        else {
            continue;
        };
        if !in_step(span, s) {
            continue;
        }
        let (start, end) = (p.start.max(s.new), p.end.min(s.new + s.len));
        if start < end {
            cuts.push(start - s.new..end - s.new);
        }
    }
    cuts.sort_by_key(|c| c.start);
    cuts
}

/// Where the new file (`len` bytes) is, to its end, the original's own blocks moved by the
/// payload's own shift: the start of the last proven range, if it reaches the end, lies in one
/// span, and every payload stretch from there on moves by that span's shift (so the page
/// headers between them, on the same blocks, are the original's headers between the same
/// bodies). `len` otherwise.
pub fn tail(
    proven: &[Range<u64>],
    spans: &[Shared],
    old: &[Range<u64>],
    new: &[Range<u64>],
    len: u64,
) -> u64 {
    let Some(last) = proven.last().filter(|p| p.end == len && p.start < len) else {
        return len;
    };
    let Some(span) = spans
        .iter()
        .find(|x| x.at <= last.start && last.end <= x.at + x.len)
    else {
        return len;
    };
    let (all, left_old, left_new) = stretches(old, new);
    let after = |s: &Stretch| s.new + s.len > last.start;
    let fits = left_old.is_empty()
        && left_new.is_empty()
        && all.iter().filter(|s| after(s)).all(|s| in_step(span, *s));
    if fits { last.start } else { len }
}
