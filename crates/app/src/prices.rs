//! Updating the price table from a LiteLLM-format file (`roundtable prices
//! import`, Settings): the file is checked, kept under `$ROUNDTABLE_HOME/prices/`
//! and listed in `config.toml`'s `price_files` (with the `toml_edit` writer, so
//! the rest of the file is kept); the next run is priced with it. Runs stored
//! before keep the cost they were recorded with: a cost is stored, never
//! recomputed.

use crate::config::Config;
use crate::config::edit::{parse, rewrite, set};
use crate::{App, AppError, Code};
use roundtable_core::{PriceTable, ValidationError};
use serde::Serialize;
use std::path::Path;
use toml_edit::{Array, Value};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PriceImport {
    /// Where the table is kept, relative to `ROUNDTABLE_HOME` (as listed in `price_files`).
    pub file: String,
    /// The models it prices.
    pub priced: u32,
}

impl App {
    /// Checks the LiteLLM-format table at `source`, keeps it and prices the
    /// next runs with it (a file of the same name is replaced: an update).
    pub fn import_prices(&self, source: &Path) -> Result<PriceImport, AppError> {
        let text = std::fs::read_to_string(source).map_err(|e| {
            AppError::new(Code::Io, format!("cannot read {}: {e}", source.display()))
        })?;
        let priced = PriceTable::empty().merge_litellm_json(&text).map_err(|e| {
            ValidationError::new(
                "file",
                format!("{} is not a LiteLLM price table: {e}", source.display()),
            )
        })?;
        if priced == 0 {
            return Err(ValidationError::new(
                "file",
                format!(
                    "{} prices no model (no entry has input_cost_per_token and output_cost_per_token)",
                    source.display()
                ),
            )
            .into());
        }
        let name = source
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.starts_with('.'))
            .unwrap_or("prices.json");
        let file = format!("prices/{name}");
        let dir = self.home().join("prices");
        let io = |e: std::io::Error| AppError::new(Code::Io, format!("cannot keep {file}: {e}"));
        std::fs::create_dir_all(&dir).map_err(io)?;
        crate::config::file::replace(&dir.join(name), &text).map_err(io)?;
        rewrite(&self.home().join("config.toml"), |text| {
            with_price_file(text, &file)
        })?;
        let config = Config::load(&self.home().join("config.toml"))?;
        let prices = Self::load_prices(self.home(), &config)?;
        self.replace_prices(prices);
        Ok(PriceImport {
            file,
            priced: priced as u32,
        })
    }
}

/// `config.toml`'s text with `file` in `price_files` (added at the end once).
fn with_price_file(text: &str, file: &str) -> Result<String, String> {
    let mut doc = parse(text)?;
    let mut list = match doc.get("price_files").and_then(|i| i.as_value()) {
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("price_files must be a list of file names".into()),
        None => Array::new(),
    };
    if !list.iter().any(|v| v.as_str() == Some(file)) {
        list.push(file);
    }
    set(doc.as_table_mut(), "price_files", Value::Array(list));
    let out = doc.to_string();
    Config::parse(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_file_is_listed_once_and_comments_stay() {
        let text = "# mine\ndefault_models = [\"a/b\"]  # panel\n";
        let once = with_price_file(text, "prices/x.json").unwrap();
        assert!(
            once.contains("# mine") && once.contains("# panel"),
            "{once}"
        );
        assert_eq!(with_price_file(&once, "prices/x.json").unwrap(), once);
        let two = with_price_file(&once, "prices/y.json").unwrap();
        assert!(
            two.contains(r#"price_files = ["prices/x.json", "prices/y.json"]"#),
            "{two}"
        );
        assert!(with_price_file("price_files = 3\n", "p").is_err());
    }
}
