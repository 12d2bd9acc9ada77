//! Where a run's answers agree, computed from the answers alone (no model call,
//! deterministic): the view that fits the run's answers.
//!
//! - Structured answers (`output_schema`, not multiple choice): each leaf
//!   field's values across the answers, the majority value and its share, and
//!   a consensus object of the majority values ([`fields`]).
//! - Free text (summary or fast without a schema): the answers' pairwise
//!   similarity and the outliers ([`similarity`]).
//! - Multiple choice: the winning choice's share of the answers ([`ChoiceShare`]).
//!
//! The engine attaches it to every response as `meta.agreement` (an
//! extension); [`fill`] computes it for a stored run recorded before it
//! existed. Only the models that answered count; with fewer than two there is
//! nothing to agree on and no agreement.
//!
//! Extending it: a new view is a module here with a pure function over the
//! answers, an optional field of [`Agreement`] (serde-skipped when absent, so
//! stored runs and the contract stay as they are) and its line in [`compute`];
//! then the CLI (`crates/cli/src/render.rs`) and the exports
//! (`crates/store/src/export/`) show it.

pub mod consensus;
pub mod fields;
pub mod similarity;
mod values;

pub use consensus::Consensus;
pub use fields::{FieldAgreement, FieldTable, FieldValue, Truncated};
pub use similarity::Similarity;

use crate::contract::{Resolution, RoundtableRequest, RoundtableResponse};
use serde::{Deserialize, Serialize};

/// How far a run's answers agree (`meta.agreement`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Agreement {
    /// Structured answers: every leaf field and the values the answers give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldTable>,
    /// Structured answers: the majority's answer, field by field; absent when
    /// no answer was valid JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<Consensus>,
    /// Free-text answers: their pairwise similarity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<Similarity>,
    /// Multiple choice: the winning choice's share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ChoiceShare>,
}

/// The winning choice of a multiple-choice run and its share of the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChoiceShare {
    pub choice: String,
    /// The answers counted for it.
    pub votes: u32,
    /// The models that answered, an answer that matched no choice included.
    pub answers: u32,
    /// `votes / answers`, 0 to 1.
    pub share: f64,
    /// Another choice has as many votes (the winner is then the first listed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tied: bool,
}

/// The agreement of `response`'s answers; `request` says whether they are
/// structured. `None` when fewer than two models answered.
pub fn compute(request: &RoundtableRequest, response: &RoundtableResponse) -> Option<Agreement> {
    let answers: Vec<(usize, &str)> = response
        .model_results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.succeeded())
        .map(|(at, r)| (at, r.data.as_str()))
        .collect();
    if answers.len() < 2 {
        return None;
    }
    let mut agreement = Agreement::default();
    match response.meta.resolution {
        Resolution::MultipleChoice => {
            agreement.choice = choice_share(response, answers.len());
        }
        _ if request.output_schema.is_some() => {
            let (table, consensus) = fields::agreement(&answers);
            agreement.consensus = consensus;
            agreement.fields = Some(table);
        }
        _ => agreement.similarity = Some(similarity::similarity(&answers)),
    }
    Some(agreement)
}

/// Sets `meta.agreement` when it is absent (a run stored before it was
/// computed).
pub fn fill(request: &RoundtableRequest, response: &mut RoundtableResponse) {
    if response.meta.agreement.is_none() {
        response.meta.agreement = compute(request, response).map(Box::new);
    }
}

fn choice_share(response: &RoundtableResponse, answers: usize) -> Option<ChoiceShare> {
    let votes = response.meta.votes.as_ref()?;
    let winner = response.data.as_deref().filter(|d| !d.is_empty())?;
    let won = *votes.get(winner)?;
    Some(ChoiceShare {
        choice: winner.to_string(),
        votes: won,
        answers: answers as u32,
        share: won as f64 / answers as f64,
        tied: votes.iter().any(|(c, &n)| c != winner && n == won),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Meta, ModelResult};

    fn response(resolution: Resolution, answers: &[Option<&str>]) -> RoundtableResponse {
        RoundtableResponse {
            id: "rt_1".into(),
            data: None,
            meta: Meta {
                resolution,
                ..Default::default()
            },
            model_results: answers
                .iter()
                .enumerate()
                .map(|(index, a)| ModelResult {
                    index,
                    model: format!("p/m{index}"),
                    data: a.unwrap_or("").into(),
                    error: a.is_none().then(|| "boom".to_string()),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn structured_answers_get_fields_and_consensus_failed_models_not_counted() {
        let req = RoundtableRequest {
            output_schema: Some(serde_json::json!({"type": "object"})),
            ..Default::default()
        };
        let r = response(
            Resolution::Summary,
            &[
                Some(r#"{"a":1}"#),
                None,
                Some(r#"{"a":1.0}"#),
                Some(r#"{"a":2}"#),
            ],
        );
        let a = compute(&req, &r).unwrap();
        let table = a.fields.unwrap();
        assert_eq!(table.answers, vec![0, 2, 3]);
        assert_eq!(table.fields[0].majority, Some(serde_json::json!(1)));
        assert_eq!(a.consensus.unwrap().object, serde_json::json!({"a":1}));
        assert!(a.similarity.is_none() && a.choice.is_none());
    }

    #[test]
    fn free_text_gets_similarity_and_one_answer_gets_nothing() {
        let req = RoundtableRequest::default();
        let r = response(Resolution::Fast, &[Some("yes"), Some("yes"), None]);
        let s = compute(&req, &r).unwrap().similarity.unwrap();
        assert_eq!(s.results, vec![0, 1]);
        let one = response(Resolution::Summary, &[Some("yes"), None]);
        assert_eq!(compute(&req, &one), None);
    }

    #[test]
    fn multiple_choice_gets_the_winners_share_of_the_answers() {
        let mut r = response(
            Resolution::MultipleChoice,
            &[
                Some("Paris"),
                Some("Paris"),
                Some("Paris"),
                Some("Rome?!"),
                None,
            ],
        );
        r.data = Some("Paris".into());
        r.meta.votes = Some([("Paris".to_string(), 3), ("London".to_string(), 0)].into());
        let c = compute(&RoundtableRequest::default(), &r)
            .unwrap()
            .choice
            .unwrap();
        assert_eq!((c.votes, c.answers, c.tied), (3, 4, false));
        assert_eq!(c.share, 0.75);
        r.meta.votes = Some([("Paris".to_string(), 3), ("London".to_string(), 3)].into());
        assert!(
            compute(&RoundtableRequest::default(), &r)
                .unwrap()
                .choice
                .unwrap()
                .tied
        );
    }

    #[test]
    fn fill_keeps_a_recorded_agreement() {
        let req = RoundtableRequest::default();
        let mut r = response(Resolution::Fast, &[Some("a"), Some("b")]);
        let kept = Agreement {
            choice: Some(ChoiceShare::default()),
            ..Default::default()
        };
        r.meta.agreement = Some(Box::new(kept.clone()));
        fill(&req, &mut r);
        assert_eq!(r.meta.agreement, Some(Box::new(kept)));
        r.meta.agreement = None;
        fill(&req, &mut r);
        assert!(r.meta.agreement.unwrap().similarity.is_some());
    }
}
