//! SQLite store for the embedded mode: the same tables as PostgreSQL in one file.
//!
//! One connection serves the whole process behind a mutex, because SQLite allows one writer at a
//! time anyway. Other processes that write the same file wait up to [`BUSY_TIMEOUT`].

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::{FileClaim, FileRecord, ImportTx, RowSink, Store, StoreError, location_fingerprint};
use crate::failure::FailureKind;
use crate::schema::{LOCATIONS, Table};
use crate::value::{Value, iso8601};

/// Migrations in the order they apply; the version is the file name without `.sql`.
const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_research_schema",
    include_str!("../../../migrations/sqlite/0001_research_schema.sql"),
)];

/// How long a write waits for another process that holds the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Classifies an SQLite error on the output database.
pub(super) fn classify(error: &rusqlite::Error) -> FailureKind {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation | ErrorCode::TooBig | ErrorCode::TypeMismatch) => {
            FailureKind::Permanent
        }
        _ => FailureKind::Transient,
    }
}

fn sqlite_error(
    action: &'static str,
    table: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite {
        action,
        table,
        source,
    }
}

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// An SQLite output database.
pub struct SqliteStore {
    connection: Mutex<Connection>,
    target: String,
}

impl SqliteStore {
    /// Opens or creates the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let target = format!("sqlite://{}", path.display());
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(|source| StoreError::Connect {
            target: target.clone(),
            source: Box::new(source),
        })?;
        let configure = |connection: &Connection| -> rusqlite::Result<()> {
            connection.busy_timeout(BUSY_TIMEOUT)?;
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            connection.pragma_update(None, "foreign_keys", true)?;
            Ok(())
        };
        configure(&connection).map_err(|source| StoreError::Connect {
            target: target.clone(),
            source: Box::new(source),
        })?;
        let store = SqliteStore {
            connection: Mutex::new(connection),
            target,
        };
        store.migrate()?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no open transaction behind (see SqliteImport's
        // Drop), so the connection is still usable.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let migrate_error = |version: &str| {
            let target = self.target.clone();
            let version = version.to_owned();
            move |source: rusqlite::Error| StoreError::Migrate {
                target,
                version,
                source: Box::new(source),
            }
        };
        let tx = connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(migrate_error("lock"))?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS hostview_migrations (version text PRIMARY KEY, applied_at text)",
        )
        .map_err(migrate_error("hostview_migrations"))?;
        for (version, sql) in MIGRATIONS {
            let applied: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM hostview_migrations WHERE version = ?1",
                    [version],
                    |row| row.get(0),
                )
                .optional()
                .map_err(migrate_error(version))?;
            if applied.is_some() {
                continue;
            }
            tx.execute_batch(sql).map_err(migrate_error(version))?;
            tx.execute(
                &format!(
                    "INSERT INTO hostview_migrations (version, applied_at) VALUES (?1, {NOW})"
                ),
                [version],
            )
            .map_err(migrate_error(version))?;
            tracing::info!(target_db = %self.target, version, "applied migration");
        }
        tx.commit().map_err(migrate_error("commit"))
    }
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn ensure_device(&self, device: &str) -> Result<i64, StoreError> {
        let connection = self.lock();
        connection
            .execute(
                "INSERT OR IGNORE INTO devices (device_id) VALUES (?1)",
                [device],
            )
            .map_err(sqlite_error("registering a device", "devices"))?;
        connection
            .query_row(
                "SELECT id FROM devices WHERE device_id = ?1",
                [device],
                |row| row.get(0),
            )
            .map_err(sqlite_error("looking up a device", "devices"))
    }

    fn find_imported(
        &self,
        device_id: i64,
        basename: &str,
        sha256: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.lock()
            .query_row(
                "SELECT id FROM files WHERE device_id = ?1 AND basename = ?2 AND sha256 = ?3 \
                 AND status = 'success'",
                params![device_id, basename, sha256],
                |row| row.get(0),
            )
            .optional()
            .map_err(sqlite_error("looking up an earlier import", "files"))
    }

    fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>, StoreError> {
        let connection = self.lock();
        connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sqlite_error("starting a transaction", "files"))?;
        Ok(Box::new(SqliteImport {
            connection,
            open: true,
        }))
    }

    fn record_failure(
        &self,
        device_id: Option<i64>,
        file: &FileRecord,
        reason: &str,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        let statement = super::failed_file_upsert('?', NOW);
        connection
            .execute(
                &statement,
                params![
                    device_id,
                    file.folder,
                    file.basename,
                    reason,
                    file.hostview_version,
                    file.kind,
                    file.sha256,
                    file.size_bytes
                ],
            )
            .map(|_| ())
            .map_err(sqlite_error("recording a failed file", "files"))
    }

    fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        let statement = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
        self.lock()
            .query_row(&statement, [], |row| row.get(0))
            .map_err(sqlite_error("counting rows", "any"))
    }
}

struct SqliteImport<'a> {
    connection: MutexGuard<'a, Connection>,
    /// Whether the transaction still needs a COMMIT or ROLLBACK.
    open: bool,
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if self.open
            && let Err(error) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %error, "rollback of the SQLite output database failed");
        }
    }
}

