//! What waits for an SSE client. The run's sink ([`SseSink`]) turns each event
//! into a chunk and leaves it in an [`Outbox`] at once (a run never waits for a
//! client); the stream takes the chunks from there as fast as the client reads.
//! At most [`SSE_BUFFER`] chunks wait as they were made; whatever comes
//! meanwhile waits in a [`Backlog`], where deltas merge.

use roundtable_app::core::{RunEvent, StreamChunk};
use roundtable_app::{Merging, RunSink};
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};
use tokio::sync::{Notify, oneshot};

/// Most chunks that wait, made, for a client that reads slowly. Past it the
/// run's deltas are merged as they come (per model and kind) until the client
/// catches up: what the server holds is the text not yet sent, not one chunk
/// per event.
pub const SSE_BUFFER: usize = 64;

/// A streamed run's sink: its events as chunks, into the [`Outbox`] the stream
/// reads. The first event tells the stream the run started (and its id);
/// dropped (the run's task ended), it closes the outbox, so the stream knows
/// every chunk is in.
pub(crate) struct SseSink {
    outbox: std::sync::Arc<Outbox>,
    id: OnceLock<String>,
    started: Mutex<Option<oneshot::Sender<String>>>,
}

impl SseSink {
    /// The sink, the outbox it fills, and the run's id once it started (an
    /// error when the run ended without starting: an invalid request).
    pub fn new() -> (SseSink, std::sync::Arc<Outbox>, oneshot::Receiver<String>) {
        let outbox = std::sync::Arc::new(Outbox::default());
        let (started, id) = oneshot::channel();
        let sink = SseSink {
            outbox: outbox.clone(),
            id: OnceLock::new(),
            started: Mutex::new(Some(started)),
        };
        (sink, outbox, id)
    }
}

impl RunSink for SseSink {
    fn event(&self, event: RunEvent) {
        let id = self.id.get_or_init(|| match &event {
            RunEvent::RunStarted { id, .. } => id.clone(),
            _ => String::new(),
        });
        if let Some(started) = lock(&self.started).take() {
            let _ = started.send(id.clone());
        }
        if let Some(chunk) = chunk_for(id, event) {
            self.outbox.push(chunk);
        }
    }
}

