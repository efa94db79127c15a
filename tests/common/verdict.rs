//! The verdict of one container × reader cell of the interop matrix (tests/it/interop/
//! independent_readers.rs): our fields among what a reader shows, judged against the wanted
//! values; a documented limitation must be backed by evidence of what the reader shows instead.

use std::collections::BTreeMap;

use super::readers::{Fields, KEYS, Want};

/// The outcome of one container × reader cell.
#[derive(Debug, Clone)]
pub enum Cell {
    /// The reader shows all our values, exactly (the text says where, when useful).
    Shows(String),
    /// The container has no such carrier: nothing to read.
    NoCarrier,
    /// The carrier is there but this reader cannot read it: the note id says why.
    Unsupported(&'static str),
    /// The reader supports the carrier but does not show our values.
    Fail(String),
}

/// Our fields among `found` (keys compared case-insensitively: readers normalise case).
pub fn ours_of(found: &Fields) -> Fields {
    found
        .iter()
        .filter(|(k, _)| KEYS.contains(&k.to_uppercase().as_str()))
        .cloned()
        .collect()
}

/// Ok when `found` holds each wanted key exactly once with exactly the wanted value, and no
/// other key of ours.
pub fn judge(found: &Fields, want: &Want) -> Result<(), String> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in ours_of(found) {
        seen.entry(k.to_uppercase()).or_default().push(v);
    }
    let mut errs = Vec::new();
    for (k, w) in want {
        match seen.get(k).map(Vec::as_slice) {
            None => errs.push(format!("{k} missing")),
            Some([v]) if v == w => {}
            Some(vs) => errs.push(format!("{k} = {vs:?}, want {w:?}")),
        }
    }
    errs.extend(
        seen.keys()
            .filter(|k| !want.contains_key(*k))
            .map(|k| format!("unexpected {k}")),
    );
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// A cell where the reader supports the carrier: it must show every value.
pub fn expect_values(found: &Fields, want: &Want, detail: &str) -> Cell {
    match judge(found, want) {
        Ok(()) => Cell::Shows(detail.into()),
        Err(e) => Cell::Fail(e),
    }
}

/// A cell the reader cannot support: `evidence` checks what it shows instead. (Should a newer
/// reader show our values after all, the cell passes and says so.)
pub fn expect_unsupported(
    found: &Fields,
    want: &Want,
    note: &'static str,
    evidence: Result<(), String>,
) -> Cell {
    if judge(found, want).is_ok() {
        return Cell::Shows(format!("(now read; note {note} is outdated)"));
    }
    match evidence {
        Ok(()) => Cell::Unsupported(note),
        Err(e) => Cell::Fail(format!("expected the known limitation {note}, but: {e}")),
    }
}

/// A cell without a carrier: the reader must not show any field of ours there either.
pub fn expect_none(found: &Fields) -> Cell {
    let o = ours_of(found);
    if o.is_empty() {
        Cell::NoCarrier
    } else {
        Cell::Fail(format!("no carrier expected, reader shows {o:?}"))
    }
}

/// Ok when `cond` holds, else the reason (the evidence of a known limitation).
pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}
