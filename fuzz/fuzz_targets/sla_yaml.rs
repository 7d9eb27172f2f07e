#![no_main]
//! Fuzz target `sla_yaml`: see `loadlake_fuzz::sla_yaml` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::sla_yaml(data));
