#![no_main]
//! Fuzz target `jtl_xml`: see `loadlake_fuzz::jtl_xml` and docs/reliability.md.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| loadlake_fuzz::jtl_xml(data));
