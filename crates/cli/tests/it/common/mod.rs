#![allow(dead_code)]

use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// A throwaway ROUNDTABLE_HOME whose config points a `fake` provider (and any
/// extra config) at the fake provider.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new(fake: &FakeProvider) -> Home {
        Home::with_config(fake, "")
    }

    pub fn with_config(fake: &FakeProvider, extra: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "[providers.fake]\nformat = \"openai\"\nbase_url = \"{}\"\n{extra}",
                fake.openai_base_url()
            ),
        )
        .unwrap();
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_roundtable"));
        c.args(args)
            .env("ROUNDTABLE_HOME", self.dir.path())
            .env_remove("OPENAI_API_KEY")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    pub async fn run(&self, args: &[&str]) -> Out {
        run(self.cmd(args)).await
    }

    /// `--json` output of a command that must succeed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args).await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", out.stdout))
    }
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub async fn run(mut c: Command) -> Out {
    let o = c.output().await.unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
}

/// Two models that answer (`a`: Paris, `b`: London) and one that always fails
/// with HTTP 500 (`down`).
pub fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("b", Behavior::answer("London"))
        .model(
            "down",
            Behavior::new().faults((0..4).map(|_| Fault::status(500, "exploded").retry_after("0"))),
        )
}
