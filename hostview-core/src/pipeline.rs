//! Processing of one uploaded file, from its path to committed rows.
//!
//! [`process_upload`] validates the upload path, waits for the file to settle, hashes it, skips
//! content that was imported before, decompresses it into a private temporary directory and
//! imports it in one store transaction. It neither moves the file nor retries: the caller (batch
//! mode or a queue worker) does both, using [`Classify`] on the returned error.
//!
//! Every function here blocks; call them from a blocking thread.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::archive::{ArchiveError, ExtractLimits, extract_upload};
use crate::failure::{Classify, FailureKind};
use crate::session_db::{
    ImportRowError, ImportStats, SessionContext, SessionDb, SessionDbError, import_session,
};
use crate::store::{FileClaim, FileRecord, Store, StoreError, hex};
use crate::upload::{FileKind, UploadPath, UploadPathError, parse_upload_path};

/// Name of the decompressed session database inside the private temporary directory.
const SESSION_DB_NAME: &str = "session.db";

/// Limits and paths that apply to every file.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// Maximum decompressed size of one upload, in bytes; a larger upload fails permanently.
    pub max_decompressed_bytes: u64,
    /// Minimum time since the last modification of a file before it is read; a younger file is
    /// taken to be still uploading and fails transiently.
    pub settle_time: Duration,
    /// Folder for private temporary copies; `None` uses the system's temporary folder.
    pub temp_dir: Option<PathBuf>,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            max_decompressed_bytes: ExtractLimits::default().max_decompressed_bytes,
            settle_time: Duration::from_secs(5),
            temp_dir: None,
        }
    }
}

/// Result of a file that did not fail.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The rows of a session database were committed. `replaced` is true when an earlier import
    /// of different content under the same name was deleted in the same transaction.
    Imported {
        stats: Box<ImportStats>,
        replaced: bool,
    },
    /// The same content was imported before; nothing changed.
    AlreadyImported,
    /// A file of kind "other" was recorded in `files`.
    Recorded,
    /// A kind that this version does not import yet; the file stays where it is.
    NotYetSupported,
}

impl Outcome {
    /// Returns whether the file should move to `processed/`.
    pub fn is_done(&self) -> bool {
        !matches!(self, Outcome::NotYetSupported)
    }
}

/// A file that processing accepted, with what happened to it.
#[derive(Debug, Clone)]
pub struct Processed {
    pub upload: UploadPath,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// Errors of processing one file.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The upload path is invalid.
    #[error(transparent)]
    Path(#[from] UploadPathError),
    /// The file was modified too recently and may still be uploading.
    #[error(
        "{path} was modified {age_ms} ms ago and may still be uploading; retrying after the settle time"
    )]
    Settling {
        path: PathBuf,
        age_ms: u128,
        retry_after: Duration,
    },
    /// The upload could not be read.
    #[error("cannot read upload {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Decompression failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The session database is invalid.
    #[error("{upload} is not a valid session database ({container} content): {source}")]
    SessionDb {
        upload: PathBuf,
        container: &'static str,
        #[source]
        source: Box<SessionDbError>,
    },
    /// The output database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Processing panicked: a bug, reported instead of stopping the other files.
    #[error("internal error while processing {path}: {message}; please report this as a bug")]
    Internal { path: PathBuf, message: String },
}

impl Classify for ProcessError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            ProcessError::Path(error) => error.failure_kind(),
            ProcessError::Settling { .. } | ProcessError::Read { .. } => FailureKind::Transient,
            ProcessError::Archive(error) => error.failure_kind(),
            ProcessError::SessionDb { source, .. } => source.failure_kind(),
            ProcessError::Store(error) => error.failure_kind(),
            ProcessError::Internal { .. } => FailureKind::Permanent,
        }
    }
}

