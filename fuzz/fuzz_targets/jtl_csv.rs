#![no_main]
//! Fuzz target `jtl_csv`: see `loadlake_fuzz::jtl_csv` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::jtl_csv(data));
