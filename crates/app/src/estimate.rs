//! A run's cost before it starts ([`App::estimate`]), with each model's median
//! output in this history standing in for its typical answer, and the check of
//! a run's `max_cost` against the estimate's worst case ([`App::check_cost`]).

use crate::{App, AppError, Code};
use roundtable_core::engine::PreparedRun;
use roundtable_core::{Engine, Estimate, RoundtableRequest};

impl App {
    /// What `request` would cost, without calling anyone.
    pub fn estimate(&self, request: &RoundtableRequest) -> Result<Estimate, AppError> {
        let engine = self.engine_for(request);
        // The earlier turns' files are counted by kind and size, not read.
        let prepared = self.with_thread_files(engine.prepare(request.clone())?, false)?;
        self.estimate_with(&engine, &prepared)
    }

    pub(crate) fn estimate_with(
        &self,
        engine: &Engine,
        prepared: &PreparedRun,
    ) -> Result<Estimate, AppError> {
        let request = &prepared.request;
        let mut models: Vec<String> = request.models.iter().map(|m| m.name.clone()).collect();
        models.extend(request.summary_model.clone());
        models.extend(self.default_summary_model());
        let medians = self.store().median_output_tokens(&models)?;
        Ok(engine.estimate_run(prepared, &medians))
    }

    /// The most `prepared` can cost: its estimate's worst case, or its
    /// `max_cost` when lower (it is stopped there).
    pub(crate) fn worst_case(
        &self,
        engine: &Engine,
        prepared: &PreparedRun,
    ) -> Result<f64, AppError> {
        let worst = self.estimate_with(engine, prepared)?.worst_cost;
        Ok(prepared
            .request
            .max_cost
            .map_or(worst, |cap| worst.min(cap)))
    }

    /// The most resolving `prepared` again from stored answers can cost: its
    /// summary call's worst case, and the claims call's when it asks for one
    /// (the panel is not called).
    pub(crate) fn worst_resolution(
        &self,
        engine: &Engine,
        prepared: &PreparedRun,
    ) -> Result<f64, AppError> {
        let e = self.estimate_with(engine, prepared)?;
        let panel: f64 = e.calls.iter().map(|c| c.cost_worst).sum();
        Ok((e.worst_cost - panel).max(0.0))
    }

    /// Refuses a run whose estimate's worst case is over its `max_cost`, unless
    /// it says `confirm_cost`; names both figures.
    pub(crate) fn check_cost(
        &self,
        engine: &Engine,
        prepared: &PreparedRun,
    ) -> Result<(), AppError> {
        let request = &prepared.request;
        let Some(cap) = request.max_cost else {
            return Ok(());
        };
        if request.confirm_cost == Some(true) {
            return Ok(());
        }
        let e = self.estimate_with(engine, prepared)?;
        if e.worst_cost <= cap {
            return Ok(());
        }
        Err(AppError {
            field: Some("max_cost".into()),
            ..AppError::new(
                Code::InvalidRequest,
                format!(
                    "max_cost: this run could cost up to ${:.4} (typically ${:.4}), over its max_cost of ${cap}; \
                     raise max_cost, lower max_tokens, or confirm to start anyway (confirm_cost, --yes); \
                     it is stopped once it reaches ${cap} either way",
                    e.worst_cost, e.typical_cost
                ),
            )
        })
    }
}
