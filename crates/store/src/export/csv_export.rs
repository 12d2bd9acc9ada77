//! CSV export: one row per model result.

use crate::StoredRun;

const HEADER: [&str; 10] = [
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
];

/// One row per model result: run_id, created_at, prompt, model, answer, error,
/// input_tokens, output_tokens, cost, duration_ms. Text cells that a spreadsheet
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
        for m in &run.response.model_results {
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
            ])?;
        }
    }
    w.flush()?;
    Ok(())
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
