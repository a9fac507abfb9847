//! Storage of imported rows: one trait, a PostgreSQL and an SQLite implementation.
//!
//! A file import runs inside one [`ImportTx`]: the rows of a file become visible together at
//! [`ImportTx::commit`] or not at all, because dropping an uncommitted transaction rolls it back.
//! The API is synchronous so that the session database reader, which is synchronous too, can
//! stream rows straight into a [`RowSink`]. Call it from a blocking thread
//! (`tokio::task::spawn_blocking`): the PostgreSQL store drives its async driver with
//! `Handle::block_on` and panics when called on an async worker thread.

mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::failure::{Classify, FailureKind};
use crate::schema::Table;
use crate::value::Value;

/// The `files` row of one upload.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// Client device identifier from the upload path.
    pub device: String,
    /// Folder of the upload relative to `incoming/`, such as `DEV/2.1.3/2016/29`.
    pub folder: String,
    /// File name of the upload as stored, such as `1468852623282_stats.db.zip`.
    pub basename: String,
    /// Client version from the upload path.
    pub hostview_version: String,
    /// File kind name, see `FileKind::name`.
    pub kind: String,
    /// Hex SHA-256 of the upload's bytes as stored (before decompression).
    pub sha256: String,
    /// Size of the upload in bytes.
    pub size_bytes: i64,
}

/// Result of claiming a file at the start of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClaim {
    /// The same content was imported before: nothing to do.
    AlreadyImported { file_id: i64 },
    /// The import may go on; `replaced` is true when rows of an earlier import were deleted.
    Claimed { file_id: i64, replaced: bool },
}

/// Errors of the stores.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not `postgres://…`, `postgresql://…` or `sqlite://…`.
    #[error("unsupported database URL scheme in {url:?}: use postgres://… or sqlite://PATH")]
    UnsupportedUrl { url: String },
    /// Connecting to the database failed.
    #[error("cannot connect to {target}")]
    Connect {
        target: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Creating or upgrading the schema failed.
    #[error("migration {version} failed on {target}")]
    Migrate {
        target: String,
        version: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A PostgreSQL statement failed.
    #[error("PostgreSQL failed while {action} (table {table})")]
    Postgres {
        action: &'static str,
        table: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// An SQLite statement on the output database failed.
    #[error("SQLite output database failed while {action} (table {table})")]
    Sqlite {
        action: &'static str,
        table: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// The SQLite output folder could not be created.
    #[error("cannot create the folder of the SQLite output database {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Classify for StoreError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            // Configuration errors: retrying cannot help, but they are fatal for the whole run
            // rather than for one file, so callers check them before processing files.
            StoreError::UnsupportedUrl { .. } => FailureKind::Permanent,
            StoreError::Postgres { source, .. } => postgres::classify(source),
            StoreError::Sqlite { source, .. } => sqlite::classify(source),
            _ => FailureKind::Transient,
        }
    }
}

/// A database that stores imported files.
pub trait Store: Send + Sync {
    /// Returns a description of the target for logs, without any password.
    fn describe(&self) -> String;

    /// Registers `device` once, whatever the number of concurrent callers, and returns its id.
    fn ensure_device(&self, device: &str) -> Result<i64, StoreError>;

    /// Returns the id of an earlier successful import of this exact content, if any.
    fn find_imported(
        &self,
        device_id: i64,
        basename: &str,
        sha256: &str,
    ) -> Result<Option<i64>, StoreError>;

    /// Starts the transaction of one file import.
    fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>, StoreError>;

    /// Records a failed file with its reason, in its own transaction.
    ///
    /// `device_id` is `None` when the upload path was rejected before the device was known.
    fn record_failure(
        &self,
        device_id: Option<i64>,
        file: &FileRecord,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// Records an accepted file that has no rows of its own (kind "other").
    fn record_plain_file(
        &self,
        device_id: i64,
        file: &FileRecord,
    ) -> Result<FileClaim, StoreError> {
        let mut import = self.begin_import()?;
        let claim = import.claim_file(device_id, file)?;
        if let FileClaim::Claimed { file_id, .. } = claim {
            import.commit(file_id)?;
        }
        Ok(claim)
    }

    /// Returns the number of rows in `table`, for summaries and tests.
    fn count_rows(&self, table: &str) -> Result<i64, StoreError>;
}

/// The transaction of one file import. Dropping it without [`ImportTx::commit`] rolls back.
pub trait ImportTx {
    /// Inserts or locks the `files` row of `file`, deleting the rows of an earlier import of
    /// different content under the same name.
    fn claim_file(&mut self, device_id: i64, file: &FileRecord) -> Result<FileClaim, StoreError>;

    /// Inserts one row and returns its generated id.
    fn insert_returning_id(
        &mut self,
        table: &'static Table,
        row: &[Value],
    ) -> Result<i64, StoreError>;

    /// Returns the id of the `locations` row with exactly these values, inserting it when new,
    /// and whether this call inserted it.
    fn location_id(&mut self, row: &[Value]) -> Result<(i64, bool), StoreError>;

    /// Starts a bulk load of `table`.
    fn copy_in(&mut self, table: &'static Table) -> Result<Box<dyn RowSink + '_>, StoreError>;

    /// Marks the file imported and commits every row of the import.
    fn commit(self: Box<Self>, file_id: i64) -> Result<(), StoreError>;
}

/// A bulk load of one table.
pub trait RowSink {
    /// Appends one row; its values follow the table's column order.
    fn write(&mut self, row: &[Value]) -> Result<(), StoreError>;

    /// Ends the load and returns the number of rows written.
    fn finish(self: Box<Self>) -> Result<u64, StoreError>;
}

/// Returns the store for `url`: `postgres://…`/`postgresql://…` or `sqlite://PATH`.
///
/// Applies pending migrations. Must run inside a Tokio runtime but outside its worker threads,
/// for example in `spawn_blocking`, like every other store call.
pub fn open_store(url: &str, max_connections: u32) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PgStore::connect(url, max_connections)?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Box::new(SqliteStore::open(std::path::Path::new(path))?))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: redact_url(url),
        })
    }
}

