//! The history's writer: one thread records the steps of every run (begun, each
//! answer, finished), and commits the steps that arrive together, from any number
//! of runs, in one transaction (a group commit).
//!
//! Under load (the local API serving many runs at once) a commit per step was the
//! ceiling: five short transactions per run, each holding the store's lock on an
//! async worker. Here the async workers only queue a step; the thread takes
//! whatever has queued up while it was committing the last batch.
//!
//! Order is kept: steps are applied in the order they were queued. A step that
//! must be in the history before the caller goes on (a run begun before any
//! provider is called, a run finished before `Done` is reported) is awaited with
//! [`Recorder::write`]; an answer is queued with [`Recorder::send`].
//!
//! A failed transaction (another process held the write lock past the busy
//! timeout, a full disk) is not retried step by step: each step's failures are
//! already apart (a savepoint per job), so what fails the transaction fails
//! every step alike. Its callers get the error at once, and the store's lock is
//! held for that one transaction only. A run's final step ([`Recorder::finish`])
//! is kept and tried again, backing off from [`FINISH_RETRY_FIRST`] to
//! [`FINISH_RETRY_MAX`], until it lands or the process ends (one last try when
//! the app closes), so a finished run does not later show `interrupted`.

use crate::AppError;
use crate::Code;
use roundtable_store::{RunWrite, Store};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

type Outcome = Result<(), AppError>;

/// Where the writer commits: one transaction per call.
pub(crate) trait Sink: Send + 'static {
    fn record(
        &self,
        groups: &[Vec<RunWrite>],
    ) -> Result<Vec<Result<(), roundtable_store::Error>>, roundtable_store::Error>;
}

impl Sink for Arc<Mutex<Store>> {
    /// The store's lock is held for this one transaction (at most its busy
    /// timeout), never across a retry.
    fn record(
        &self,
        groups: &[Vec<RunWrite>],
    ) -> Result<Vec<Result<(), roundtable_store::Error>>, roundtable_store::Error> {
        lock(self).record_batch(groups)
    }
}

struct Job {
    /// Applied all or nothing.
    writes: Vec<RunWrite>,
    /// Told the first outcome; a job without one has its failure logged.
    ack: Option<oneshot::Sender<Outcome>>,
    /// A run's final step: tried again until it lands.
    must_land: bool,
    /// Failed attempts so far.
    failures: u32,
}

/// At most this many jobs share a transaction.
const MAX_BATCH: usize = 1024;

/// A run's final step that could not be written is tried again after this…
pub const FINISH_RETRY_FIRST: Duration = Duration::from_millis(250);
/// …doubling each time up to this.
pub const FINISH_RETRY_MAX: Duration = Duration::from_secs(30);

/// How long to wait before trying a final step again.
#[derive(Clone, Copy)]
struct Backoff {
    first: Duration,
    max: Duration,
}

impl Backoff {
    fn after(&self, failures: u32) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        doubled.min(self.max)
    }
}

pub(crate) struct Recorder {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    pub(crate) fn start(store: Arc<Mutex<Store>>) -> std::io::Result<Recorder> {
        Self::start_with(
            store,
            Backoff {
                first: FINISH_RETRY_FIRST,
                max: FINISH_RETRY_MAX,
            },
        )
    }

