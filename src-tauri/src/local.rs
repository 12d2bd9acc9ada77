//! Local OpenAI-compatible servers: which answer on this machine, and their
//! models. The probe lives in `roundtable-app`, shared with `roundtable providers`.

pub use roundtable_app::local_servers::{LocalServer, detect};
