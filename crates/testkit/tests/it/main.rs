//! Every integration test of `roundtable-testkit`, as modules of one test binary
//! (one link instead of one per file); `common` holds the shared set-up. Add
//! a file here and a `mod` line below.

mod common;

mod binary;
mod faults;
mod formats;
