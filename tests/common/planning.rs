//! The format layer used directly, as the container tests do: a `Source` over a file on disk,
//! and a plan carried out on a copy, as the write layer would carry it out (without the proof,
//! which the jobs tests cover).

use std::fs::File;
use std::path::Path;

use noai::formats::{Plan, Source, render};

/// `f` applied to a `Source` over the file at `path`.
pub fn with_src<T>(path: &Path, f: impl FnOnce(&Source) -> T) -> T {
    let file = File::open(path).unwrap();
    let len = file.metadata().unwrap().len();
    f(&Source::new(&file, len))
}

/// `plan` carried out on a copy of `orig` written to `out`.
pub fn carry_out(orig: &Path, plan: &Plan, out: &Path) {
    let bytes = with_src(orig, |src| render::apply(src, plan).unwrap());
    std::fs::write(out, bytes).unwrap();
}
