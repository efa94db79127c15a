#![no_main]

// Input format and invariants: see `noai_fuzz::mkv_tag` (fuzz/src/lib.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| noai_fuzz::mkv_tag(data));
