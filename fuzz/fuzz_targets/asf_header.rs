#![no_main]

// Input format and invariants: see `noai_fuzz::asf_header` (fuzz/src/lib.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| noai_fuzz::asf_header(data));
