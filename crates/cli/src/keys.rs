//! `roundtable keys …`: API keys in the OS keychain.

use crate::{Failure, listing};
use clap::Subcommand;
use roundtable_app::App;
use std::io::{IsTerminal, Read};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a provider's key in the OS keychain, read from stdin (not echoed on a terminal)
    Set {
        /// A provider id: openai, anthropic, gemini, … or one of config.toml
        provider: String,
    },
    /// Every provider and where its key comes from (never the key)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a provider's key from the OS keychain
    Delete { provider: String },
}

pub fn keys(app: &App, cmd: KeysCommand) -> Result<(), Failure> {
    match cmd {
        KeysCommand::Set { provider } => {
            // Refuse an unknown provider before asking for the key.
            app.check_provider(&provider)?;
            let key = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("API key for {provider}: ")).map_err(|e| {
                    Failure {
                        code: 1,
                        message: format!("cannot read the key: {e}"),
                    }
                })?
            } else {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| Failure {
                        code: 1,
                        message: format!("cannot read the key from stdin: {e}"),
                    })?;
                s
            };
            app.set_key(&provider, &key)?;
            eprintln!("stored the {provider} key in the OS keychain");
        }
        KeysCommand::List { json } => listing::providers(&app.providers(), None, json),
        KeysCommand::Delete { provider } => {
            if app.delete_key(&provider)? {
                eprintln!("deleted the {provider} key from the OS keychain");
            } else {
                eprintln!("there was no {provider} key in the OS keychain");
            }
        }
    }
    Ok(())
}
