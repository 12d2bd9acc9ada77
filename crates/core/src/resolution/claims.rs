//! Where free-text answers agree: the distinct claims the answers make and, for
//! each, which answers support it, contradict it or do not mention it. Asked of
//! the summary model beside the consolidation (request `consensus: true`),
//! through structured output, with the answers anonymised and fenced as in the
//! consolidation prompt; [`read`] takes the reply apart, and a malformed one is
//! said in `meta.claims_error` without touching the summary.
//!
//! A claim is **unanimous** when every answer supports it, **contested** when
//! any answer contradicts it, **majority** when more than half support it, and
//! **minority** otherwise. The run's agreement rate is the share of claims no
//! answer contradicts.

use super::{label, question_and_answers, strip_code_fence};
use crate::contract::ModelResult;
use crate::thread::PriorTurn;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// At most this many claims are kept from a reply.
pub const MAX_CLAIMS: usize = 40;

/// What an answer says about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Supports,
    Contradicts,
    Silent,
}

/// How widely a claim is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Unanimous,
    Majority,
    Minority,
    Contested,
}

/// One claim and each answer's stance on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Claim {
    pub text: String,
    /// One per entry of [`ClaimMatrix::results`], in that order.
    pub stances: Vec<Stance>,
    pub kind: ClaimKind,
}

/// The claims × answers matrix of a run (extension `meta.claims`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClaimMatrix {
    /// The model-result indices of the answers, in the order of each claim's stances.
    pub results: Vec<usize>,
    pub claims: Vec<Claim>,
    /// The share of claims no answer contradicts (1 with no claims).
    pub agreement_rate: f64,
}

/// The answers the claims are asked about: the ones that succeeded, in panel
/// order (the same as the consolidation's "Response A", "B", …).
pub fn answered(results: &[ModelResult]) -> Vec<&ModelResult> {
    results.iter().filter(|r| r.succeeded()).collect()
}

