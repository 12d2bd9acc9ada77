//! The multiple-choice resolution: each model's vote read from its answer, and
//! the tally.
//!
//! Each model is told the choices, lettered, and asked for
//! exactly one. An answer is normalised to a choice by, in order: trimming
//! whitespace, quotes, brackets and surrounding punctuation (and a leading
//! "Answer:"); an exact match with a choice, ignoring case; a bare option letter
//! (`B`, `(B)`, `B.`); a first line that is a choice or a letter followed by the
//! choice text; else prose that names exactly one choice as a whole word or
//! phrase. Where the provider takes structured output the call asks for
//! `{"choice": …}` among the choices ([`choice_schema`]), read first. Each vote
//! says how it was read ([`VoteRead`]). Anything else is off-list and counts for
//! nothing. The winner is
//! the plurality. **Ties** go to the tied choice that comes first in `choices`.
//! With no valid vote at all, `data` is `""`.

use super::{label, strip_code_fence};
use crate::contract::{ModelResult, VoteRead};
use indexmap::IndexMap;
use serde_json::{Value, json};

/// The instructions added to each model's call in multiple-choice mode.
pub fn choice_instructions(choices: &[String]) -> String {
    let mut out = String::from(
        "Answer the question by choosing exactly one of the options below. \
         Reply with the text of the option only, exactly as written, with no explanation.\n\nOptions:\n",
    );
    for (i, c) in choices.iter().enumerate() {
        out.push_str(&format!("{}) {}\n", label(i), c));
    }
    out
}

fn strip_noise(s: &str) -> &str {
    let noise = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\''
                    | '`'
                    | '“'
                    | '”'
                    | '‘'
                    | '’'
                    | '«'
                    | '»'
                    | '.'
                    | ','
                    | ';'
                    | ':'
                    | '!'
                    | '?'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '*'
                    | '_'
            )
    };
    let mut s = s.trim_matches(noise);
    for prefix in ["answer:", "the answer is", "final answer:", "option"] {
        // `get`: the prefix's length may fall inside a character of the answer.
        if s.len() > prefix.len()
            && s.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            s = s[prefix.len()..].trim_matches(noise);
        }
    }
    s
}

/// The index of the choice an answer stands for, if any.
pub fn normalise_choice(answer: &str, choices: &[String]) -> Option<usize> {
    let find = |s: &str| -> Option<usize> {
        let s = strip_noise(s);
        if s.is_empty() {
            return None;
        }
        if let Some(i) = choices
            .iter()
            .position(|c| strip_noise(c).eq_ignore_ascii_case(s))
        {
            return Some(i);
        }
        // A bare option letter, when no choice is itself that letter.
        if s.chars().count() == 1 {
            let letter = s.chars().next()?.to_ascii_uppercase();
            if letter.is_ascii_uppercase() {
                let i = (letter as u8 - b'A') as usize;
                if i < choices.len() {
                    return Some(i);
                }
            }
        }
        // "B) Paris" or "B. Paris"
        let mut chars = s.chars();
        let first = chars.next()?.to_ascii_uppercase();
        let rest = chars.as_str();
        if first.is_ascii_uppercase() && rest.starts_with([')', '.', ':']) {
            let i = (first as u8 - b'A') as usize;
            if i < choices.len()
                && strip_noise(&rest[1..]).eq_ignore_ascii_case(strip_noise(&choices[i]))
            {
                return Some(i);
            }
        }
        None
    };
    find(answer).or_else(|| {
        let first_line = answer.trim().lines().next()?;
        if first_line.trim() == answer.trim() {
            None
        } else {
            find(first_line)
        }
    })
}

/// The output schema a multiple-choice call asks for where the provider takes
/// structured output: one of the choices, so every vote is valid by
/// construction.
pub fn choice_schema(choices: &[String]) -> Value {
    json!({
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": choices}},
        "required": ["choice"],
        "additionalProperties": false
    })
}

/// The choice an answer votes for, and how it was read: the structured
/// `{"choice": …}` object; else the answer as a choice ([`normalise_choice`]);
/// else prose that names exactly one of the choices, as a whole word or
/// phrase ("The capital of France is Paris.").
pub fn read_vote(answer: &str, choices: &[String]) -> Option<(usize, VoteRead)> {
    let structured = serde_json::from_str::<Value>(strip_code_fence(answer))
        .ok()
        .and_then(|v| v.get("choice")?.as_str().map(str::to_owned))
        .and_then(|c| normalise_choice(&c, choices));
    if let Some(i) = structured {
        return Some((i, VoteRead::Structured));
    }
    if let Some(i) = normalise_choice(answer, choices) {
        return Some((i, VoteRead::Answer));
    }
    let text = answer.to_lowercase();
    let mut named = choices
        .iter()
        .enumerate()
        .filter(|(_, c)| names_phrase(&text, &strip_noise(c).to_lowercase()));
    match (named.next(), named.next()) {
        (Some((i, _)), None) => Some((i, VoteRead::Prose)),
        _ => None,
    }
}