    fn start_with(sink: impl Sink, backoff: Backoff) -> std::io::Result<Recorder> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("roundtable-history".into())
            .spawn(move || writer(sink, queue, backoff))?;
        Ok(Recorder {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Records `writes` (all or nothing) and waits until they are committed.
    pub(crate) async fn write(&self, writes: Vec<RunWrite>) -> Result<(), AppError> {
        self.write_job(writes, false).await
    }

    /// Records a run's final step and waits for the first attempt; when that
    /// fails, its error is returned and the step is tried again until it lands.
    pub(crate) async fn finish(&self, write: RunWrite) -> Result<(), AppError> {
        self.write_job(vec![write], true).await
    }

    async fn write_job(&self, writes: Vec<RunWrite>, must_land: bool) -> Result<(), AppError> {
        let (ack, done) = oneshot::channel();
        self.queue(Job {
            writes,
            ack: Some(ack),
            must_land,
            failures: 0,
        })?;
        done.await.map_err(|_| stopped())?
    }

    /// Queues `write` without waiting; a failure is logged.
    pub(crate) fn send(&self, write: RunWrite) {
        let job = Job {
            writes: vec![write],
            ack: None,
            must_land: false,
            failures: 0,
        };
        if let Err(e) = self.queue(job) {
            tracing::warn!(error = %e, "could not record a model's result");
        }
    }

    fn queue(&self, job: Job) -> Result<(), AppError> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(stopped)
    }
}

impl Drop for Recorder {
    /// Writes what is queued (final steps still failing get one last try), then
    /// stops the thread.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> AppError {
    AppError::new(Code::Storage, "the history writer has stopped")
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer thread: batches what has queued up, and the final steps due for
/// another try, until the app closes.
fn writer(sink: impl Sink, queue: mpsc::Receiver<Job>, backoff: Backoff) {
    let mut waiting: Vec<(Instant, Job)> = Vec::new();
    loop {
        let next = waiting.iter().map(|(at, _)| *at).min();
        let first = match next {
            None => match queue.recv() {
                Ok(job) => Some(job),
                Err(_) => break,
            },
            Some(at) => match queue.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
        };
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = waiting.drain(..).partition(|(at, _)| *at <= now);
        waiting = later;
        let mut due = due.into_iter().map(|(_, job)| job);
        let mut batch: Vec<Job> = due.by_ref().take(MAX_BATCH - 1).collect();
        waiting.extend(due.map(|job| (now, job)));
        batch.extend(first);
        let room = MAX_BATCH.saturating_sub(batch.len());
        batch.extend(queue.try_iter().take(room));
        for job in commit(&sink, batch) {
            waiting.push((Instant::now() + backoff.after(job.failures), job));
        }
    }
    if waiting.is_empty() {
        return;
    }
    for job in commit(&sink, waiting.into_iter().map(|(_, job)| job).collect()) {
        tracing::error!(
            attempts = job.failures,
            "the history writer stopped before a run's end could be recorded: it will show as interrupted"
        );
    }
}

/// Commits `batch` in one transaction, tells each job its outcome, and returns
/// the final steps to try again.
fn commit(sink: &impl Sink, mut batch: Vec<Job>) -> Vec<Job> {
    let groups: Vec<Vec<RunWrite>> = batch
        .iter_mut()
        .map(|j| std::mem::take(&mut j.writes))
        .collect();
    let outcomes: Vec<(Outcome, bool)> = match sink.record(&groups) {
        Ok(outcomes) => outcomes
            .into_iter()
            .map(|o| {
                // A run gone from the history (deleted elsewhere) is not coming back.
                let transient = !matches!(o, Err(roundtable_store::Error::NotFound(_)));
                (o.map_err(AppError::from), transient)
            })
            .collect(),
        Err(e) => {
            let e = AppError::from(e);
            batch.iter().map(|_| (Err(e.clone()), true)).collect()
        }
    };
    let mut again = Vec::new();
    for ((mut job, writes), (outcome, transient)) in batch.into_iter().zip(groups).zip(outcomes) {
        let failed = outcome.is_err();
        match (job.ack.take(), outcome) {
            (Some(ack), outcome) => {
                let _ = ack.send(outcome);
            }
            (None, Err(e)) if job.must_land => {
                tracing::debug!(error = %e, attempts = job.failures + 1, "a run's end is still not recorded")
            }
            (None, Err(e)) => tracing::warn!(error = %e, "could not record a run's step"),
            (None, Ok(())) if job.failures > 0 => {
                tracing::info!(
                    attempts = job.failures + 1,
                    "a run's end is recorded at last"
                )
            }
            (None, Ok(())) => {}
        }
        if failed && transient && job.must_land {
            job.writes = writes;
            job.failures += 1;
            again.push(job);
        }
    }
    again
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_core::{RoundtableResponse, RunStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A store that fails its next `fail` transactions, can hold the writer
    /// in its next one until told to go on, and remembers the runs finished.
    #[derive(Default)]
    struct Flaky {
        fail: AtomicUsize,
        calls: AtomicUsize,
        hold: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
        finished: Mutex<Vec<String>>,
    }

    impl Sink for Arc<Flaky> {
        fn record(
            &self,
            groups: &[Vec<RunWrite>],
        ) -> Result<Vec<Result<(), roundtable_store::Error>>, roundtable_store::Error> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(go_on) = self.hold.lock().unwrap().take() {
                let _ = go_on.recv();
            }
            if self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(roundtable_store::Error::Io {
                    path: "history.db".into(),
                    source: std::io::Error::other("disk full"),
                });
            }
            for write in groups.iter().flatten() {
                if let RunWrite::Finish { response, .. } = write {
                    self.finished.lock().unwrap().push(response.id.clone());
                }
            }
            Ok(groups.iter().map(|_| Ok(())).collect())
        }
    }

