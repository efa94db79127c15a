//! Inputs found by fuzzing (fuzz/, see docs/fuzzing.md), replayed through the same invariant
//! checks the fuzz targets run, via noai's public API. The checks live in fuzz/src/lib.rs and
//! are included here as a module, so a fuzz crash and its regression test cannot drift apart.
//! Each input is a file in tests/fuzz-regressions/, named after its target.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs every input in tests/fuzz-regressions/ through the target its name starts with, so an
/// input dropped into the folder is checked even without a test of its own.
#[test]
fn every_saved_input_passes_its_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut failed = Vec::new();
    for name in &names {
        let data = input(name);
        let run = || match name.split('-').next().unwrap() {
            "sniff_scan" => checks::sniff_scan(&data),
            "plan_tag" => checks::plan_tag(&data),
            "id3_tag" => checks::id3_tag_unguarded(&data),
            "vorbis_comments" => checks::vorbis_comments(&data),
            "policy_fields" => checks::policy_fields(&data),
            other => panic!("{name}: unknown target {other}"),
        };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
            failed.push(name.clone());
        }
    }
    assert!(failed.is_empty(), "failing fuzz inputs: {failed:?}");
}
