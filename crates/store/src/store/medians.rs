//! What a model usually writes: its median output tokens over its recent
//! answers, for a run's cost estimate before it starts.

use super::Store;
use crate::Result;
use std::collections::HashMap;

/// The newest model results read for the medians.
const RECENT_RESULTS: i64 = 5_000;

impl Store {
    /// The median output tokens of each of `models` over its answers among the
    /// newest results; a model with no answer there is left out.
    pub fn median_output_tokens(&self, models: &[String]) -> Result<HashMap<String, u64>> {
        // The newest answers, by the spend index (migration 0006), which holds
        // each result's time, model, end and output tokens.
        let mut stmt = self.conn.prepare_cached(
            "SELECT model, output_tokens FROM model_results \
             WHERE ended = 'answered' AND output_tokens > 0 \
             ORDER BY created_at DESC LIMIT ?1",
        )?;
        let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
        let rows = stmt.query_map([RECENT_RESULTS], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (model, tokens) = row?;
            if models.contains(&model) {
                seen.entry(model).or_default().push(tokens as u64);
            }
        }
        Ok(seen
            .into_iter()
            .map(|(model, mut t)| {
                t.sort_unstable();
                (model, t[t.len() / 2])
            })
            .collect())
    }
}
