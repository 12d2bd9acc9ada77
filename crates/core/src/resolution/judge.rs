//! A judge model's ranking of a run's answers (llm-council's peer-ranking stage):
//! the answers, anonymised as "Response A", "Response B", … in an order the
//! caller shuffles (so position bias averages out over runs), fenced as in the
//! consolidation prompt, and a reply asked for as JSON through structured output:
//! `{"ranking": [{"response": "B", "reason": "…"}, …]}`, best first.
//!
//! [`read`] takes the reply apart and says what was wrong with a malformed one.

use super::{label, question_and_answers, strip_code_fence};
use crate::thread::PriorTurn;
use serde::Deserialize;
use serde_json::{Value, json};

/// The judge's prompt: the conversation before the question (when it followed
/// one up, each earlier answer fenced as data), the question and `answers` (in
/// the order shown), labelled.
pub fn prompt(
    earlier: &[PriorTurn],
    input: &str,
    instructions: Option<&str>,
    answers: &[&str],
) -> String {
    let mut out = String::from(
        "You are judging several responses from different models to the question below. \
         Rank every response from best to worst by how well it answers the question: \
         correctness first, then completeness and clarity. Give a one-sentence reason for \
         each place. Judge the content only; the order and labels of the responses mean \
         nothing.\n\n",
    );
    question_and_answers(&mut out, earlier, input, instructions, answers, "judge");
    out.push_str(&format!(
        "\n## Reply\n\nReply with JSON only: {{\"ranking\": [{{\"response\": \"A\", \"reason\": \"…\"}}, …]}}, \
         best first, naming each of the {} responses exactly once.\n",
        answers.len()
    ));
    out
}

/// The JSON Schema of the reply for `n` responses.
pub fn schema(n: usize) -> Value {
    let labels: Vec<String> = (0..n).map(label).collect();
    json!({
        "type": "object",
        "properties": {
            "ranking": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "response": { "type": "string", "enum": labels },
                        "reason": { "type": "string" }
                    },
                    "required": ["response", "reason"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["ranking"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
struct Reply {
    ranking: Vec<Place>,
}

#[derive(Deserialize)]
struct Place {
    response: String,
    #[serde(default)]
    reason: String,
}

/// The positions (in the order the answers were shown), best first, each with
/// the judge's reason; or what was wrong with the reply.
pub fn read(reply: &str, n: usize) -> Result<Vec<(usize, String)>, String> {
    let parsed: Reply = serde_json::from_str(strip_code_fence(reply))
        .map_err(|e| format!("the judge's reply is not the ranking asked for: {e}"))?;
    let mut out: Vec<(usize, String)> = Vec::with_capacity(n);
    for place in parsed.ranking {
        let wanted = place.response.trim().trim_start_matches("Response ").trim();
        let Some(pos) = (0..n).find(|&i| label(i).eq_ignore_ascii_case(wanted)) else {
            return Err(format!(
                "the judge ranked \"{}\", which is none of the responses",
                place.response.chars().take(40).collect::<String>()
            ));
        };
        if out.iter().any(|(p, _)| *p == pos) {
            return Err(format!("the judge ranked Response {} twice", label(pos)));
        }
        out.push((pos, place.reason.trim().to_string()));
    }
    if let Some(missing) = (0..n).find(|i| !out.iter().any(|(p, _)| p == i)) {
        return Err(format!("the judge left out Response {}", label(missing)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_fences_and_labels_the_answers() {
        let p = prompt(
            &[],
            "Why?",
            Some("Be brief."),
            &["first", "second </response-x>"],
        );
        assert!(p.contains("id=\"A\">\nfirst\n"), "{p}");
        assert!(p.contains("id=\"B\">"), "{p}");
        assert!(p.contains("Be brief."));
        assert!(p.contains("each of the 2 responses"));
    }

    #[test]
    fn a_full_ranking_is_read_in_order() {
        let reply = r#"```json
{"ranking": [{"response": "B", "reason": "right"}, {"response": "Response a", "reason": "vague"}]}
```"#;
        assert_eq!(
            read(reply, 2).unwrap(),
            vec![(1, "right".to_string()), (0, "vague".to_string())]
        );
    }

    #[test]
    fn a_malformed_ranking_says_what_is_wrong() {
        let e = read("I liked B best", 2).unwrap_err();
        assert!(e.contains("not the ranking asked for"), "{e}");
        let e = read(r#"{"ranking": [{"response": "C", "reason": ""}]}"#, 2).unwrap_err();
        assert!(e.contains("\"C\", which is none"), "{e}");
        let e = read(
            r#"{"ranking": [{"response": "A", "reason": ""}, {"response": "A", "reason": ""}]}"#,
            2,
        )
        .unwrap_err();
        assert!(e.contains("Response A twice"), "{e}");
        let e = read(r#"{"ranking": [{"response": "B", "reason": "x"}]}"#, 2).unwrap_err();
        assert!(e.contains("left out Response A"), "{e}");
    }

    #[test]
    fn the_schema_names_every_label() {
        let s = schema(3);
        assert_eq!(
            s["properties"]["ranking"]["items"]["properties"]["response"]["enum"],
            json!(["A", "B", "C"])
        );
    }
}
