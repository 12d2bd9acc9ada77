//! OpenAI Chat Completions (`POST {base}/chat/completions`), which also serves every
//! OpenAI-compatible server (Ollama, LM Studio, llama.cpp, vLLM, OpenRouter, Groq,
//! Mistral, DeepSeek, xAI).

mod profile;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub use super::shared::schema_instruction;
pub use profile::{is_reasoning_model, reasoning_effort};
pub use request::{build_body, endpoint, schema_is_strict_compatible};
pub use response::{parse_error, parse_response};
pub use stream::StreamState;