/// Returns `url` with any password replaced by `***`, for logs and messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, t)| (a, Some(t)));
    let redacted_authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{credentials}@{host}"),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(tail) => format!("{scheme}://{redacted_authority}/{tail}"),
        None => format!("{scheme}://{redacted_authority}"),
    }
}

/// Returns the statement that records a failed file, for both stores.
///
/// `marker` is the backend's parameter prefix (`$` or `?`) and `now` its current-time expression.
/// The parameters are device id, folder, basename, reason, version, kind, SHA-256 and size. When
/// the name was imported successfully before, that import's rows stay, so its row keeps the
/// status, hash and size that describe them, and only `error_info` reports the failed upload.
pub(crate) fn failed_file_upsert(marker: char, now: &str) -> String {
    let earlier_success = "files.status = 'success'";
    format!(
        "INSERT INTO files (device_id, folder, basename, status, error_info, hostview_version, \
         kind, sha256, size_bytes) \
         VALUES ({marker}1, {marker}2, {marker}3, 'failed', {marker}4, {marker}5, {marker}6, {marker}7, {marker}8) \
         ON CONFLICT (device_id, basename) DO UPDATE SET \
         error_info = CASE WHEN {earlier_success} \
             THEN 'a later upload of this name failed (SHA-256 ' || excluded.sha256 || '): ' || excluded.error_info \
             ELSE excluded.error_info END, \
         folder = CASE WHEN {earlier_success} THEN files.folder ELSE excluded.folder END, \
         hostview_version = CASE WHEN {earlier_success} THEN files.hostview_version ELSE excluded.hostview_version END, \
         kind = CASE WHEN {earlier_success} THEN files.kind ELSE excluded.kind END, \
         sha256 = CASE WHEN {earlier_success} THEN files.sha256 ELSE excluded.sha256 END, \
         size_bytes = CASE WHEN {earlier_success} THEN files.size_bytes ELSE excluded.size_bytes END, \
         status = CASE WHEN {earlier_success} THEN 'success' ELSE 'failed' END, \
         updated_at = {now}"
    )
}

/// Returns the deduplication key of a `locations` row: the SHA-256 of its values.
///
/// Each value is written with a tag and its length, so that no two different rows share a key.
pub(crate) fn location_fingerprint(row: &[Value]) -> String {
    let mut hasher = Sha256::new();
    for value in row {
        match value {
            Value::Text(text) => {
                hasher.update(b"T");
                hasher.update((text.len() as u64).to_le_bytes());
                hasher.update(text.as_bytes());
            }
            Value::Null => hasher.update(b"N"),
            other => {
                let text = format!("{other:?}");
                hasher.update(b"O");
                hasher.update((text.len() as u64).to_le_bytes());
                hasher.update(text.as_bytes());
            }
        }
    }
    hex(&hasher.finalize())
}

/// Formats bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_password() {
        assert_eq!(
            redact_url("postgres://alice:secret@db.example:5432/hostview"),
            "postgres://alice:***@db.example:5432/hostview"
        );
        assert_eq!(redact_url("postgres://alice@db/x"), "postgres://alice@db/x");
        assert_eq!(
            redact_url("sqlite:///tmp/a.sqlite"),
            "sqlite:///tmp/a.sqlite"
        );
    }

    #[test]
    fn location_fingerprint_separates_null_and_empty() {
        let with_null = location_fingerprint(&[Value::Null, Value::Text("a".into())]);
        let with_empty =
            location_fingerprint(&[Value::Text(String::new()), Value::Text("a".into())]);
        let shifted = location_fingerprint(&[Value::Text("a".into()), Value::Null]);
        assert_ne!(with_null, with_empty);
        assert_ne!(with_null, shifted);
        assert_eq!(
            with_null,
            location_fingerprint(&[Value::Null, Value::Text("a".into())])
        );
    }
}
