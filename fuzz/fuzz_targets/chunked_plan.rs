#![no_main]

// Input format and invariants: see `noai_fuzz::chunked_plan` (fuzz/src/lib.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| noai_fuzz::chunked_plan(data));
