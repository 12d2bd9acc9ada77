//! Conversations: a run that follows up an earlier one (`previous_id`) sends each
//! model the turns before it as a real multi-turn request.
//!
//! The host (which keeps the history) reads the thread up to the run it follows
//! and hands its turns to the engine as [`PriorTurn`]s
//! ([`crate::engine::PreparedRun::with_thread`]); the engine builds, for each
//! model of the panel, the [`Message`]s of its own thread ([`messages_for`]):
//! each earlier prompt (with its attachments, sent again), and as the
//! assistant's turn either the model's **own** earlier answer ([`Context::Own`],
//! the default) or the turn's **resolved** answer ([`Context::Resolved`]). A
//! model that failed or was not on the panel in a turn gets that turn's resolved
//! answer, and its result says which turns ([`crate::ModelResult::context_resolved`]).
//! A turn with no answer at all (every model failed, nothing resolved) is left
//! out: it told the models nothing.
//!
//! Each wire format turns the messages into its own roles (`user`/`assistant`,
//! Gemini's `user`/`model`), the system prompt sent once. Earlier answers are
//! sent as text only: Anthropic lets thinking blocks of earlier turns be left
//! out (they are not kept for the next turn outside tool use), and a reasoning
//! model's thoughts are not part of its answer.

use crate::attachments::Part;
use crate::contract::RoundtableResponse;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which earlier answers a follow-up sends as the assistant's turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// Each model keeps its own thread: its own earlier answers.
    #[default]
    Own,
    /// The table continues from the resolution: every model gets the resolved
    /// answers.
    Resolved,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Own => "own",
            Context::Resolved => "resolved",
        }
    }
}

impl std::str::FromStr for Context {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "own" => Ok(Context::Own),
            "resolved" => Ok(Context::Resolved),
            other => Err(format!(
                "unknown context '{other}': expected own or resolved"
            )),
        }
    }
}

/// An earlier turn of the conversation, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriorTurn {
    pub input: String,
    /// Its attachments, with their bytes (sent again), read once and shared by
    /// every model's thread.
    pub attachments: Arc<Vec<Part>>,
    /// The turn's resolved answer (the consolidation, the winning choice, the
    /// first answer), when it has one.
    pub resolved: Option<String>,
    /// Each model's answer in that turn: (model name, sample, answer); only
    /// the models that answered.
    pub answers: Vec<(String, Option<u32>, String)>,
}

impl PriorTurn {
    /// A finished run as an earlier turn: its question, its attachments (with
    /// their bytes), its resolved answer (`fast` keeps none: its first answer
    /// stands for it) and each answer.
    pub fn of(input: String, attachments: Vec<Part>, response: &RoundtableResponse) -> Self {
        let answered = || response.model_results.iter().filter(|r| r.succeeded());
        let resolved = response
            .data
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| answered().next().map(|r| r.data.clone()));
        PriorTurn {
            input,
            attachments: Arc::new(attachments),
            resolved,
            answers: answered()
                .map(|r| (r.model.clone(), r.sample, r.data.clone()))
                .collect(),
        }
    }

    /// `model`'s (and `sample`'s) answer in this turn.
    pub fn answer_of(&self, model: &str, sample: Option<u32>) -> Option<&str> {
        let of = |s: Option<u32>| {
            self.answers
                .iter()
                .find(|(m, k, _)| m == model && *k == s)
                .map(|(_, _, a)| a.as_str())
        };
        // A sample with no counterpart (the earlier turn had fewer) falls back
        // to the model's first answer there.
        of(sample).or_else(|| {
            self.answers
                .iter()
                .find(|(m, _, _)| m == model)
                .map(|(_, _, a)| a.as_str())
        })
    }
}

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One earlier message of a model's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub text: String,
    /// A user message's attachments (the turn's own, shared, not copied).
    pub attachments: Arc<Vec<Part>>,
}

