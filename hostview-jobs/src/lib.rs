//! Running file processing: batch mode now, the queue-driven job later.
//!
//! [`batch::run_batch`] processes every file under `<data>/incoming/` with a pool of threads,
//! retries transient failures with the backoff of [`retry::RetryPolicy`], and moves each file to
//! `processed/` or `failed/` with [`moves::move_upload`]. The apalis `ProcessFile` job and its
//! Redis and SQLite queue backends will reuse the same policy and moves.

pub mod batch;
pub mod moves;
pub mod retry;
