//! A run's events on their way to the window. Each message over a Tauri
//! channel runs a script in the web view, and without a GPU every script that
//! changes the page costs a repaint of the whole window; a 10-model run makes
//! hundreds of deltas a second. So the events go as batches, at most one every
//! [`BATCH_EVERY`], with each model's deltas merged ([`Merging`]): the window
//! gets the same events in the same order, in a few messages a second.

use roundtable_app::core::RunEvent;
use roundtable_app::{Merging, RunSink};
use std::time::Duration;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tokio::sync::mpsc;

/// The longest an event waits for the batch it goes in (the window shows a
/// running run 4 times a second).
pub const BATCH_EVERY: Duration = Duration::from_millis(100);

/// A run's sink: its events, batched, to the window's channel.
pub struct ToWindow(mpsc::UnboundedSender<RunEvent>);

impl ToWindow {
    /// The sink, and the task that sends its batches: once the sink is dropped
    /// the task sends what still waits, and ends.
    pub fn new(channel: Channel<Vec<RunEvent>>) -> (ToWindow, JoinHandle<()>) {
        let (events, mut received) = mpsc::unbounded_channel();
        let task = tauri::async_runtime::spawn(async move {
            let mut batch = Merging::default();
            while let Some(first) = received.recv().await {
                batch.push(first);
                let deadline = tokio::time::sleep(BATCH_EVERY);
                tokio::pin!(deadline);
                let more = loop {
                    tokio::select! {
                        next = received.recv() => match next {
                            Some(event) => batch.push(event),
                            None => break false,
                        },
                        () = &mut deadline => break true,
                    }
                };
                // A window that went away stops listening; the run still
                // finishes and is recorded.
                let _ = channel.send(batch.take());
                if !more {
                    break;
                }
            }
        });
        (ToWindow(events), task)
    }
}

impl RunSink for ToWindow {
    fn event(&self, event: RunEvent) {
        let _ = self.0.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_app::core::{ModelResult, RoundtableResponse};
    use std::sync::{Arc, Mutex};
    use tauri::ipc::InvokeResponseBody;

    #[tokio::test]
    async fn the_window_gets_every_event_in_order_deltas_merged_the_last_batch_before_the_run_ends()
    {
        let batches: Arc<Mutex<Vec<Vec<RunEvent>>>> = Arc::default();
        let seen = batches.clone();
        let channel = Channel::new(move |body| {
            let InvokeResponseBody::Json(json) = body else {
                panic!("a batch is JSON")
            };
            seen.lock()
                .unwrap()
                .push(serde_json::from_str(&json).unwrap());
            Ok(())
        });
        let (sink, sent) = ToWindow::new(channel);
        let mut words = Vec::new();
        for i in 0..400 {
            let index = i % 2;
            let delta = format!("w{i} ");
            words.push((index, delta.clone()));
            sink.event(RunEvent::TextDelta {
                index,
                model: format!("m{index}"),
                delta,
            });
            if i == 200 {
                // A batch waits at most BATCH_EVERY; the deltas after it go in
                // another.
                tokio::time::sleep(BATCH_EVERY * 2).await;
            }
        }
        for index in 0..2 {
            sink.event(RunEvent::ModelFinished {
                result: ModelResult {
                    index,
                    ..Default::default()
                },
            });
        }
        sink.event(RunEvent::Done {
            response: RoundtableResponse::default(),
        });
        drop(sink);
        sent.await.unwrap();

        let batches = batches.lock().unwrap().clone();
        // The pause made a batch of its own: at least two.
        assert!(batches.len() >= 2, "{} batches", batches.len());
        // Within a batch each model's deltas are one (nothing else of that
        // model came between them): few messages however many events.
        for batch in &batches {
            for index in 0..2 {
                let deltas = batch
                    .iter()
                    .filter(|e| matches!(e, RunEvent::TextDelta { index: i, .. } if *i == index))
                    .count();
                assert!(deltas <= 1, "{deltas} deltas of model {index} in one batch");
            }
        }
        let events: Vec<RunEvent> = batches.into_iter().flatten().collect();
        for index in 0..2 {
            let text: String = events
                .iter()
                .filter_map(|e| match e {
                    RunEvent::TextDelta {
                        index: i, delta, ..
                    } if *i == index => Some(delta.as_str()),
                    _ => None,
                })
                .collect();
            let sent: String = words
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, w)| w.as_str())
                .collect();
            assert_eq!(text, sent);
        }
        assert!(matches!(events.last(), Some(RunEvent::Done { .. })));
    }
}
