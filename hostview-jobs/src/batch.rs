//! Batch mode: process everything under `<data>/incoming/` once and report.
//!
//! A fixed pool of threads takes files from a shared list. A transient failure puts the file back
//! with a "not before" time from the [`RetryPolicy`]; a permanent failure, or a transient one after
//! the last attempt, records the reason in the `files` table and moves the file to `failed/`.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use hostview_core::failure::Classify;
use hostview_core::pipeline::{
    Outcome, ProcessConfig, ProcessError, ProcessFailure, process_upload, record_failure,
};
use hostview_core::store::Store;

use crate::moves::{Destination, MoveError, move_upload};
use crate::retry::RetryPolicy;

/// Settings of one batch run.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Data directory that contains `incoming/`.
    pub data_dir: PathBuf,
    /// Number of files processed at once; at least 1.
    pub jobs: usize,
    pub process: ProcessConfig,
    pub retry: RetryPolicy,
}

/// Errors that stop a batch run as a whole.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// `<data>/incoming/` does not exist or cannot be listed.
    #[error("cannot list uploads in {path}: {source}")]
    ListIncoming {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One file that ended in `failed/`.
#[derive(Debug, Clone)]
pub struct FailedFile {
    /// Path below `incoming/`.
    pub relative: PathBuf,
    pub reason: String,
    pub attempts: u32,
}

/// Counts and failures of one batch run.
#[derive(Debug, Default, Clone)]
pub struct BatchSummary {
    /// Session databases whose rows were committed.
    pub imported: u64,
    /// Files whose content had been imported before.
    pub already_imported: u64,
    /// Files of kind "other", recorded and moved.
    pub recorded: u64,
    /// Captures and JSON files, left in `incoming/` until their processors exist.
    pub not_yet_supported: u64,
    pub failed: Vec<FailedFile>,
    /// Files whose move or failure record failed after processing; they stay in `incoming/`.
    pub unmoved: Vec<(PathBuf, String)>,
    /// Files still being written after the last attempt; they stay in `incoming/` for a later run.
    pub still_uploading: Vec<PathBuf>,
    /// Rows written per output table.
    pub rows: BTreeMap<&'static str, u64>,
    /// Values repaired during import (wrong types, invalid UTF-8, …).
    pub repaired_values: u64,
    pub elapsed: Duration,
}

impl BatchSummary {
    /// Returns whether every file was processed without failure.
    pub fn all_succeeded(&self) -> bool {
        self.failed.is_empty() && self.unmoved.is_empty()
    }

    /// Returns the number of files handled in any way.
    pub fn files(&self) -> u64 {
        self.imported
            + self.already_imported
            + self.recorded
            + self.not_yet_supported
            + self.failed.len() as u64
            + self.unmoved.len() as u64
            + self.still_uploading.len() as u64
    }
}

/// Receives progress: files finished so far and in total.
pub trait Progress: Sync {
    fn update(&self, finished: u64, total: u64);
}

impl Progress for () {
    fn update(&self, _finished: u64, _total: u64) {}
}

struct Pending {
    path: PathBuf,
    /// Processing attempts so far, this one included; waits for a file to settle do not count.
    attempt: u32,
    /// Times the file was found still being written.
    settle_waits: u32,
    not_before: Instant,
}

/// Outcome of one pass over a file.
enum Next {
    Finished,
    /// Process the file again after `wait`. `counts_as_attempt` is false when the file was only
    /// waited on because it is still being written.
    Again {
        wait: Duration,
        counts_as_attempt: bool,
    },
}

struct Queue {
    pending: Vec<Pending>,
    in_flight: usize,
    finished: u64,
}

/// Lists every upload below `incoming`: files, symbolic links and other non-directories, in
/// sorted order so that runs are reproducible.
pub fn list_uploads(incoming: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let list_error = |source| BatchError::ListIncoming {
        path: incoming.to_path_buf(),
        source,
    };
    std::fs::metadata(incoming).map_err(list_error)?;
    let mut uploads = Vec::new();
    for entry in walkdir::WalkDir::new(incoming)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|error| list_error(error.into()))?;
        if !entry.file_type().is_dir() {
            uploads.push(entry.into_path());
        }
    }
    Ok(uploads)
}

