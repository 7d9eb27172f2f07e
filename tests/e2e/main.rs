//! End-to-end tests of the `loadlake` binary: one test binary, one module per area.
//! Truth comes from outside loadlake: Python's csv module and XML parser, DuckDB and pyarrow,
//! JMeter's own files, and hand-computed values.

mod archives;
mod backfill;
mod bad_input;
mod cli_output;
mod common;
mod curve;
mod faults;
mod fidelity;
mod follow;
mod follow_jmeter;
mod gates;
mod gatling;
mod hostile;
mod html;
mod interop;
mod jmeter213;
mod k6;
mod k6_real;
mod micros_across;
mod micros_reports;
mod report;
mod runner;
mod s3;
mod server;
mod snapshots;
mod store;
mod upstream;
