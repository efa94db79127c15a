//! Inputs found by fuzzing (fuzz/, see docs/fuzzing.md), replayed through the same invariant
//! checks the fuzz targets run, via noai's public API. The checks live in fuzz/src/lib.rs and
//! are included here as a module, so a fuzz crash and its regression test cannot drift apart.
//! Each input is a file in tests/fuzz-regressions/, named after its target.

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
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
            "mkv_tag" => checks::mkv_tag(&data),
            "id3_tag" => checks::id3_tag(&data),
            "vorbis_comments" => checks::vorbis_comments(&data),
            "policy_fields" => checks::policy_fields(&data),
            "ogg_flac" => checks::ogg_flac(&data),
            "chunked_plan" => checks::chunked_plan(&data),
            "apev2_tail" => checks::apev2_tail(&data),
            other => panic!("{name}: unknown target {other}"),
        };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
            failed.push(name.clone());
        }
    }
    assert!(failed.is_empty(), "failing fuzz inputs: {failed:?}");
}

/// F1: `id3v2::parse` (via `header_len`) indexes a 10-byte header without checking the length,
/// so fewer than 10 bytes panic ("range start index 6 out of range for slice of length 5")
/// instead of returning an error. Not reachable from a file today (every caller passes at least
/// 10 bytes), but `parse` is public and returns `Result`.
#[test]
fn f1_id3v2_parse_of_a_short_header_is_an_error_not_a_panic() {
    let data = input("id3_tag-short-header");
    assert_eq!(data, b"ID3\x04\x00");
    checks::id3_tag(&data);
}

/// F2: a WAV whose file length is odd because of trailing bytes after the RIFF chunk. Tagging
/// it in place (the ID3 chunk has room) plans a pad byte appended at the end plus a new RIFF
/// size covering the whole file: the trailing bytes, which were outside the RIFF (payload range
/// 320..321), become part of it and drop out of the payload, so the "audio never changes" check
/// fails. 321 bytes: RIFF/WAVE, fmt (16), data (2), `id3 ` chunk with an empty padded ID3v2.3
/// tag, then one 0x00 past the RIFF end.
#[test]
fn f2_wav_with_an_odd_trailing_byte_keeps_its_payload_when_tagged() {
    checks::plan_tag(&input("plan_tag-wav-odd-trailing-byte"));
}

/// F2, as the fuzzer found it: sample-audio/wav-id3.wav with mutated samples and 229 bytes
/// (odd) appended after the RIFF end.
#[test]
fn f2_fuzzed_wav_with_trailing_zeros_keeps_its_payload_when_tagged() {
    checks::plan_tag(&input("plan_tag-wav-trailing-zeros-fuzzed"));
}

/// F2 in AIFF (the fuzzer's: sample-audio/aiff-id3.aiff with 29 bytes appended after the FORM
/// chunk; the tail becomes part of the FORM and is read as a truncated chunk).
#[test]
fn f2_fuzzed_aiff_with_an_odd_tail_still_scans_when_tagged() {
    checks::plan_tag(&input("plan_tag-aiff-odd-tail-fuzzed"));
}

/// F3: a FLAC without a VORBIS_COMMENT block but with a second STREAMINFO block (invalid, yet
/// accepted by the reader). `flac::plan` inserts a new VORBIS_COMMENT after *every* STREAMINFO,
/// so the edited file has two and noai's own reader rejects it ("corrupt FLAC: more than one
/// VORBIS_COMMENT block"). With a PADDING block (as here, 350 bytes) the plan is in place, and
/// the in-place writer does not re-scan the result.
#[test]
fn f3_flac_with_two_streaminfo_blocks_gets_one_vorbis_comment() {
    checks::plan_tag(&input("plan_tag-flac-two-streaminfo"));
}

/// F3, as the fuzzer found it (129 bytes, no padding: a rewrite plan).
#[test]
fn f3_fuzzed_flac_with_two_streaminfo_blocks_gets_one_vorbis_comment() {
    checks::plan_tag(&input("plan_tag-flac-two-streaminfo-fuzzed"));
}

/// F4: a WAV whose RIFF root ends with fewer than 8 stray bytes after its last chunk (here two
/// zero bytes; the reader skips them) and no ID3 chunk. Tagging appends a new `id3 ` chunk at
/// the root end, after the stray bytes (`Plan::Patch`: RIFF size at offset 4, the chunk at 48),
/// so the reader then takes `\0\0id` for a chunk header and the edited file does not scan
/// ("truncated: chunk \"\0\0id\" runs past the end of the file"). 48 bytes.
#[test]
fn f4_wav_with_stray_bytes_at_the_root_end_still_scans_when_tagged() {
    checks::plan_tag(&input("plan_tag-wav-stray-bytes-in-root"));
}

/// F4 with data after the RIFF too: the plan is a rewrite (`riff::rebuild`), same result.
#[test]
fn f4_wav_with_stray_bytes_and_a_tail_still_scans_when_tagged() {
    checks::plan_tag(&input("plan_tag-wav-stray-bytes-in-root-and-tail"));
}

/// F4 in AIFF, as the fuzzer found it (4 stray bytes in the FORM root, 60 bytes after it).
#[test]
fn f4_fuzzed_aiff_with_stray_bytes_at_the_root_end_still_scans_when_tagged() {
    checks::plan_tag(&input("plan_tag-aiff-stray-bytes-in-root-fuzzed"));
}

/// The `ogg_flac` target's seeds (real `flac --ogg` and ffmpeg files in its packet format) pass
/// its checks: planner and proof walker agree, and every plan keeps the audio.
#[test]
fn ogg_flac_seeds_pass_their_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ogg_flac");
    let seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .collect();
    assert!(seeds.len() >= 4, "seeds in {}", dir.display());
    for s in seeds {
        checks::ogg_flac(&std::fs::read(&s).unwrap());
    }
}

/// O1: the proof's Ogg FLAC walker took a 51-byte `\x7fFLAC` packet without `fLaC` at byte 9 as
/// the mapping header, so its native-FLAC view did not start with `fLaC` (docs/fuzzing.md).
#[test]
fn o1_ogg_flac_walker_needs_the_flac_marker() {
    checks::ogg_flac(&input("ogg_flac-no-flac-marker"));
}