/// The earlier messages `model` (its `sample`) is sent, and the turns (1-based)
/// where the resolved answer stood in for its own.
pub fn messages_for(
    model: &str,
    sample: Option<u32>,
    turns: &[PriorTurn],
    context: Context,
) -> (Vec<Message>, Vec<u32>) {
    let mut messages = Vec::with_capacity(turns.len() * 2);
    let mut stood_in = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        let own = turn.answer_of(model, sample);
        let answer = match (context, own, turn.resolved.as_deref()) {
            (Context::Own, Some(own), _) => own,
            (_, _, Some(resolved)) => {
                if context == Context::Own {
                    stood_in.push(i as u32 + 1);
                }
                resolved
            }
            (Context::Resolved, Some(own), None) => own,
            (_, None, None) => continue,
        };
        messages.push(Message {
            role: Role::User,
            text: turn.input.clone(),
            attachments: turn.attachments.clone(),
        });
        messages.push(Message {
            role: Role::Assistant,
            text: answer.to_string(),
            attachments: Arc::default(),
        });
    }
    (messages, stood_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(input: &str, resolved: Option<&str>, answers: &[(&str, &str)]) -> PriorTurn {
        PriorTurn {
            input: input.into(),
            resolved: resolved.map(Into::into),
            answers: answers
                .iter()
                .map(|(m, a)| (m.to_string(), None, a.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    fn texts(m: &[Message]) -> Vec<(Role, &str)> {
        m.iter().map(|m| (m.role, m.text.as_str())).collect()
    }

    #[test]
    fn own_context_keeps_each_models_thread_and_says_where_the_resolution_stood_in() {
        let turns = [
            turn("Q1", Some("R1"), &[("a/x", "X1"), ("b/y", "Y1")]),
            turn("Q2", Some("R2"), &[("b/y", "Y2")]),
        ];
        let (m, stood_in) = messages_for("a/x", None, &turns, Context::Own);
        use Role::*;
        assert_eq!(
            texts(&m),
            [
                (User, "Q1"),
                (Assistant, "X1"),
                (User, "Q2"),
                (Assistant, "R2")
            ]
        );
        assert_eq!(stood_in, [2]);
        let (m, stood_in) = messages_for("b/y", None, &turns, Context::Own);
        assert_eq!(texts(&m)[3], (Assistant, "Y2"));
        assert!(stood_in.is_empty());
    }

    #[test]
    fn resolved_context_sends_the_resolutions() {
        let turns = [turn("Q1", Some("R1"), &[("a/x", "X1")])];
        let (m, stood_in) = messages_for("a/x", None, &turns, Context::Resolved);
        assert_eq!(m[1].text, "R1");
        assert!(stood_in.is_empty(), "chosen, not stood in");
    }

    #[test]
    fn a_turn_with_no_answer_is_left_out() {
        let turns = [turn("Q1", None, &[]), turn("Q2", None, &[("b/y", "Y2")])];
        let (m, _) = messages_for("a/x", None, &turns, Context::Own);
        assert!(m.is_empty());
        let (m, _) = messages_for("a/x", None, &turns, Context::Resolved);
        assert!(m.is_empty());
        let (m, _) = messages_for("b/y", None, &turns, Context::Resolved);
        assert_eq!(texts(&m), [(Role::User, "Q2"), (Role::Assistant, "Y2")]);
    }

    #[test]
    fn every_model_shares_the_earlier_files_read_once() {
        let mut t = turn("Q1", Some("R1"), &[("a/x", "X1")]);
        t.attachments = Arc::new(vec![Part {
            name: "big.txt".into(),
            media_type: "text/plain".into(),
            kind: crate::attachments::Kind::Text,
            base64: "eA==".into(),
            text: Some("x".into()),
            size: 1,
        }]);
        let turns = [t];
        let (a, _) = messages_for("a/x", None, &turns, Context::Own);
        let (b, _) = messages_for("b/y", None, &turns, Context::Own);
        assert!(Arc::ptr_eq(&a[0].attachments, &turns[0].attachments));
        assert!(Arc::ptr_eq(&b[0].attachments, &turns[0].attachments));
    }

    #[test]
    fn samples_keep_their_own_thread() {
        let mut t = turn("Q1", Some("R1"), &[]);
        t.answers = vec![
            ("a/x".into(), Some(1), "first".into()),
            ("a/x".into(), Some(2), "second".into()),
        ];
        let (m, _) = messages_for("a/x", Some(2), std::slice::from_ref(&t), Context::Own);
        assert_eq!(m[1].text, "second");
        let (m, _) = messages_for("a/x", Some(3), &[t], Context::Own);
        assert_eq!(m[1].text, "first");
    }
}