impl Drop for SseSink {
    fn drop(&mut self) {
        self.outbox.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct Waiting {
    /// Chunks as made, at most [`SSE_BUFFER`]; the backlog is empty unless
    /// this is full.
    made: VecDeque<StreamChunk>,
    backlog: Backlog,
    /// The run sent its last event.
    closed: bool,
    /// The client left: what comes is dropped.
    gone: bool,
}

/// The chunks of one stream on their way to its client: filled by the run's
/// task, emptied by the response body.
#[derive(Default)]
pub(crate) struct Outbox {
    waiting: Mutex<Waiting>,
    /// Told of each chunk and of the end; one reader waits on it.
    wake: Notify,
}

impl Outbox {
    fn push(&self, chunk: StreamChunk) {
        {
            let mut w = lock(&self.waiting);
            if w.gone {
                return;
            }
            if w.backlog.is_empty() && w.made.len() < SSE_BUFFER {
                w.made.push_back(chunk);
            } else {
                w.backlog.push(chunk);
            }
        }
        self.wake.notify_one();
    }

    fn close(&self) {
        lock(&self.waiting).closed = true;
        self.wake.notify_one();
    }

    /// The client left: nothing more is kept for it.
    pub fn leave(&self) {
        let mut w = lock(&self.waiting);
        w.gone = true;
        w.made.clear();
        w.backlog = Backlog::default();
    }

    /// The next chunk for the client; `None` once the run sent its last event
    /// and every chunk was taken.
    pub async fn next(&self) -> Option<StreamChunk> {
        loop {
            {
                let mut w = lock(&self.waiting);
                if let Some(chunk) = w.made.pop_front() {
                    if let Some(next) = w.backlog.pop() {
                        w.made.push_back(next);
                    }
                    return Some(chunk);
                }
                if w.closed {
                    return None;
                }
            }
            // A chunk pushed since the look above left a permit: no wake is lost.
            self.wake.notified().await;
        }
    }

    #[cfg(test)]
    fn made(&self) -> usize {
        lock(&self.waiting).made.len()
    }

    /// How many chunks wait, made or merged.
    #[cfg(test)]
    fn held(&self) -> usize {
        let w = lock(&self.waiting);
        w.made.len() + w.backlog.len()
    }
}

/// Chunks waiting for a slow client: a delta joins the last waiting delta of
/// the same model (or of the consolidation) and kind, unless a `model_retry` or
/// `model_result` of that model came after it (see [`Merging`]). So it holds at
/// most two deltas per model between two of its other chunks, whatever the
/// number of events.
type Backlog = Merging<StreamChunk>;

/// The chunk for an event; `None` for events clients do not see (start, usage,
/// the engine's own `Done`, which the final chunk replaces).
fn chunk_for(id: &str, event: RunEvent) -> Option<StreamChunk> {
    let base = |kind: &str| StreamChunk {
        kind: kind.into(),
        id: Some(id.to_string()).filter(|id| !id.is_empty()),
        ..Default::default()
    };
    let model_delta = |kind: &str, index, model, delta| StreamChunk {
        model: Some(model),
        model_index: Some(index),
        delta: Some(delta),
        ..base(kind)
    };
    Some(match event {
        RunEvent::TextDelta {
            index,
            model,
            delta,
        } => model_delta("model_delta", index, model, delta),
        RunEvent::ThinkingDelta {
            index,
            model,
            delta,
        } => model_delta("model_thinking_delta", index, model, delta),
        RunEvent::ModelRetrying {
            index,
            model,
            attempt,
            delay_ms,
            reason,
        } => StreamChunk {
            model: Some(model),
            model_index: Some(index),
            error: Some(format!(
                "{reason}: retrying in {delay_ms} ms (attempt {attempt})"
            )),
            ..base("model_retry")
        },
        RunEvent::ModelFinished { result } | RunEvent::ModelFailed { result } => StreamChunk {
            model_index: Some(result.index),
            cost: Some(result.cost),
            usage: Some(result.usage),
            error: result.error,
            data: Some(result.data),
            model: Some(result.model),
            ..base("model_result")
        },
        RunEvent::ConsolidationDelta { model, delta } => StreamChunk {
            model: Some(model),
            delta: Some(delta),
            ..base("consolidation_delta")
        },
        RunEvent::RunStarted { .. }
        | RunEvent::ModelStarted { .. }
        | RunEvent::ModelUsage { .. }
        | RunEvent::ConsolidationStarted { .. }
        | RunEvent::Done { .. } => return None,
        // Events the contract has no chunk for, such as a model waiting for its
        // provider's slot (`ModelQueued`): clients see it start with its deltas.
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_nobody_reads_holds_its_buffer_and_the_text_not_every_event() {
        const EVENTS: usize = 20_000;
        let (sink, outbox, started) = SseSink::new();
        sink.event(RunEvent::RunStarted {
            id: "rt_1".into(),
            trace_uuid: String::new(),
            models: vec!["fake/a".into()],
        });
        assert_eq!(started.await.unwrap(), "rt_1");
        // Nobody reads: the run's events are taken all the same.
        for i in 0..EVENTS {
            sink.event(RunEvent::TextDelta {
                index: 0,
                model: "fake/a".into(),
                delta: ((b'a' + (i % 26) as u8) as char).to_string(),
            });
        }
        assert_eq!(outbox.made(), SSE_BUFFER);
        drop(sink);
        let mut chunks = Vec::new();
        while let Some(chunk) = outbox.next().await {
            chunks.push(chunk);
        }
        // The buffer, then everything that came meanwhile as one chunk.
        assert_eq!(chunks.len(), SSE_BUFFER + 1);
        let text: String = chunks.iter().filter_map(|c| c.delta.as_deref()).collect();
        let sent: String = (0..EVENTS)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        assert_eq!(text, sent);
        assert!(chunks.iter().all(|c| c.id.as_deref() == Some("rt_1")));
    }

    /// What the server keeps for a client that reads nothing during a long
    /// run of several models streaming text and thinking (issue 24, item 26):
    /// the run is never held back (its events reach the sink as they come and
    /// it is recorded), and what waits stays a fixed number of chunks however
    /// many events come, with every piece of every answer in it, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_client_holds_a_bounded_outbox_while_a_long_run_completes() {
        use roundtable_app::core::{RoundtableRequest, RunStatus};
        use roundtable_testkit::{Behavior, FakeProvider, Script};
        const MODELS: usize = 4;
        const CHUNKS: usize = 3_000;
        let answer = |m: usize| -> String {
            (0..CHUNKS)
                .map(|i| (b'a' + ((i + m) % 26) as u8) as char)
                .collect()
        };
        let mut script = Script::new();
        for m in 0..MODELS {
            let mut behavior = Behavior::answer(answer(m)).chunks(CHUNKS);
            if m % 2 == 0 {
                behavior = behavior.thinking("why ".repeat(500));
            }
            script = script.model(format!("m{m}"), behavior);
        }
        let fake = FakeProvider::start(script).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "[providers.fake]\nformat = \"openai\"\nbase_url = \"{}\"\n",
                fake.openai_base_url()
            ),
        )
        .unwrap();
        let app = roundtable_app::App::open(roundtable_app::AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(std::sync::Arc::new(
                roundtable_app::keys::MemoryKeychain::default(),
            )),
        })
        .unwrap();

        /// The server's sink, and the most chunks its outbox held after any event.
        struct Watched {
            sse: SseSink,
            outbox: std::sync::Arc<Outbox>,
            events: std::sync::atomic::AtomicUsize,
            most: std::sync::atomic::AtomicUsize,
        }
        impl RunSink for Watched {
            fn event(&self, event: RunEvent) {
                use std::sync::atomic::Ordering::Relaxed;
                self.sse.event(event);
                self.events.fetch_add(1, Relaxed);
                self.most.fetch_max(self.outbox.held(), Relaxed);
            }
        }
        let (sse, outbox, _started) = SseSink::new();
        let sink = Watched {
            sse,
            outbox: outbox.clone(),
            events: Default::default(),
            most: Default::default(),
        };
        let models: Vec<String> = (0..MODELS).map(|m| format!("fake/m{m}")).collect();
        let request: RoundtableRequest = serde_json::from_value(serde_json::json!({
            "input": "q",
            "models": models.iter().map(|m| serde_json::json!({"name": m})).collect::<Vec<_>>(),
            "resolution": "fast",
        }))
        .unwrap();
        let outcome = app
            .run(request, &sink, tokio_util::sync::CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(outcome.status, RunStatus::Completed);
        let stored = app.get_run(&outcome.response.id).unwrap();
        assert_eq!(stored.summary.status, RunStatus::Completed);

        let events = sink.events.load(std::sync::atomic::Ordering::Relaxed);
        let most = sink.most.load(std::sync::atomic::Ordering::Relaxed);
        assert!(events > MODELS * CHUNKS, "{events} events");
        // The buffer, then per model at most its text, its thinking and its
        // result (no retries here): nothing grows with the number of events.
        assert!(most <= SSE_BUFFER + 3 * MODELS, "{most} chunks held");
        drop(sink);
        // The client reads at last: every piece, in order.
        let mut text = vec![String::new(); MODELS];
        while let Some(chunk) = outbox.next().await {
            if chunk.kind == "model_delta" {
                text[chunk.model_index.unwrap()].push_str(chunk.delta.as_deref().unwrap());
            }
        }
        for (m, got) in text.iter().enumerate() {
            assert_eq!(*got, answer(m), "model {m}");
        }
    }

    #[tokio::test]
    async fn a_reader_waiting_gets_each_chunk_as_it_comes_then_the_end() {
        let (sink, outbox, _started) = SseSink::new();
        let reader = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                let mut deltas = Vec::new();
                while let Some(chunk) = outbox.next().await {
                    deltas.push(chunk.delta.unwrap_or_default());
                }
                deltas
            }
        });
        for text in ["one", "two", "three"] {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            sink.event(RunEvent::TextDelta {
                index: 0,
                model: "fake/a".into(),
                delta: text.into(),
            });
        }
        drop(sink);
        assert_eq!(reader.await.unwrap(), ["one", "two", "three"]);
    }

    #[tokio::test]
    async fn a_run_that_never_started_says_so() {
        let (sink, outbox, started) = SseSink::new();
        drop(sink);
        assert!(started.await.is_err());
        assert!(outbox.next().await.is_none());
    }

    fn delta(kind: &str, index: Option<usize>, text: &str) -> StreamChunk {
        StreamChunk {
            kind: kind.into(),
            model_index: index,
            delta: Some(text.into()),
            ..Default::default()
        }
    }

    fn drain(b: &mut Backlog) -> Vec<(String, Option<usize>, String)> {
        std::iter::from_fn(|| b.pop())
            .map(|c| (c.kind, c.model_index, c.delta.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_backlog_holds_the_text_not_one_chunk_per_event() {
        let mut b = Backlog::default();
        for i in 0..10_000 {
            b.push(delta("model_delta", Some(i % 2), "x"));
            b.push(delta("model_thinking_delta", Some(i % 2), "t"));
            b.push(delta("consolidation_delta", None, "c"));
        }
        assert_eq!(b.len(), 5);
        let chunks: Vec<_> = drain(&mut b)
            .into_iter()
            .map(|(kind, index, text)| (kind, index, text.len()))
            .collect();
        assert_eq!(
            chunks,
            [
                ("model_delta".into(), Some(0), 5000),
                ("model_thinking_delta".into(), Some(0), 5000),
                ("consolidation_delta".into(), None, 10_000),
                ("model_delta".into(), Some(1), 5000),
                ("model_thinking_delta".into(), Some(1), 5000),
            ]
        );
    }

    #[test]
    fn deltas_never_merge_across_a_retry_or_a_result() {
        let mut b = Backlog::default();
        b.push(delta("model_delta", Some(0), "void "));
        b.push(StreamChunk {
            kind: "model_retry".into(),
            model_index: Some(0),
            ..Default::default()
        });
        b.push(delta("model_delta", Some(1), "other "));
        b.push(delta("model_delta", Some(0), "fresh "));
        b.push(delta("model_delta", Some(1), "still"));
        b.push(delta("model_delta", Some(0), "start"));
        b.push(StreamChunk {
            kind: "model_result".into(),
            model_index: Some(0),
            ..Default::default()
        });
        let chunks = drain(&mut b);
        let kinds: Vec<_> = chunks
            .iter()
            .map(|(k, i, d)| format!("{k}:{i:?}:{d}"))
            .collect();
        assert_eq!(
            kinds,
            [
                "model_delta:Some(0):void ",
                "model_retry:Some(0):",
                "model_delta:Some(1):other still",
                "model_delta:Some(0):fresh start",
                "model_result:Some(0):",
            ]
        );
    }
}
