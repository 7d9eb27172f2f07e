#![no_main]
//! Fuzz target `ipc`: see `loadlake_fuzz::ipc` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::ipc(data));
