//! Every integration test of the core, as modules of one test binary (one link
//! instead of one per file). Each module says what it covers; `common` holds
//! the shared builders. Add a file here and a `mod` line below.

mod billed;
mod claims;
mod common;
mod cost_cap;

mod agreement_limits;
mod anthropic_fixtures;
mod attachments;
mod concurrency;
mod contract_schema;
mod conversation;
mod engine;
mod gemini_fixtures;
mod hostile;
mod litellm_prices;
mod local_servers;
mod openai_fixtures;
mod openai_spec;
mod parser_props;
mod providers_http;
mod real_local_server;
mod samples;
mod validate_props;
