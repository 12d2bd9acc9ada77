//! Events that wait for a slow reader, with the text deltas among them merged:
//! a host that cannot take every event as it comes (an SSE client reading
//! slowly, a window that is sent a batch a few times a second) keeps them in a
//! [`Merging`] queue, which holds the text not yet sent rather than one item
//! per delta.
//!
//! A delta merges into the last waiting item of the same source (a model, or
//! the run's own consolidation) when that item is a delta of the same kind; any
//! other item of that source in between (a retry, a result) keeps them apart,
//! so what a reader sees is the same text in the same order, in fewer pieces.
//!
//! Extending it: a new kind of delta is one more arm in [`Mergeable`]'s
//! implementations (here for [`RunEvent`], the desktop's, and for
//! [`StreamChunk`], the local API's).

use roundtable_core::{RunEvent, StreamChunk};
use std::collections::VecDeque;

/// An item a [`Merging`] queue can hold.
pub trait Mergeable {
    /// Whose it is: a model's index in the run, or `None` for the run's own.
    fn source(&self) -> Option<usize>;
    /// Its kind, when it is text that follows the one before of its source
    /// and kind (a delta); `None` for anything else.
    fn delta_kind(&self) -> Option<&str>;
    /// A delta's text, to append to.
    fn text_mut(&mut self) -> Option<&mut String>;
}

/// Items in order, deltas merged as they come (see the module's doc).
#[derive(Debug)]
pub struct Merging<T> {
    queue: VecDeque<T>,
}

impl<T> Default for Merging<T> {
    fn default() -> Self {
        Merging {
            queue: VecDeque::new(),
        }
    }
}

impl<T: Mergeable> Merging<T> {
    pub fn push(&mut self, mut item: T) {
        // The last waiting item of its source that is a delta of its kind,
        // unless another item of that source came after it.
        let into = item.delta_kind().and_then(|kind| {
            let (at, waiting) = self
                .queue
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, w)| w.source() == item.source())
                .find(|(_, w)| w.delta_kind().is_none() || w.delta_kind() == Some(kind))?;
            (waiting.delta_kind() == Some(kind)).then_some(at)
        });
        if let Some(at) = into
            && let (Some(text), Some(more)) = (self.queue[at].text_mut(), item.text_mut())
        {
            text.push_str(more);
            return;
        }
        self.queue.push_back(item);
    }

    pub fn pop(&mut self) -> Option<T> {
        self.queue.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Everything waiting, in order; the queue is left empty.
    pub fn take(&mut self) -> Vec<T> {
        self.queue.drain(..).collect()
    }
}

impl Mergeable for RunEvent {
    fn source(&self) -> Option<usize> {
        match self {
            RunEvent::ModelQueued { index, .. }
            | RunEvent::ModelStarted { index, .. }
            | RunEvent::TextDelta { index, .. }
            | RunEvent::ThinkingDelta { index, .. }
            | RunEvent::ModelRetrying { index, .. }
            | RunEvent::ModelUsage { index, .. } => Some(*index),
            RunEvent::ModelFinished { result } | RunEvent::ModelFailed { result } => {
                Some(result.index)
            }
            RunEvent::RunStarted { .. }
            | RunEvent::ConsolidationStarted { .. }
            | RunEvent::ConsolidationDelta { .. }
            | RunEvent::Done { .. } => None,
        }
    }

    fn delta_kind(&self) -> Option<&str> {
        match self {
            RunEvent::TextDelta { .. } => Some("text"),
            RunEvent::ThinkingDelta { .. } => Some("thinking"),
            RunEvent::ConsolidationDelta { .. } => Some("consolidation"),
            _ => None,
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            RunEvent::TextDelta { delta, .. }
            | RunEvent::ThinkingDelta { delta, .. }
            | RunEvent::ConsolidationDelta { delta, .. } => Some(delta),
            _ => None,
        }
    }
}

/// The local API's chunks: a model's deltas by `model_index`, the
/// consolidation's by none.
impl Mergeable for StreamChunk {
    fn source(&self) -> Option<usize> {
        self.model_index
    }

    fn delta_kind(&self) -> Option<&str> {
        matches!(
            self.kind.as_str(),
            "model_delta" | "model_thinking_delta" | "consolidation_delta"
        )
        .then_some(self.kind.as_str())
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        self.delta.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_core::ModelResult;

    fn text(index: usize, delta: &str) -> RunEvent {
        RunEvent::TextDelta {
            index,
            model: format!("m{index}"),
            delta: delta.into(),
        }
    }

    fn thinking(index: usize, delta: &str) -> RunEvent {
        RunEvent::ThinkingDelta {
            index,
            model: format!("m{index}"),
            delta: delta.into(),
        }
    }

    fn describe(events: Vec<RunEvent>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                RunEvent::TextDelta { index, delta, .. } => format!("text {index} {delta}"),
                RunEvent::ThinkingDelta { index, delta, .. } => format!("thinking {index} {delta}"),
                RunEvent::ConsolidationDelta { delta, .. } => format!("consolidation {delta}"),
                RunEvent::ModelRetrying { index, .. } => format!("retry {index}"),
                RunEvent::ModelFinished { result } => format!("finished {}", result.index),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn deltas_of_one_model_and_kind_merge_across_other_models() {
        let mut q = Merging::default();
        for e in [
            text(0, "a"),
            text(1, "x"),
            thinking(0, "t"),
            text(0, "b"),
            text(1, "y"),
            thinking(0, "u"),
        ] {
            q.push(e);
        }
        assert_eq!(
            describe(q.take()),
            ["text 0 ab", "text 1 xy", "thinking 0 tu"]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn a_retry_or_a_result_keeps_deltas_apart() {
        let mut q = Merging::default();
        q.push(text(0, "first try"));
        q.push(RunEvent::ModelRetrying {
            index: 0,
            model: "m0".into(),
            attempt: 2,
            delay_ms: 0,
            reason: "429".into(),
        });
        q.push(text(0, "second "));
        q.push(text(0, "try"));
        q.push(RunEvent::ModelFinished {
            result: ModelResult {
                index: 0,
                ..Default::default()
            },
        });
        q.push(RunEvent::ConsolidationDelta {
            model: "s".into(),
            delta: "sum".into(),
        });
        q.push(RunEvent::ConsolidationDelta {
            model: "s".into(),
            delta: "mary".into(),
        });
        assert_eq!(
            describe(q.take()),
            [
                "text 0 first try",
                "retry 0",
                "text 0 second try",
                "finished 0",
                "consolidation summary"
            ]
        );
    }
}
