#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vein_node::fuzz_targets::message(data));
