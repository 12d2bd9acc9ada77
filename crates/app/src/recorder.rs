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

use crate::AppError;
use roundtable_store::{RunWrite, Store};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

type Outcome = Result<(), roundtable_store::Error>;

struct Job {
    /// Applied all or nothing.
    writes: Vec<RunWrite>,
    /// Told the outcome; a job without one has its failure logged.
    ack: Option<oneshot::Sender<Outcome>>,
}

/// At most this many jobs share a transaction.
const MAX_BATCH: usize = 1024;

pub(crate) struct Recorder {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    pub(crate) fn start(store: Arc<Mutex<Store>>) -> std::io::Result<Recorder> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("roundtable-history".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    batch.extend(queue.try_iter().take(MAX_BATCH - 1));
                    commit(&store, batch);
                }
            })?;
        Ok(Recorder {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Records `writes` (all or nothing) and waits until they are committed.
    pub(crate) async fn write(&self, writes: Vec<RunWrite>) -> Result<(), AppError> {
        let (ack, done) = oneshot::channel();
        self.queue(Job {
            writes,
            ack: Some(ack),
        })?;
        Ok(done.await.map_err(|_| stopped())??)
    }

    /// Queues `write` without waiting; a failure is logged.
    pub(crate) fn send(&self, write: RunWrite) {
        let job = Job {
            writes: vec![write],
            ack: None,
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
    /// Writes what is queued, then stops the thread.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> AppError {
    AppError::new("storage", "the history writer has stopped")
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

fn commit(store: &Mutex<Store>, batch: Vec<Job>) {
    let (groups, acks): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.writes, j.ack)).unzip();
    let store = lock(store);
    let outcomes = match store.record_batch(&groups) {
        Ok(outcomes) => outcomes,
        // The transaction itself failed (another process held the write lock past
        // the busy timeout, a full disk): each job alone, so each gets its error.
        Err(_) => groups
            .iter()
            .map(|group| {
                store
                    .record_batch(std::slice::from_ref(group))
                    .and_then(|mut one| one.pop().unwrap_or(Ok(())))
            })
            .collect(),
    };
    drop(store);
    for (outcome, ack) in outcomes.into_iter().zip(acks) {
        match (ack, outcome) {
            (Some(ack), outcome) => {
                let _ = ack.send(outcome);
            }
            (None, Err(e)) => tracing::warn!(error = %e, "could not record a run's step"),
            (None, Ok(())) => {}
        }
    }
}