/// Processes every upload below `<data>/incoming/` into `store`.
pub fn run_batch(
    store: &dyn Store,
    config: &BatchConfig,
    progress: &dyn Progress,
) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    let incoming = config.data_dir.join("incoming");
    let uploads = list_uploads(&incoming)?;
    let total = uploads.len() as u64;
    tracing::info!(files = total, jobs = config.jobs, store = %store.describe(), "batch started");

    let now = Instant::now();
    let queue = Mutex::new(Queue {
        pending: uploads
            .into_iter()
            .rev()
            .map(|path| Pending {
                path,
                attempt: 1,
                settle_waits: 0,
                not_before: now,
            })
            .collect(),
        in_flight: 0,
        finished: 0,
    });
    let wake = Condvar::new();
    let summary = Mutex::new(BatchSummary::default());
    progress.update(0, total);

    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| {
                worker_loop(
                    store, config, &incoming, &queue, &wake, &summary, progress, total,
                )
            });
        }
    });

    let mut summary = summary
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    summary.elapsed = started.elapsed();
    tracing::info!(
        imported = summary.imported,
        already_imported = summary.already_imported,
        failed = summary.failed.len(),
        elapsed_ms = summary.elapsed.as_millis() as u64,
        "batch finished"
    );
    Ok(summary)
}

/// Takes the next file whose retry time has come; returns `None` when nothing is left.
fn next_file(queue: &Mutex<Queue>, wake: &Condvar) -> Option<Pending> {
    let mut state = queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let now = Instant::now();
        if let Some(index) = state
            .pending
            .iter()
            .rposition(|pending| pending.not_before <= now)
        {
            state.in_flight += 1;
            return Some(state.pending.remove(index));
        }
        if state.pending.is_empty() && state.in_flight == 0 {
            return None;
        }
        // Wait for the earliest retry, or for a file in flight to finish or come back.
        let wait = state
            .pending
            .iter()
            .map(|pending| pending.not_before.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(1));
        state = wake
            .wait_timeout(state, wait.max(Duration::from_millis(1)))
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
}

#[allow(clippy::too_many_arguments)]
fn worker_loop(
    store: &dyn Store,
    config: &BatchConfig,
    incoming: &Path,
    queue: &Mutex<Queue>,
    wake: &Condvar,
    summary: &Mutex<BatchSummary>,
    progress: &dyn Progress,
    total: u64,
) {
    while let Some(pending) = next_file(queue, wake) {
        let next = handle_file(store, config, incoming, &pending, summary);
        let mut state = queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.in_flight -= 1;
        match next {
            Next::Again {
                wait,
                counts_as_attempt,
            } => state.pending.push(Pending {
                path: pending.path,
                attempt: pending.attempt + u32::from(counts_as_attempt),
                settle_waits: pending.settle_waits + u32::from(!counts_as_attempt),
                not_before: Instant::now() + wait,
            }),
            Next::Finished => {
                state.finished += 1;
                progress.update(state.finished, total);
            }
        }
        drop(state);
        wake.notify_all();
    }
}

