#![no_main]

// Input format and invariants: see `noai_fuzz::policy_fields` (fuzz/src/lib.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| noai_fuzz::policy_fields(data));
