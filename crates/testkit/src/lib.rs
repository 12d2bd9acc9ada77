//! A fake LLM provider for tests, benchmarks and demos of Roundtable.
//!
//! [`FakeProvider`] serves, on loopback, the real wire formats of three provider
//! APIs, streamed and not:
//!
//! | format | endpoint | base URL for clients |
//! |---|---|---|
//! | OpenAI Chat Completions | `POST /v1/chat/completions`, `GET /v1/models` | [`FakeProvider::openai_base_url`] (`…/v1`) |
//! | Anthropic Messages | `POST /v1/messages`, `GET /v1/models` | [`FakeProvider::anthropic_base_url`] |
//! | Google Gemini | `POST /v1beta/models/{model}:generateContent`, `…:streamGenerateContent?alt=sse`, `GET /v1beta/models` | [`FakeProvider::gemini_base_url`] (`…/v1beta`) |
//!
//! What each model answers is scripted with a [`Script`]: per model name a
//! [`Behavior`] with the answer, thinking text, latency, chunking, token usage and a
//! sequence of [`Fault`]s (HTTP errors with retry hints, hangs, mid-stream
//! disconnects, malformed chunks, an error that leaks the API key, and a hostile
//! server's redirects, giant indices, bodies and lines without end, bytes that are
//! not UTF-8). Every request is
//! recorded ([`FakeProvider::requests`], and over HTTP at [`RECORDED_PATH`] for
//! tests of the built programs) so tests can check what clients sent.
//!
//! It stands apart from the rest of the workspace on purpose: it depends on no other
//! Roundtable crate, so it checks the adapters against the wire, not against
//! themselves. The `roundtable-fake-provider` binary serves a script file (JSON or
//! TOML) for manual runs and for tests of the built programs.
//!
//! ```
//! use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let script = Script::new()
//!     .model("gpt-a", Behavior::answer("Paris").latency(50))
//!     .model(
//!         "claude-b",
//!         Behavior::answer("Rome").faults(vec![Fault::status(429, "rate limited").retry_after("1")]),
//!     )
//!     .require_key("sk-test");
//! let fake = FakeProvider::start(script).await?;
//! let openai_base = fake.openai_base_url(); // point a client here, then:
//! assert!(openai_base.ends_with("/v1"));
//! assert_eq!(fake.calls_for("gpt-a"), 0);
//! fake.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Extending it
//!
//! * A new wire format: add a module like `openai.rs` that reads the model, the key
//!   and the prompt from a request, and renders a `reply::Reply` as a body,
//!   as stream frames (marking the content frames, so faults and chunk delays apply)
//!   and as an error body; then add its routes and a `Format` variant in `server.rs`.
//! * A new fault: add a `Fault` variant; faults that change the response as a whole
//!   are handled in `generate.rs` (with their bodies in `hostile.rs`), faults inside a stream in
//!   `reply::plan_stream`.
//! * Keep the hot path lock-free across awaits: the script is an `Arc` snapshot and
//!   the recording locks are only held for a push.

mod anthropic;
pub mod contract;
mod fault;
mod gemini;
mod generate;
mod hostile;
mod identity;
mod openai;
mod reply;
mod script;
mod server;
mod slots;

pub use script::{Behavior, FakeUsage, Fault, Identity, Script, ScriptError};
pub use server::{FakeProvider, Format, RECORDED_PATH, RecordedRequest};
