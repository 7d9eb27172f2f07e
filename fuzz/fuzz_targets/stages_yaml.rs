#![no_main]
//! Fuzz target `stages_yaml`: see `loadlake_fuzz::stages_yaml` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::stages_yaml(data));
