//! Every integration test of `roundtable-server`, as modules of one test binary
//! (one link instead of one per file); `common` holds the shared set-up. Add
//! a file here and a `mod` line below.

mod common;

mod agreement;
mod api;
mod attachments;
mod auth;
mod budget;
mod conversations;
mod cost;
mod limits;
mod load;
mod samples;
mod verdicts;
