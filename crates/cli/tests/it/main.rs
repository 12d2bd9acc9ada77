//! Every integration test of `roundtable-cli`, as modules of one test binary
//! (one link instead of one per file); `common` holds the shared set-up. Add
//! a file here and a `mod` line below.

mod common;

mod cli_agreement;
mod cli_attachments;
mod cli_conversations;
mod cli_cost;
mod cli_history;
mod cli_keys;
mod cli_labels;
mod cli_run;
mod cli_samples;
mod cli_serve;
mod cli_stats;
mod cli_verdicts;
