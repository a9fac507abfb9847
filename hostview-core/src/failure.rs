//! Classification of failures into permanent and transient ones.
//!
//! Every error type at a module boundary of this crate implements [`Classify`]. With it the worker
//! decides, without matching strings, whether a file moves to `failed/` at once because the input
//! itself is bad, or is retried later after a database, network or local I/O problem.

/// Whether retrying the same file can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The upload itself is invalid: retrying gives the same result, so the file goes to `failed/`.
    Permanent,
    /// The environment failed (database, network, disk, a file still being written): retry later.
    Transient,
}

/// Errors that know whether they are permanent or transient.
pub trait Classify {
    /// Returns whether this failure is permanent or transient.
    fn failure_kind(&self) -> FailureKind;

    /// Returns `true` when retrying cannot help.
    fn is_permanent(&self) -> bool {
        self.failure_kind() == FailureKind::Permanent
    }
}