    fn finish(id: &str) -> RunWrite {
        RunWrite::Finish {
            response: RoundtableResponse {
                id: id.into(),
                ..Default::default()
            },
            status: RunStatus::Completed,
        }
    }

    const QUICK: Backoff = Backoff {
        first: Duration::from_millis(1),
        max: Duration::from_millis(20),
    };

    #[tokio::test]
    async fn a_failed_transaction_is_not_retried_step_by_step() {
        let sink = Arc::new(Flaky::default());
        let (go_on, held) = std::sync::mpsc::channel();
        *sink.hold.lock().unwrap() = Some(held);
        sink.fail.store(2, Ordering::SeqCst);
        let recorder = Recorder::start_with(sink.clone(), QUICK).unwrap();
        // The first step holds the writer; 500 more queue up behind it.
        recorder.send(finish("held"));
        while sink.calls.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for i in 0..500 {
            recorder.send(RunWrite::Result {
                run_id: format!("r{i}"),
                result: Default::default(),
            });
        }
        go_on.send(()).unwrap();
        // Both transactions fail (a write may share the second); then one lands.
        let mut tries = 0;
        while recorder.write(vec![finish("after")]).await.is_err() {
            tries += 1;
            assert!(tries < 3);
        }
        // The failed transactions, the held run's end tried again, the last
        // write: not one transaction per queued step (over 500 before).
        let calls = sink.calls.load(Ordering::SeqCst);
        assert!(calls <= 5, "{calls} transactions");
    }

    #[tokio::test]
    async fn a_runs_end_is_tried_again_until_it_lands() {
        let sink = Arc::new(Flaky::default());
        sink.fail.store(5, Ordering::SeqCst);
        let recorder = Recorder::start_with(sink.clone(), QUICK).unwrap();
        let first = recorder.finish(finish("run-1")).await.unwrap_err();
        assert!(first.message.contains("disk full"), "{first}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.finished.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "never recorded");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(*sink.finished.lock().unwrap(), ["run-1"]);
        assert_eq!(sink.calls.load(Ordering::SeqCst), 6);
        // A plain step is not kept: its caller has the error.
        sink.fail.store(1, Ordering::SeqCst);
        assert!(recorder.write(vec![finish("plain")]).await.is_err());
        drop(recorder);
        assert_eq!(*sink.finished.lock().unwrap(), ["run-1"]);
    }

    #[tokio::test]
    async fn closing_gives_a_waiting_end_one_last_try_at_once() {
        let sink = Arc::new(Flaky::default());
        sink.fail.store(1, Ordering::SeqCst);
        let slow = Backoff {
            first: Duration::from_secs(600),
            max: Duration::from_secs(600),
        };
        let recorder = Recorder::start_with(sink.clone(), slow).unwrap();
        assert!(recorder.finish(finish("run-2")).await.is_err());
        let closing = Instant::now();
        drop(recorder);
        assert!(closing.elapsed() < Duration::from_secs(5));
        assert_eq!(*sink.finished.lock().unwrap(), ["run-2"]);
    }

    #[test]
    fn the_backoff_doubles_up_to_its_limit() {
        let b = Backoff {
            first: FINISH_RETRY_FIRST,
            max: FINISH_RETRY_MAX,
        };
        assert_eq!(b.after(1), FINISH_RETRY_FIRST);
        assert_eq!(b.after(2), FINISH_RETRY_FIRST * 2);
        assert_eq!(b.after(40), FINISH_RETRY_MAX);
    }
}