/// Whether `text` holds `phrase` with no letter or digit right before or after.
fn names_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The outcome of a vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    /// Votes per choice; every choice is listed.
    pub votes: IndexMap<String, u32>,
    /// The winning choice, `None` when no answer matched a choice.
    pub winner: Option<String>,
    /// Per model result (by position in `results`): the choice it counted for,
    /// and how it was read.
    pub ballots: Vec<Option<(String, VoteRead)>>,
}

/// Tallies the successful answers (failed models do not vote).
pub fn tally(results: &[ModelResult], choices: &[String]) -> Tally {
    let mut counts = vec![0u32; choices.len()];
    let ballots: Vec<Option<(String, VoteRead)>> = results
        .iter()
        .map(|r| {
            if !r.succeeded() {
                return None;
            }
            let (i, read) = read_vote(&r.data, choices)?;
            counts[i] += 1;
            Some((choices[i].clone(), read))
        })
        .collect();
    let best = counts.iter().copied().max().unwrap_or(0);
    // First in `choices` order among the tied.
    let winner = (best > 0)
        .then(|| counts.iter().position(|&c| c == best))
        .flatten()
        .map(|i| choices[i].clone());
    Tally {
        votes: choices.iter().cloned().zip(counts).collect(),
        winner,
        ballots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> Vec<String> {
        vec!["Paris".into(), "London".into(), "New York".into()]
    }

    fn answer(data: &str) -> ModelResult {
        ModelResult {
            data: data.into(),
            ..Default::default()
        }
    }

    #[test]
    fn normalises_case_quotes_punctuation_and_letters() {
        let c = choices();
        for (a, want) in [
            ("Paris", Some(0)),
            ("  paris.  ", Some(0)),
            ("\"London\"", Some(1)),
            ("**New York**", Some(2)),
            ("new york!", Some(2)),
            ("B", Some(1)),
            ("(c)", Some(2)),
            ("A.", Some(0)),
            ("B) London", Some(1)),
            ("Answer: Paris", Some(0)),
            ("London\n\nBecause it is the capital.", Some(1)),
            ("Berlin", None),
            ("D", None),
            ("", None),
            ("Paris or London", None),
        ] {
            assert_eq!(normalise_choice(a, &c), want, "{a:?}");
        }
    }

    #[test]
    fn plurality_wins_and_ties_go_to_the_first_choice() {
        let c = choices();
        let t = tally(
            &[
                answer("London"),
                answer("paris"),
                answer("B"),
                answer("Rome"),
            ],
            &c,
        );
        assert_eq!(t.winner.as_deref(), Some("London"));
        assert_eq!(t.votes["London"], 2);
        assert_eq!(t.votes["New York"], 0);
        assert_eq!(t.ballots[3], None);
        assert_eq!(
            t.votes.keys().collect::<Vec<_>>(),
            c.iter().collect::<Vec<_>>(),
            "votes listed in the order of the choices"
        );

        let t = tally(&[answer("New York"), answer("London")], &c);
        assert_eq!(
            t.winner.as_deref(),
            Some("London"),
            "tie: first in choices order"
        );

        let t = tally(&[answer("Rome")], &c);
        assert_eq!(t.winner, None);
    }

    #[test]
    fn failed_models_do_not_vote() {
        let mut failed = answer("Paris");
        failed.error = Some("boom".into());
        let t = tally(&[failed, answer("London")], &choices());
        assert_eq!(t.winner.as_deref(), Some("London"));
        assert_eq!(t.votes["Paris"], 0);
    }

    #[test]
    fn votes_are_read_from_structured_output_the_answer_or_prose() {
        let c = choices();
        for (a, want) in [
            (r#"{"choice": "London"}"#, Some((1, VoteRead::Structured))),
            (
                "```json\n{\"choice\":\"paris\"}\n```",
                Some((0, VoteRead::Structured)),
            ),
            ("Paris", Some((0, VoteRead::Answer))),
            (
                "The capital of France is Paris.",
                Some((0, VoteRead::Prose)),
            ),
            ("I would say new york, clearly.", Some((2, VoteRead::Prose))),
            // Two choices named, or a choice only inside a word: not counted.
            ("Paris or London", None),
            ("Parisian food is good.", None),
            ("Berlin", None),
        ] {
            assert_eq!(read_vote(a, &c), want, "{a:?}");
        }
        let t = tally(&[answer("The capital is Paris."), answer("London")], &c);
        assert_eq!(
            t.ballots,
            vec![
                Some(("Paris".to_string(), VoteRead::Prose)),
                Some(("London".to_string(), VoteRead::Answer))
            ]
        );
    }

    #[test]
    fn answers_with_characters_of_several_bytes_are_read_without_panic() {
        // "answer:" is 7 bytes: the 7th byte of this answer is inside 'û'.
        let c = vec!["Paris".to_string(), "London".into(), "Berlin".into()];
        assert_eq!(
            read_vote("Bien sûr. The answer is C) Berlin.", &c),
            Some((2, VoteRead::Prose))
        );
        for a in ["ééééééé", "Optiön", "答案：巴黎", "the answer i€"] {
            let _ = read_vote(a, &c);
        }
    }
}