impl ImportTx for SqliteImport<'_> {
    fn claim_file(&mut self, device_id: i64, file: &FileRecord) -> Result<FileClaim, StoreError> {
        let connection = &*self.connection;
        let existing: Option<(i64, Option<String>, Option<String>)> = connection
            .query_row(
                "SELECT id, status, sha256 FROM files WHERE device_id = ?1 AND basename = ?2",
                params![device_id, file.basename],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(sqlite_error("looking up a file", "files"))?;

        let Some((file_id, status, sha256)) = existing else {
            connection
                .execute(
                    "INSERT INTO files (device_id, folder, basename, status, hostview_version, kind, \
                     sha256, size_bytes) VALUES (?1, ?2, ?3, 'processing', ?4, ?5, ?6, ?7)",
                    params![
                        device_id,
                        file.folder,
                        file.basename,
                        file.hostview_version,
                        file.kind,
                        file.sha256,
                        file.size_bytes
                    ],
                )
                .map_err(sqlite_error("claiming a file", "files"))?;
            return Ok(FileClaim::Claimed {
                file_id: connection.last_insert_rowid(),
                replaced: false,
            });
        };

        if status.as_deref() == Some("success") && sha256.as_deref() == Some(file.sha256.as_str()) {
            return Ok(FileClaim::AlreadyImported { file_id });
        }
        let deleted = connection
            .execute("DELETE FROM sessions WHERE file_id = ?1", [file_id])
            .map_err(sqlite_error("deleting an earlier import", "sessions"))?;
        connection
            .execute(
                &format!(
                    "UPDATE files SET folder = ?2, status = 'processing', error_info = NULL, \
                     hostview_version = ?3, kind = ?4, sha256 = ?5, size_bytes = ?6, updated_at = {NOW} \
                     WHERE id = ?1"
                ),
                params![file_id, file.folder, file.hostview_version, file.kind, file.sha256, file.size_bytes],
            )
            .map_err(sqlite_error("updating a file", "files"))?;
        Ok(FileClaim::Claimed {
            file_id,
            replaced: deleted > 0,
        })
    }

    fn insert_returning_id(
        &mut self,
        table: &'static Table,
        row: &[Value],
    ) -> Result<i64, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&insert_statement(table))
            .map_err(sqlite_error("preparing an insert", table.name))?;
        statement
            .execute(rusqlite::params_from_iter(row.iter().map(sql_value)))
            .map_err(sqlite_error("inserting a row", table.name))?;
        Ok(self.connection.last_insert_rowid())
    }

    fn location_id(&mut self, row: &[Value]) -> Result<(i64, bool), StoreError> {
        let fingerprint = location_fingerprint(row);
        let connection = &*self.connection;
        let existing: Option<i64> = connection
            .query_row(
                "SELECT id FROM locations WHERE fingerprint = ?1",
                [&fingerprint],
                |found| found.get(0),
            )
            .optional()
            .map_err(sqlite_error("looking up a location", "locations"))?;
        if let Some(id) = existing {
            return Ok((id, false));
        }
        let placeholders = vec!["?"; row.len() + 1].join(", ");
        let statement = format!(
            "INSERT INTO locations ({}, fingerprint) VALUES ({placeholders})",
            LOCATIONS.column_list()
        );
        let mut values: Vec<SqlValue> = row.iter().map(sql_value).collect();
        values.push(SqlValue::Text(fingerprint));
        connection
            .execute(&statement, rusqlite::params_from_iter(values))
            .map_err(sqlite_error("inserting a location", "locations"))?;
        Ok((connection.last_insert_rowid(), true))
    }

    fn copy_in(&mut self, table: &'static Table) -> Result<Box<dyn RowSink + '_>, StoreError> {
        let statement = self
            .connection
            .prepare_cached(&insert_statement(table))
            .map_err(sqlite_error("preparing an insert", table.name))?;
        Ok(Box::new(SqliteRowSink {
            statement,
            table,
            rows: 0,
        }))
    }

    fn commit(mut self: Box<Self>, file_id: i64) -> Result<(), StoreError> {
        self.connection
            .execute(
                &format!(
                    "UPDATE files SET status = 'success', error_info = NULL, updated_at = {NOW} WHERE id = ?1"
                ),
                [file_id],
            )
            .map_err(sqlite_error("marking a file imported", "files"))?;
        self.connection
            .execute_batch("COMMIT")
            .map_err(sqlite_error("committing", "files"))?;
        self.open = false;
        Ok(())
    }
}

fn insert_statement(table: &Table) -> String {
    let placeholders = vec!["?"; table.columns.len()].join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        table.name,
        table.column_list()
    )
}

/// Converts a value to its SQLite form: times as ISO-8601 text, addresses as text, arrays as JSON.
fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Int(number) => SqlValue::Integer(*number),
        Value::Float(number) => SqlValue::Real(*number),
        Value::Text(text) => SqlValue::Text(text.clone()),
        Value::Time(ms) => SqlValue::Text(iso8601(*ms)),
        Value::Inet(address) => SqlValue::Text(address.to_string()),
        Value::TextArray(items) => {
            SqlValue::Text(serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned()))
        }
    }
}

struct SqliteRowSink<'a> {
    statement: rusqlite::CachedStatement<'a>,
    table: &'static Table,
    rows: u64,
}

impl RowSink for SqliteRowSink<'_> {
    fn write(&mut self, row: &[Value]) -> Result<(), StoreError> {
        for (index, value) in row.iter().enumerate() {
            let result = match value {
                // Bind borrowed text without copying it: this is the hot path of a large import.
                Value::Text(text) => self
                    .statement
                    .raw_bind_parameter(index + 1, ToSqlOutput::from(text.as_str())),
                other => self
                    .statement
                    .raw_bind_parameter(index + 1, sql_value(other)),
            };
            result.map_err(sqlite_error("binding a value", self.table.name))?;
        }
        self.statement
            .raw_execute()
            .map_err(sqlite_error("inserting a row", self.table.name))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<u64, StoreError> {
        Ok(self.rows)
    }
}
