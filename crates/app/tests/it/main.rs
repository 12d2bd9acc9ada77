//! The app's own tests, one binary: the use cases every host calls, against the
//! fake provider (on 127.0.0.1) and a temporary `ROUNDTABLE_HOME`, with the
//! in-memory keychain. `common/` opens the app; each module is one concern.

mod attachments;
mod budget;
mod common;
mod conversations;
mod crafted_answers;
mod history;
mod judge;
mod keys;
mod prefs;
mod reresolve;
mod runs;
mod samples;
mod spend_guard;
