//! Against a real local server, when one is running: `../shared/real-llm/serve.sh`
//! starts llama-cpp-python (llama.cpp underneath) with SmolLM2-135M-Instruct on
//! 127.0.0.1:11434, where the built-in `ollama` provider looks. It serves one
//! request at a time (a new one aborts the stream in flight), reports no usage
//! when streaming and refuses JSON Schema output: the faults the engine must
//! absorb. Ignored unless asked for (a real server cannot be built in CI); asked
//! for with no server running, they fail saying how to start one:
//!
//! `cargo test -p roundtable-core --test it real_local_server -- --ignored --nocapture`

use roundtable_core::{
    Engine, ModelSpec, PriceTable, Provider, Resolution, RoundtableRequest, RunStatus, WireFormat,
};
use tokio_util::sync::CancellationToken;

const BASE: &str = "http://127.0.0.1:11434/v1";
const MODEL: &str = "ollama/smollm2";

/// The server's model list; fails the test when no server with SmolLM2 runs.
async fn server() -> String {
    model_list().await.unwrap_or_else(|| {
        panic!(
            "no real local server with smollm2 on {BASE}: ../shared/real-llm/serve.sh starts one"
        )
    })
}

async fn model_list() -> Option<String> {
    let client = reqwest::Client::new();
    let body = client
        .get(format!("{BASE}/models"))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    body.contains("smollm2").then_some(body)
}

fn engine() -> Engine {
    Engine::new(
        vec![Provider::new("ollama", WireFormat::Openai, BASE)],
        PriceTable::builtin(),
    )
}

fn three(input: &str) -> RoundtableRequest {
    RoundtableRequest {
        input: input.into(),
        models: (0..3)
            .map(|_| ModelSpec {
                max_tokens: Some(48),
                ..ModelSpec::named(MODEL)
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
#[ignore = "needs a real local server (../shared/real-llm/serve.sh); run with --ignored"]
async fn a_panel_of_three_on_the_real_server_works_the_first_time() {
    let models = server().await;
    println!("real server at {BASE}: {models}");
    let engine = engine();
    // It is told for what it is: one request at a time.
    let c = engine.concurrency("ollama").await.unwrap();
    assert_eq!(c.kind, roundtable_core::slots::ServerKind::LlamaCppPython);
    assert_eq!(c.limit, Some(1));

    // A panel of the same model three times answers in full, tokens not 0.
    let out = engine
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::Fast),
                ..three("Why is the sky blue? One sentence.")
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    for r in &out.response.model_results {
        println!(
            "panel #{}: {} ms (queued {:?} ms), {}→{} tok (estimated: {}), error {:?}",
            r.index,
            r.duration_ms,
            r.queued_ms,
            r.usage.input_tokens,
            r.usage.output_tokens,
            r.usage.is_estimated(),
            r.error
        );
        assert_eq!(r.error, None);
        assert!(!r.data.is_empty());
        assert!(r.usage.output_tokens > 0 && r.usage.input_tokens > 0);
    }

    // A schema run: the server refuses JSON Schema, JSON mode stands in.
    let out = engine
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::Fast),
                output_schema: Some(serde_json::json!({
                    "type": "object",
                    "properties": {"color": {"type": "string"}},
                    "required": ["color"]
                })),
                ..three("What colour is the sky? Answer in JSON.")
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    for r in &out.response.model_results {
        println!(
            "schema #{}: fallback {:?}, valid {:?}, error {:?}",
            r.index, r.schema_fallback, r.schema_valid, r.error
        );
        assert_eq!(r.error, None);
        assert_eq!(r.schema_fallback, Some(true));
        assert!(r.schema_valid.is_some());
    }

    // Multiple choice counts what the small model says.
    let out = engine
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::MultipleChoice),
                choices: Some(vec!["Paris".into(), "London".into(), "Berlin".into()]),
                ..three("What is the capital of France?")
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let votes = out.response.meta.votes.clone().unwrap_or_default();
    for r in &out.response.model_results {
        println!(
            "vote #{}: {:?} read from {:?}: {:?}",
            r.index,
            r.vote,
            r.vote_read,
            r.data.chars().take(60).collect::<String>()
        );
    }
    println!("votes {votes:?}, winner {:?}", out.response.data);
    assert!(votes.values().sum::<u32>() >= 2, "{votes:?}");
}

#[tokio::test]
#[ignore = "needs a real local server (../shared/real-llm/serve.sh); run with --ignored"]
async fn a_follow_up_on_the_real_server_is_answered() {
    server().await;
    let engine = engine();
    let first = engine
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::Fast),
                ..three("Name a primary colour.")
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Completed, "{:?}", first.response);
    let turn = roundtable_core::thread::PriorTurn::of(
        "Name a primary colour.".into(),
        vec![],
        &first.response,
    );
    let run = engine
        .prepare(RoundtableRequest {
            resolution: Some(Resolution::Fast),
            previous_id: Some(first.response.id.clone()),
            ..three("And another one?")
        })
        .unwrap()
        .with_thread(vec![turn]);
    let out = engine.execute(run, None, CancellationToken::new()).await;
    for r in &out.response.model_results {
        println!("follow-up #{}: {:?} {:?}", r.index, r.error, r.data);
    }
    assert_eq!(out.status, RunStatus::Completed);
}
