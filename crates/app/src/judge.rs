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
        // A turn of a conversation is judged with the turns before it (their
        // files named, not sent).
        let earlier = match &stored.request.previous_id {
            Some(previous) => self.turns_to(previous, None)?,
            None => Vec::new(),
        };
        let request = RoundtableRequest {
            input: judge::prompt(
                &earlier,
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
        let named = |mut e: roundtable_core::ValidationError| {
            if e.field.starts_with("models") {
                e.field = "judge_model".into();
            }
            AppError::from(e)
        };
        let prepared = engine.prepare(request).map_err(named)?;
        // Held until the call ends: the budgets are checked as for a run.
        let _reserved = self.reserve_budget(None, || {
            Ok(self.estimate_with(&engine, &prepared)?.worst_cost)
        })?;
        let outcome = engine.execute(prepared, None, cancel).await;
        let result = outcome
            .response
            .model_results
            .into_iter()
            .next()
            .ok_or_else(|| AppError::new(Code::Internal, "the judge's call returned nothing"))?;
        // A call that gives no ranking was paid for all the same.
        let failed = |message: String| -> AppError {
            let store = self.store();
            match store.record_judge_spend(id, judge_model, result.cost) {
                Ok(()) => AppError::new(Code::JudgeFailed, message),
                Err(e) => e.into(),
            }
        };
        if let Some(error) = &result.error {
            return Err(failed(format!("the judge {judge_model} failed: {error}")));
        }
        let places = judge::read(&result.data, texts.len())
            .map_err(|e| failed(format!("{judge_model}: {e}")))?;
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
