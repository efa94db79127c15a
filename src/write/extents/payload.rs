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
struct Paired {
    stretches: Vec<Stretch>,
    left_old: Vec<Range<u64>>,
    left_new: Vec<Range<u64>>,
}

fn pair(old: &[Range<u64>], new: &[Range<u64>]) -> Paired {
    let size = |r: &Range<u64>| r.end.saturating_sub(r.start);
    let (mut oi, mut ni) = (old.iter().cloned(), new.iter().cloned());
    let (mut o, mut n) = (oi.next(), ni.next());
    let mut stretches = Vec::new();
    while let (Some(a), Some(b)) = (o.clone(), n.clone()) {
        let len = size(&a).min(size(&b));
        stretches.push(Stretch {
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
    Paired {
        stretches,
        left_old: o.into_iter().chain(oi).collect(),
        left_new: n.into_iter().chain(ni).collect(),
    }
}

/// What the proven clones leave of a rewrite's checks: the payload ranges still to compare byte
/// by byte (`old` and `new`, cut at the same places), and where the Ogg page check may stop.
pub struct Split {
    pub old: Vec<Range<u64>>,
    pub new: Vec<Range<u64>>,
    pub tail: u64,
}

/// Splits the payload comparison of a rewrite (old and new payload ranges) and finds its tail,
/// given the `proven` ranges of the new file (`len` bytes) and the clones (`spans`) they lie in.
pub fn split(
    old: &[Range<u64>],
    new: &[Range<u64>],
    proven: &[Range<u64>],
    spans: &[Shared],
    len: u64,
) -> Split {
    let paired = pair(old, new);
    let (old, new) = unproven(&paired, proven, spans);
    let tail = tail(&paired, proven, spans, len);
    Split { old, new, tail }
}

/// The payload ranges still to be compared byte by byte, once the `proven` ranges of the new
/// file (from `spans`) are taken out where their shift is the payload's. Returns matching lists
/// (old, new) that cut the payload at the same places; payloads of different lengths keep their
/// difference, so the comparison still fails.
fn unproven(
    paired: &Paired,
    proven: &[Range<u64>],
    spans: &[Shared],
) -> (Vec<Range<u64>>, Vec<Range<u64>>) {
    let (mut rest_old, mut rest_new) = (Vec::new(), Vec::new());
    for &s in &paired.stretches {
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
    rest_old.extend(paired.left_old.iter().cloned());
    rest_new.extend(paired.left_new.iter().cloned());
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
fn tail(paired: &Paired, proven: &[Range<u64>], spans: &[Shared], len: u64) -> u64 {
    let Some(last) = proven.last().filter(|p| p.end == len && p.start < len) else {
        return len;
    };
    let Some(span) = spans
        .iter()
        .find(|x| x.at <= last.start && last.end <= x.at + x.len)
    else {
        return len;
    };
    let after = |s: &&Stretch| s.new + s.len > last.start;
    let fits = paired.left_old.is_empty()
        && paired.left_new.is_empty()
        && paired
            .stretches
            .iter()
            .filter(after)
            .all(|s| in_step(span, *s));
    if fits { last.start } else { len }
}