impl ProcessError {
    /// Returns how long to wait before retrying, for errors that carry their own delay.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProcessError::Settling { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// A failed file, with what is known about it for the `files` table.
#[derive(Debug)]
pub struct ProcessFailure {
    pub error: ProcessError,
    /// The parsed path, when the path was valid.
    pub upload: Option<UploadPath>,
    /// The `files` row to record, when the file could be read.
    pub record: Option<FileRecord>,
    /// The device's row id, when it was registered.
    pub device_id: Option<i64>,
}

impl ProcessFailure {
    /// Returns a failure that carries only its error.
    pub fn new(error: impl Into<ProcessError>) -> Self {
        ProcessFailure {
            error: error.into(),
            upload: None,
            record: None,
            device_id: None,
        }
    }
}

/// Processes the upload at `path` below `incoming` into `store`.
pub fn process_upload(
    store: &dyn Store,
    incoming: &Path,
    path: &Path,
    config: &ProcessConfig,
) -> Result<Processed, Box<ProcessFailure>> {
    let started = Instant::now();
    let upload =
        parse_upload_path(incoming, path).map_err(|error| Box::new(ProcessFailure::new(error)))?;
    let with_upload = |failure: ProcessFailure| {
        Box::new(ProcessFailure {
            upload: Some(upload.clone()),
            ..failure
        })
    };

    check_settled(path, config.settle_time)
        .map_err(|error| with_upload(ProcessFailure::new(error)))?;
    if matches!(
        upload.kind,
        FileKind::CapturePiece { .. }
            | FileKind::BrowserJson { .. }
            | FileKind::QuestionnaireJson { .. }
    ) {
        return Ok(Processed {
            upload,
            outcome: Outcome::NotYetSupported,
            elapsed: started.elapsed(),
        });
    }

    let (sha256, size_bytes) =
        hash_file(path).map_err(|error| with_upload(ProcessFailure::new(error)))?;
    let record = file_record(&upload, sha256, size_bytes);
    let with_record = |error: ProcessError, device_id: Option<i64>| {
        with_upload(ProcessFailure {
            error,
            upload: None,
            record: Some(record.clone()),
            device_id,
        })
    };

    let device_id = store
        .ensure_device(&upload.device_id)
        .map_err(|error| with_record(error.into(), None))?;
    let outcome = match upload.kind {
        FileKind::SessionDb { session_ms } => {
            import_session_file(store, path, &record, device_id, session_ms, config)
                .map_err(|error| with_record(error, Some(device_id)))?
        }
        _ => match store.record_plain_file(device_id, &record) {
            Ok(FileClaim::AlreadyImported { .. }) => Outcome::AlreadyImported,
            Ok(FileClaim::Claimed { .. }) => Outcome::Recorded,
            Err(error) => return Err(with_record(error.into(), Some(device_id))),
        },
    };
    Ok(Processed {
        upload,
        outcome,
        elapsed: started.elapsed(),
    })
}

/// Records a failed file in the `files` table (when its path was valid).
pub fn record_failure(store: &dyn Store, failure: &ProcessFailure) -> Result<(), StoreError> {
    let Some(upload) = &failure.upload else {
        // Without a valid path there is no device or name to key the row by.
        return Ok(());
    };
    // Without a record the file could not be read, so no hash or size is known.
    let record = failure
        .record
        .clone()
        .unwrap_or_else(|| file_record(upload, String::new(), 0));
    let device_id = match failure.device_id {
        Some(id) => id,
        None => store.ensure_device(&upload.device_id)?,
    };
    store.record_failure(Some(device_id), &record, &failure.error.to_string())
}

fn import_session_file(
    store: &dyn Store,
    path: &Path,
    record: &FileRecord,
    device_id: i64,
    session_ms: i64,
    config: &ProcessConfig,
) -> Result<Outcome, ProcessError> {
    // Skip decompression entirely when this exact content is already in the database.
    if store
        .find_imported(device_id, &record.basename, &record.sha256)?
        .is_some()
    {
        return Ok(Outcome::AlreadyImported);
    }

    let limits = ExtractLimits {
        max_decompressed_bytes: config.max_decompressed_bytes,
    };
    let started = Instant::now();
    let extracted = extract_upload(path, SESSION_DB_NAME, &limits, config.temp_dir.as_deref())?;
    tracing::debug!(
        container = extracted.container.name(),
        bytes = extracted.decompressed_bytes,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "extracted"
    );
    let invalid_database = |source: SessionDbError| ProcessError::SessionDb {
        upload: path.to_path_buf(),
        container: extracted.container.name(),
        source: Box::new(source),
    };
    let db = SessionDb::open(&extracted.main, extracted.wal.is_some()).map_err(invalid_database)?;

    let mut tx = store.begin_import()?;
    let (file_id, replaced) = match tx.claim_file(device_id, record)? {
        FileClaim::AlreadyImported { .. } => return Ok(Outcome::AlreadyImported),
        FileClaim::Claimed { file_id, replaced } => (file_id, replaced),
    };
    let context = SessionContext {
        file_id,
        device_id,
        name_session_ms: Some(session_ms),
    };
    let started = Instant::now();
    let stats = import_session(&db, tx.as_mut(), context).map_err(|error| match error {
        ImportRowError::SessionDb(source) => invalid_database(source),
        ImportRowError::Store(source) => ProcessError::Store(source),
    })?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rows written"
    );
    let started = Instant::now();
    tx.commit(file_id)?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "committed"
    );
    Ok(Outcome::Imported {
        stats: Box::new(stats),
        replaced,
    })
}

/// Fails transiently when `path` was modified less than `settle_time` ago.
fn check_settled(path: &Path, settle_time: Duration) -> Result<(), ProcessError> {
    if settle_time.is_zero() {
        return Ok(());
    }
    let read_error = |source| ProcessError::Read {
        path: path.to_path_buf(),
        source,
    };
    let modified = std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .map_err(read_error)?;
    // A modification time in the future counts as "just modified".
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO);
    if age < settle_time {
        return Err(ProcessError::Settling {
            path: path.to_path_buf(),
            age_ms: age.as_millis(),
            retry_after: settle_time - age,
        });
    }
    Ok(())
}

/// Returns the hex SHA-256 and the size of the file at `path`, reading it once.
fn hash_file(path: &Path) -> Result<(String, i64), ProcessError> {
    let read_error = |source| ProcessError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        let read = file.read(&mut buffer).map_err(read_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((
        hex(&hasher.finalize()),
        i64::try_from(size).unwrap_or(i64::MAX),
    ))
}

/// Returns the `files` row of `upload` with the given content hash and size.
fn file_record(upload: &UploadPath, sha256: String, size_bytes: i64) -> FileRecord {
    FileRecord {
        device: upload.device_id.clone(),
        folder: upload
            .relative
            .parent()
            .map(|folder| folder.to_string_lossy().into_owned())
            .unwrap_or_default(),
        basename: upload.file_name.clone(),
        hostview_version: upload.version.clone(),
        kind: upload.kind.name().to_owned(),
        sha256,
        size_bytes,
    }
}
