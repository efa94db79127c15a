#![no_main]

// Input format and invariants: see `noai_fuzz::vorbis_comments` (fuzz/src/lib.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| noai_fuzz::vorbis_comments(data));
