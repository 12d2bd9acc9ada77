//! Judging a stored run: a judge model ranks its answers, anonymised and in a
//! shuffled order (see `roundtable_core::resolution::judge`), with a reason for
//! each place. The ranking is stored apart from the person's vote, one per run
//! and judge, and feeds the judges' leaderboard, never the votes'.

use crate::{App, AppError, Code};
use rand::seq::SliceRandom;
use roundtable_core::resolution::judge;
use roundtable_core::{ModelSpec, Resolution, RoundtableRequest};
use roundtable_store::Judgement;
use tokio_util::sync::CancellationToken;

impl App {
    /// Has `judge_model` rank the answers of run `id`, stores and returns it.
    pub async fn judge(
        &self,
        id: &str,
        judge_model: &str,
        cancel: CancellationToken,
    ) -> Result<Judgement, AppError> {
        let stored = self.get_run(id)?;
        let mut answered: Vec<_> = stored
            .response
            .model_results
            .iter()
            .filter(|r| r.succeeded() && !r.data.trim().is_empty())
            .collect();
        if answered.len() < 2 {
            return Err(AppError::new(
                Code::InvalidRequest,
                format!(
                    "run {id} has {} answer(s); a judge ranks two or more",
                    answered.len()
                ),
            ));
        }
        answered.shuffle(&mut rand::rng());
        let texts: Vec<&str> = answered.iter().map(|r| r.data.as_str()).collect();
        let request = RoundtableRequest {
            input: judge::prompt(
                &stored.request.input,
                stored.request.instructions.as_deref(),
                &texts,
            ),
            models: vec![ModelSpec::named(judge_model)],
            resolution: Some(Resolution::Fast),
            output_schema: Some(judge::schema(texts.len())),
            ..RoundtableRequest::default()
        };
        let engine = self.engine_for(&request);
        let outcome = engine.run(request, None, cancel).await.map_err(|mut e| {
            if e.field.starts_with("models") {
                e.field = "judge_model".into();
            }
            AppError::from(e)
        })?;
        let result = outcome
            .response
            .model_results
            .into_iter()
            .next()
            .ok_or_else(|| AppError::new(Code::Internal, "the judge's call returned nothing"))?;
        if let Some(error) = result.error {
            return Err(AppError::new(
                Code::JudgeFailed,
                format!("the judge {judge_model} failed: {error}"),
            ));
        }
        let places = judge::read(&result.data, texts.len())
            .map_err(|e| AppError::new(Code::JudgeFailed, format!("{judge_model}: {e}")))?;
        let judgement = Judgement {
            judge_model: judge_model.to_string(),
            ranking: places
                .iter()
                .map(|(pos, _)| answered[*pos].index as u32)
                .collect(),
            reasons: places.into_iter().map(|(_, reason)| reason).collect(),
            cost: result.cost,
            judged_at_ms: roundtable_store::now_ms(),
        };
        self.store().record_judgement(id, &judgement)?;
        Ok(judgement)
    }
}
