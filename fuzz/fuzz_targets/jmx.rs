#![no_main]
//! Fuzz target `jmx`: see `loadlake_fuzz::jmx` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::jmx(data));
