//! Every integration test of the store, as modules of one test binary (one
//! link instead of one per file). `common` and `export_fixtures` hold the
//! shared builders. Add a file here and a `mod` line below.

mod common;
mod export_fixtures;

mod attachments;
mod attachments_leftovers;
mod export;
mod export_agreement;
mod export_attachments;
mod export_figures;
mod export_shows;
mod import;
mod ledger;
mod migrations;
mod paging;
mod recording;
mod search;
mod spend;
mod threads;
mod votes;