/// The claims prompt for the conversation before (when any), the question and
/// the answers.
pub fn prompt(
    earlier: &[PriorTurn],
    input: &str,
    instructions: Option<&str>,
    answers: &[&str],
) -> String {
    let mut out = String::from(
        "Several models answered the question below. List the distinct factual claims or \
         recommendations their responses make (at most 40, each one short sentence, the \
         important ones first), and for every claim say whether each response supports it, \
         contradicts it, or is silent on it. Merge claims that say the same thing in \
         different words.\n\n",
    );
    question_and_answers(&mut out, earlier, input, instructions, answers, "analyse");
    let labels: Vec<String> = (0..answers.len()).map(label).collect();
    out.push_str(&format!(
        "\n## Reply\n\nReply with JSON only: {{\"claims\": [{{\"claim\": \"…\", \"stances\": {{{}}}}}, …]}}, \
         where each stance is \"supports\", \"contradicts\" or \"silent\".\n",
        labels
            .iter()
            .map(|l| format!("\"{l}\": \"supports\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out
}

/// The JSON Schema of the reply for `n` responses.
pub fn schema(n: usize) -> Value {
    let stance = json!({ "type": "string", "enum": ["supports", "contradicts", "silent"] });
    let labels: Vec<String> = (0..n).map(label).collect();
    let properties: serde_json::Map<String, Value> =
        labels.iter().map(|l| (l.clone(), stance.clone())).collect();
    json!({
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "claim": { "type": "string" },
                        "stances": {
                            "type": "object",
                            "properties": properties,
                            "required": labels,
                            "additionalProperties": false
                        }
                    },
                    "required": ["claim", "stances"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["claims"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
struct Reply {
    claims: Vec<RawClaim>,
}

#[derive(Deserialize)]
struct RawClaim {
    claim: String,
    stances: serde_json::Map<String, Value>,
}

/// The matrix from the reply, for the answers `results` (model-result indices,
/// labelled A, B, … in this order); or what was wrong with the reply.
pub fn read(reply: &str, results: &[usize]) -> Result<ClaimMatrix, String> {
    let parsed: Reply = serde_json::from_str(strip_code_fence(reply))
        .map_err(|e| format!("the claims reply is not the matrix asked for: {e}"))?;
    let mut claims = Vec::new();
    for raw in parsed.claims.into_iter().take(MAX_CLAIMS) {
        let text = raw.claim.trim().to_string();
        if text.is_empty() {
            continue;
        }
        let stances = (0..results.len())
            .map(|n| {
                let key = label(n);
                let found = raw
                    .stances
                    .iter()
                    .find(|(k, _)| {
                        let k = k.trim().trim_start_matches("Response ").trim();
                        k.eq_ignore_ascii_case(&key)
                    })
                    .map(|(_, v)| v);
                match found.and_then(Value::as_str).map(str::trim) {
                    Some(s) if s.eq_ignore_ascii_case("supports") => Ok(Stance::Supports),
                    Some(s) if s.eq_ignore_ascii_case("contradicts") => Ok(Stance::Contradicts),
                    Some(s) if s.eq_ignore_ascii_case("silent") => Ok(Stance::Silent),
                    None => Err(format!(
                        "the claim \"{}\" gives no stance for Response {key}",
                        short(&text)
                    )),
                    Some(other) => Err(format!(
                        "the claim \"{}\" gives Response {key} the stance \"{}\"",
                        short(&text),
                        short(other)
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let kind = kind(&stances);
        claims.push(Claim {
            text,
            stances,
            kind,
        });
    }
    let uncontested = claims
        .iter()
        .filter(|c| c.kind != ClaimKind::Contested)
        .count();
    Ok(ClaimMatrix {
        results: results.to_vec(),
        agreement_rate: if claims.is_empty() {
            1.0
        } else {
            uncontested as f64 / claims.len() as f64
        },
        claims,
    })
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

fn kind(stances: &[Stance]) -> ClaimKind {
    let supports = stances.iter().filter(|s| **s == Stance::Supports).count();
    if stances.contains(&Stance::Contradicts) {
        ClaimKind::Contested
    } else if supports == stances.len() {
        ClaimKind::Unanimous
    } else if supports * 2 > stances.len() {
        ClaimKind::Majority
    } else {
        ClaimKind::Minority
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = r#"{"claims": [
        {"claim": "Paris is the capital", "stances": {"A": "supports", "B": "supports", "C": "supports"}},
        {"claim": "It is on the Seine", "stances": {"A": "supports", "B": "silent", "C": "supports"}},
        {"claim": "It has 2 million people", "stances": {"A": "supports", "B": "contradicts", "C": "silent"}},
        {"claim": "It hosted the 2024 Olympics", "stances": {"Response A": "silent", "b": "SILENT", "C": "supports"}}
    ]}"#;

    #[test]
    fn a_reply_becomes_a_matrix_with_kinds_and_a_rate() {
        let m = read(REPLY, &[0, 2, 3]).unwrap();
        assert_eq!(m.results, vec![0, 2, 3]);
        let kinds: Vec<ClaimKind> = m.claims.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ClaimKind::Unanimous,
                ClaimKind::Majority,
                ClaimKind::Contested,
                ClaimKind::Minority
            ]
        );
        assert_eq!(
            m.claims[3].stances,
            vec![Stance::Silent, Stance::Silent, Stance::Supports]
        );
        assert!((m.agreement_rate - 0.75).abs() < 1e-12);
    }

    #[test]
    fn a_malformed_reply_says_what_is_wrong() {
        let e = read("Mostly they agree.", &[0, 1]).unwrap_err();
        assert!(e.contains("not the matrix asked for"), "{e}");
        let e = read(
            r#"{"claims": [{"claim": "x", "stances": {"A": "supports"}}]}"#,
            &[0, 1],
        )
        .unwrap_err();
        assert!(e.contains("no stance for Response B"), "{e}");
        let e = read(
            r#"{"claims": [{"claim": "x", "stances": {"A": "maybe", "B": "silent"}}]}"#,
            &[0, 1],
        )
        .unwrap_err();
        assert!(e.contains("the stance \"maybe\""), "{e}");
    }

    #[test]
    fn no_claims_is_full_agreement_and_claims_are_capped() {
        assert_eq!(read(r#"{"claims": []}"#, &[0]).unwrap().agreement_rate, 1.0);
        let many: Vec<String> = (0..100)
            .map(|i| format!(r#"{{"claim": "c{i}", "stances": {{"A": "supports"}}}}"#))
            .collect();
        let reply = format!(r#"{{"claims": [{}]}}"#, many.join(","));
        assert_eq!(read(&reply, &[0]).unwrap().claims.len(), MAX_CLAIMS);
    }

    #[test]
    fn the_prompt_and_schema_name_every_response() {
        let p = prompt(&[], "Capital?", None, &["Paris", "Lyon"]);
        assert!(
            p.contains("id=\"A\">\nParis\n") && p.contains("id=\"B\">\nLyon\n"),
            "{p}"
        );
        let s = schema(2);
        assert_eq!(
            s["properties"]["claims"]["items"]["properties"]["stances"]["required"],
            json!(["A", "B"])
        );
    }
}
