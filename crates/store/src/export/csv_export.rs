//! CSV export: one row per model result.

use crate::StoredRun;
use roundtable_core::agreement::Agreement;

const HEADER: [&str; 17] = [
    "run_id",
    "created_at",
    "prompt",
    "model",
    "answer",
    "error",
    "input_tokens",
    "output_tokens",
    "cost",
    "duration_ms",
    "mean_similarity",
    "fields_agreeing",
    "fields",
    "winner_share",
    "claims_supported",
    "claims_contradicted",
    "attachments",
];

/// One row per model result: run_id, created_at, prompt, model, answer, error,
/// input_tokens, output_tokens, cost, duration_ms, then where the answers agree
/// (`meta.agreement`, computed when the run was stored without it), empty where
/// it does not apply: mean_similarity (free text: this answer's mean similarity
/// to the others, 0 to 1), fields_agreeing and fields (structured answers: how
/// many of the run's leaf fields this answer gives the majority value for, of
/// how many), winner_share (multiple choice: the winning choice's share of the
/// answers, 0 to 1, on each of the run's rows), claims_supported and
/// claims_contradicted (a `consensus` run: how many of its claims this answer
/// supports, contradicts), and attachments (the names of the run's attached
/// files, `; `-separated, on each of the run's rows). Counts are two columns rather
/// than `3/4`, which a spreadsheet would read as a date. Text cells that a spreadsheet
/// would take for a formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a
/// leading `'`.
pub fn to_csv(runs: &[StoredRun]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    write_rows(&mut w, runs).expect("writing CSV to memory cannot fail");
    let bytes = w.into_inner().expect("writing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

fn write_rows(w: &mut csv::Writer<Vec<u8>>, runs: &[StoredRun]) -> csv::Result<()> {
    w.write_record(HEADER)?;
    for run in runs {
        let prompt = guard(&run.request.input);
        let names: Vec<&str> = run
            .request
            .attachments
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        let attachments = names.join("; ");
        let attachments = guard(&attachments);
        let agreement = super::agreement::of(run);
        for (at, m) in run.response.model_results.iter().enumerate() {
            let [similar, agreeing, fields, share] = agreement_cells(agreement.as_deref(), at);
            let [supported, contradicted] = super::claims::csv_cells(run, at);
            w.write_record([
                guard(&run.summary.id).as_ref(),
                run.summary.created_at.as_str(),
                prompt.as_ref(),
                guard(&m.model).as_ref(),
                guard(&m.data).as_ref(),
                guard(m.error.as_deref().unwrap_or("")).as_ref(),
                m.usage.input_tokens.to_string().as_str(),
                m.usage.output_tokens.to_string().as_str(),
                format!("{}", m.cost).as_str(),
                m.duration_ms.to_string().as_str(),
                similar.as_str(),
                agreeing.as_str(),
                fields.as_str(),
                share.as_str(),
                supported.as_str(),
                contradicted.as_str(),
                attachments.as_ref(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// The agreement columns of the result at position `at` (empty when they do
/// not apply).
fn agreement_cells(a: Option<&Agreement>, at: usize) -> [String; 4] {
    let mut cells: [String; 4] = Default::default();
    let Some(a) = a else {
        return cells;
    };
    if let Some(s) = &a.similarity
        && let Some(k) = s.results.iter().position(|&r| r == at)
    {
        cells[0] = format!("{:.3}", s.mean[k]);
    }
    if let Some(t) = &a.fields
        && t.answers.contains(&at)
    {
        let agreeing = t
            .fields
            .iter()
            .filter(|f| f.majority.is_some() && f.values[0].results.contains(&at))
            .count();
        cells[1] = agreeing.to_string();
        cells[2] = t.fields.len().to_string();
    }
    if let Some(c) = &a.choice {
        cells[3] = format!("{:.3}", c.share);
    }
    cells
}

/// Formula-injection guard for a text cell.
fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::guard;

    #[test]
    fn formula_cells_are_guarded() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("+1"), "'+1");
        assert_eq!(guard("-2"), "'-2");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("plain"), "plain");
        assert_eq!(guard(""), "");
    }
}
