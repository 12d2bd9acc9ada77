//! How many calls a server on this machine gets at once, with nothing set:
//! what the server says it is (each kind the fake can pass for), parallel for
//! a server that says nothing, and learned from a stream it cuts.

use crate::common::{drain, request};
use roundtable_core::slots::{Concurrency, LimitSource, ServerKind};
use roundtable_core::{
    Engine, PriceTable, Provider, Resolution, RoundtableRequest, RunEvent, WireFormat,
};
use roundtable_testkit::{Behavior, FakeProvider, Identity, Script};
use tokio_util::sync::CancellationToken;

/// The fake as a provider on this machine, with no `max_concurrency`.
fn local_engine(fake: &FakeProvider) -> Engine {
    let local = Provider::new("local", WireFormat::Openai, fake.openai_base_url());
    assert!(local.local && local.max_concurrency.is_none());
    Engine::new(vec![local], PriceTable::builtin())
}

fn panel(n: usize) -> RoundtableRequest {
    let models: Vec<String> = (0..n).map(|i| format!("local/m{i}")).collect();
    let names: Vec<&str> = models.iter().map(String::as_str).collect();
    RoundtableRequest {
        resolution: Some(Resolution::Fast),
        max_retries: Some(0),
        ..request("Why is the sky blue?", &names)
    }
}

const ANSWER: &str = "Rayleigh scattering of sunlight.";

fn streaming() -> Behavior {
    Behavior::answer(ANSWER).chunks(6).chunk_delay(40)
}

#[tokio::test]
async fn each_kind_of_server_is_told_by_what_it_says_of_itself() {
    use LimitSource::*;
    let cases = [
        (
            Some(Identity::LlamaServer),
            Some(3),
            ServerKind::LlamaCpp,
            Some(3),
            Server,
        ),
        (
            Some(Identity::Tgi),
            Some(32),
            ServerKind::Tgi,
            Some(32),
            Server,
        ),
        (Some(Identity::Ollama), None, ServerKind::Ollama, None, Kind),
        (
            Some(Identity::LmStudio),
            None,
            ServerKind::LmStudio,
            None,
            Kind,
        ),
        (Some(Identity::Vllm), None, ServerKind::Vllm, None, Kind),
        (
            Some(Identity::Litellm),
            None,
            ServerKind::Litellm,
            None,
            Kind,
        ),
        (
            Some(Identity::LlamaCppPython),
            None,
            ServerKind::LlamaCppPython,
            Some(1),
            Kind,
        ),
        (
            Some(Identity::Unknown),
            None,
            ServerKind::Unknown,
            None,
            Default,
        ),
        (None, None, ServerKind::Unknown, None, Default),
    ];
    for (identity, slots, kind, limit, source) in cases {
        let mut script = Script::new().model("m", Behavior::answer("hi"));
        script.identity = identity;
        script.slots = slots;
        let fake = FakeProvider::start(script).await.unwrap();
        let got = local_engine(&fake).concurrency("local").await;
        assert_eq!(
            got,
            Some(Concurrency {
                kind,
                limit,
                source
            }),
            "{identity:?}"
        );
        fake.shutdown().await;
    }
}

#[tokio::test]
async fn a_server_that_says_nothing_gets_the_panel_in_parallel() {
    let fake = FakeProvider::start(Script::new().default_behavior(streaming()))
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = local_engine(&fake)
        .run(panel(20), Some(tx), CancellationToken::new())
        .await
        .unwrap();
    for r in &out.response.model_results {
        assert_eq!(r.error, None, "#{}", r.index);
        assert_eq!(r.queued_ms, None, "#{} waited for a place", r.index);
    }
    let events = drain(&mut rx);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RunEvent::ModelQueued { .. })),
        "no model waits its turn"
    );
    // Every call had started before the first answer came back.
    let last_start = events
        .iter()
        .rposition(|e| matches!(e, RunEvent::ModelStarted { .. }))
        .unwrap();
    let first_end = events
        .iter()
        .position(|e| matches!(e, RunEvent::ModelFinished { .. }))
        .unwrap();
    assert!(last_start < first_end);
}

#[tokio::test]
async fn a_stream_broken_off_for_another_request_teaches_the_limit_and_is_sent_again() {
    let server = Script::new().identity(Identity::Unknown).slots(1);
    cut_streams_teach_the_limit(server).await;
}

#[tokio::test]
async fn a_stream_ended_unfinished_for_another_request_teaches_the_limit_and_is_sent_again() {
    // llama-cpp-python's cut: `data: [DONE]` with no finish reason (seen on
    // the real server), which reads as a complete stream.
    let server = Script::new()
        .identity(Identity::Unknown)
        .slots(1)
        .cut_with_done();
    cut_streams_teach_the_limit(server).await;
}

/// A server that says nothing of itself and serves one generation at a time,
/// cutting the one in flight for a newer request: sent the panel in parallel,
/// it cuts streams; each cut call is sent again once a place is free, not
/// counted as a retry (none are allowed here), and keeps nothing of the cut
/// stream.
async fn cut_streams_teach_the_limit(server: Script) {
    let fake = FakeProvider::start(server.default_behavior(streaming()))
        .await
        .unwrap();
    let engine = local_engine(&fake);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine
        .run(panel(3), Some(tx), CancellationToken::new())
        .await
        .unwrap();
    for r in &out.response.model_results {
        assert_eq!(r.error, None, "#{}", r.index);
        assert_eq!(r.data, ANSWER, "#{}", r.index);
        assert_eq!(r.attempts, Some(1), "#{}: a cut is not a retry", r.index);
    }
    let cut = drain(&mut rx)
        .into_iter()
        .filter(|e| {
            matches!(e, RunEvent::ModelRetrying { reason, delay_ms: 0, .. }
                if reason.contains("the server cut the stream to serve another request"))
        })
        .count();
    assert!(cut >= 1, "at least one stream was cut and sent again");
    let learned = engine.concurrency("local").await.unwrap();
    assert_eq!(learned.source, LimitSource::Learned);
    assert_eq!(learned.limit, Some(1), "{learned:?}");

    // The next panel waits its turn from the start: nothing is cut.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine
        .run(panel(3), Some(tx), CancellationToken::new())
        .await
        .unwrap();
    assert!(out.response.model_results.iter().all(|r| r.error.is_none()));
    let events = drain(&mut rx);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RunEvent::ModelRetrying { .. }))
    );
    let queued = events
        .iter()
        .filter(|e| matches!(e, RunEvent::ModelQueued { .. }))
        .count();
    assert_eq!(queued, 2);
}

#[tokio::test]
async fn a_limit_set_is_kept_whatever_the_server_does() {
    // Set to 8 on a one-slot server that cuts: the user's word stands, and the
    // cut calls fail as any broken stream (no retries allowed here).
    let fake = FakeProvider::start(
        Script::new()
            .identity(Identity::Unknown)
            .slots(1)
            .default_behavior(streaming()),
    )
    .await
    .unwrap();
    let local = Provider {
        max_concurrency: Some(8),
        ..Provider::new("local", WireFormat::Openai, fake.openai_base_url())
    };
    let engine = Engine::new(vec![local], PriceTable::builtin());
    let out = engine
        .run(panel(3), None, CancellationToken::new())
        .await
        .unwrap();
    let failed = out
        .response
        .model_results
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    assert_eq!(failed, 2, "{:?}", out.response.model_results);
    let c = engine.concurrency("local").await.unwrap();
    assert_eq!((c.limit, c.source), (Some(8), LimitSource::Set));
    assert_eq!(c.kind, ServerKind::Unknown);
}
