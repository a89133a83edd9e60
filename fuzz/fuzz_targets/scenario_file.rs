#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vein_scenarios::fuzz_target::scenario_file(data));