/// Processes one file and returns whether it needs another pass.
fn handle_file(
    store: &dyn Store,
    config: &BatchConfig,
    incoming: &Path,
    pending: &Pending,
    summary: &Mutex<BatchSummary>,
) -> Next {
    let path = &pending.path;
    let relative = path.strip_prefix(incoming).unwrap_or(path).to_path_buf();
    let span = tracing::info_span!("file", file = %relative.display(), attempt = pending.attempt);
    let _entered = span.enter();

    // A panic is a bug, but it must not stop the other files or leave this one unaccounted for.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        process_upload(store, incoming, path, &config.process)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let error = ProcessError::Internal {
            path: path.clone(),
            message,
        };
        Err(Box::new(ProcessFailure {
            // Recover the device and name so that the failure is still recorded in `files`.
            upload: hostview_core::upload::parse_upload_path(incoming, path).ok(),
            ..ProcessFailure::new(error)
        }))
    });
    match result {
        Ok(processed) => {
            let elapsed_ms = processed.elapsed.as_millis() as u64;
            let device = processed.upload.device_id.as_str();
            let mut moved = Ok(None);
            if processed.outcome.is_done() {
                moved = move_upload(&config.data_dir, path, Destination::Processed).map(Some);
            }
            let mut totals = lock_summary(summary);
            match &processed.outcome {
                Outcome::Imported { stats, replaced } => {
                    let rows: u64 = stats.rows.values().sum();
                    tracing::info!(
                        device,
                        rows,
                        elapsed_ms,
                        replaced,
                        repaired = stats.warnings.total(),
                        "imported"
                    );
                    for ((table, column, kind), count) in &stats.warnings.counts {
                        tracing::warn!(device, table = %table, column = %column, count, "{}", kind.describe());
                    }
                    totals.imported += 1;
                    totals.repaired_values += stats.warnings.total();
                    for (table, count) in &stats.rows {
                        *totals.rows.entry(table).or_insert(0) += count;
                    }
                }
                Outcome::AlreadyImported => {
                    tracing::info!(device, elapsed_ms, "already imported, skipped");
                    totals.already_imported += 1;
                }
                Outcome::Recorded => {
                    tracing::info!(device, elapsed_ms, "recorded file without rows");
                    totals.recorded += 1;
                }
                Outcome::NotYetSupported => {
                    tracing::info!(
                        device,
                        kind = processed.upload.kind.name(),
                        "kind not yet supported, left in incoming"
                    );
                    totals.not_yet_supported += 1;
                }
            }
            if let Err(error) = moved {
                tracing::error!(error = %error, "cannot move file to processed");
                totals.unmoved.push((relative, error.to_string()));
            }
            Next::Finished
        }
        Err(failure) => handle_failure(store, config, &relative, pending, *failure, summary),
    }
}

fn handle_failure(
    store: &dyn Store,
    config: &BatchConfig,
    relative: &Path,
    pending: &Pending,
    failure: ProcessFailure,
    summary: &Mutex<BatchSummary>,
) -> Next {
    let reason = failure.error.to_string();
    if let ProcessError::Settling { retry_after, .. } = &failure.error {
        // Waiting for a file to settle is bounded like retries but is not a failed attempt.
        if config.retry.should_retry(pending.settle_waits + 1) {
            let wait = (*retry_after).min(config.retry.max_backoff);
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "file still being written, waiting"
            );
            return Next::Again {
                wait,
                counts_as_attempt: false,
            };
        }
        // A file that is still growing is not broken: leave it for the next run.
        tracing::warn!(error = %reason, "file still being written, left in incoming");
        lock_summary(summary)
            .still_uploading
            .push(relative.to_path_buf());
        return Next::Finished;
    }
    if !failure.error.is_permanent() && config.retry.should_retry(pending.attempt) {
        let wait = config.retry.backoff(pending.attempt);
        tracing::warn!(error = %reason, retry_in_ms = wait.as_millis() as u64, "transient failure, will retry");
        return Next::Again {
            wait,
            counts_as_attempt: true,
        };
    }

    tracing::error!(error = %reason, permanent = failure.error.is_permanent(), "file failed");
    let recorded = record_failure(store, &failure);
    let moved = move_upload(&config.data_dir, &pending.path, Destination::Failed);
    let mut totals = lock_summary(summary);
    match (recorded, moved) {
        (Ok(()), Ok(_)) => totals.failed.push(FailedFile {
            relative: relative.to_path_buf(),
            reason,
            attempts: pending.attempt,
        }),
        (recorded, moved) => {
            let problem = describe_bookkeeping_error(recorded.err(), moved.err());
            tracing::error!(error = %problem, reason = %reason, "cannot file away the failed file");
            totals
                .unmoved
                .push((relative.to_path_buf(), format!("{reason}; then {problem}")));
        }
    }
    Next::Finished
}

fn describe_bookkeeping_error(
    recorded: Option<hostview_core::store::StoreError>,
    moved: Option<MoveError>,
) -> String {
    let mut parts = Vec::new();
    if let Some(error) = recorded {
        parts.push(format!("recording the failure failed: {error}"));
    }
    if let Some(error) = moved {
        parts.push(error.to_string());
    }
    parts.join("; ")
}

fn lock_summary(summary: &Mutex<BatchSummary>) -> std::sync::MutexGuard<'_, BatchSummary> {
    summary
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
