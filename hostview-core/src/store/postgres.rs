//! PostgreSQL store: bulk rows with `COPY … FROM STDIN`, a few single-row inserts for rows whose
//! ids other rows refer to, and embedded migrations from `migrations/postgres/`.

use std::fmt::Write as _;
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgCopyIn, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Postgres, Row, Transaction};
use tokio::runtime::Handle;

use super::{FileClaim, FileRecord, ImportTx, RowSink, Store, StoreError, location_fingerprint};
use crate::failure::FailureKind;
use crate::schema::{LOCATIONS, Table};
use crate::value::{Value, write_pg_timestamptz};

/// Migrations in the order they apply; the version is the file name without `.sql`.
const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_research_schema",
    include_str!("../../../migrations/postgres/0001_research_schema.sql"),
)];

/// Key of the advisory lock that serialises concurrent migrators.
const MIGRATION_LOCK_KEY: i64 = 0x686f_7374_7669_6577; // "hostview" in ASCII

/// Size of the buffer of encoded `COPY` rows that is sent to the server at once, in bytes.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// How long to wait for a free pooled connection before failing the file (transient).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// Classifies a PostgreSQL error: data and constraint errors are permanent, the rest transient.
pub(super) fn classify(error: &sqlx::Error) -> FailureKind {
    match error {
        sqlx::Error::Database(database_error) => match database_error.code() {
            // Class 22 is "data exception" and 23 "integrity constraint violation": the same
            // rows fail the same way on every attempt.
            Some(code) if code.starts_with("22") || code.starts_with("23") => {
                FailureKind::Permanent
            }
            _ => FailureKind::Transient,
        },
        _ => FailureKind::Transient,
    }
}

fn pg_error(action: &'static str, table: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Postgres {
        action,
        table,
        source,
    }
}

/// A PostgreSQL database with the research schema.
pub struct PgStore {
    pool: PgPool,
    handle: Handle,
    target: String,
}

impl PgStore {
    /// Connects with up to `max_connections` pooled connections and applies pending migrations.
    ///
    /// Must run inside a Tokio runtime, outside its async worker threads.
    pub fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let target = super::redact_url(url);
        let handle = Handle::try_current().map_err(|source| StoreError::Connect {
            target: target.clone(),
            source: Box::new(source),
        })?;
        let connect_error = |source: sqlx::Error| StoreError::Connect {
            target: target.clone(),
            source: Box::new(source),
        };
        // One plain connection first: the pool retries a refused connection until its acquire
        // timeout and then reports only the timeout, hiding the cause from the user.
        let probe = handle
            .block_on(PgConnection::connect(url))
            .map_err(connect_error)?;
        handle.block_on(probe.close()).map_err(connect_error)?;
        let pool = handle
            .block_on(
                PgPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect(url),
            )
            .map_err(connect_error)?;
        let store = PgStore {
            pool,
            handle,
            target,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Returns the connection pool, for callers that run their own queries (tests, benchmarks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let migrate_error = |version: &str| {
            let target = self.target.clone();
            let version = version.to_owned();
            move |source: sqlx::Error| StoreError::Migrate {
                target,
                version,
                source: Box::new(source),
            }
        };
        self.handle.block_on(async {
            let mut tx = self.pool.begin().await.map_err(migrate_error("lock"))?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *tx)
                .await
                .map_err(migrate_error("lock"))?;
            // Checked first because CREATE TABLE IF NOT EXISTS logs a notice on every start.
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass('hostview_migrations') IS NOT NULL")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(migrate_error("hostview_migrations"))?;
            if !exists {
                sqlx::raw_sql(
                    "CREATE TABLE hostview_migrations (\
                     version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                )
                .execute(&mut *tx)
                .await
                .map_err(migrate_error("hostview_migrations"))?;
            }
            for (version, sql) in MIGRATIONS {
                let applied = sqlx::query("SELECT 1 FROM hostview_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(migrate_error(version))?;
                if applied.is_some() {
                    continue;
                }
                // The migration text is compiled in from migrations/postgres/, never built from input.
                sqlx::raw_sql(AssertSqlSafe(*sql))
                    .execute(&mut *tx)
                    .await
                    .map_err(migrate_error(version))?;
                sqlx::query("INSERT INTO hostview_migrations (version) VALUES ($1)")
                    .bind(*version)
                    .execute(&mut *tx)
                    .await
                    .map_err(migrate_error(version))?;
                tracing::info!(target_db = %self.target, version, "applied migration");
            }
            tx.commit().await.map_err(migrate_error("commit"))
        })
    }

    fn upsert_failed_file(
        &self,
        device_id: Option<i64>,
        file: &FileRecord,
        reason: &str,
    ) -> Result<(), StoreError> {
        let statement = super::failed_file_upsert('$', "now()");
        self.handle
            .block_on(
                sqlx::query(AssertSqlSafe(statement))
                    .bind(device_id)
                    .bind(&file.folder)
                    .bind(&file.basename)
                    .bind(reason)
                    .bind(&file.hostview_version)
                    .bind(&file.kind)
                    .bind(&file.sha256)
                    .bind(file.size_bytes)
                    .execute(&self.pool),
            )
            .map(|_| ())
            .map_err(pg_error("recording a failed file", "files"))
    }
}

impl Store for PgStore {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn ensure_device(&self, device: &str) -> Result<i64, StoreError> {
        // The insert waits for a concurrent uncommitted insert of the same device and then does
        // nothing, so the select that follows always finds the one row.
        self.handle.block_on(async {
            sqlx::query(
                "INSERT INTO devices (device_id) VALUES ($1) ON CONFLICT (device_id) DO NOTHING",
            )
            .bind(device)
            .execute(&self.pool)
            .await
            .map_err(pg_error("registering a device", "devices"))?;
            sqlx::query_scalar::<_, i64>("SELECT id FROM devices WHERE device_id = $1")
                .bind(device)
                .fetch_one(&self.pool)
                .await
                .map_err(pg_error("looking up a device", "devices"))
        })
    }

    fn find_imported(
        &self,
        device_id: i64,
        basename: &str,
        sha256: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.handle
            .block_on(
                sqlx::query_scalar::<_, i64>(
                    "SELECT id FROM files WHERE device_id = $1 AND basename = $2 \
                     AND sha256 = $3 AND status = 'success'",
                )
                .bind(device_id)
                .bind(basename)
                .bind(sha256)
                .fetch_optional(&self.pool),
            )
            .map_err(pg_error("looking up an earlier import", "files"))
    }

    fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>, StoreError> {
        let tx = self
            .handle
            .block_on(self.pool.begin())
            .map_err(pg_error("starting a transaction", "files"))?;
        Ok(Box::new(PgImport {
            tx: Some(tx),
            handle: self.handle.clone(),
        }))
    }

    fn record_failure(
        &self,
        device_id: Option<i64>,
        file: &FileRecord,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.upsert_failed_file(device_id, file, reason)
    }

    fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        let statement = format!("SELECT count(*) FROM {}", quote_identifier(table));
        self.handle
            .block_on(sqlx::query_scalar::<_, i64>(AssertSqlSafe(statement)).fetch_one(&self.pool))
            .map_err(pg_error("counting rows", "any"))
    }
}

/// Quotes an SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct PgImport {
    /// The open transaction; `None` only after commit or while dropping.
    tx: Option<Transaction<'static, Postgres>>,
    handle: Handle,
}

impl PgImport {
    fn connection(&mut self) -> &mut PgConnection {
        self.tx
            .as_mut()
            .expect("the transaction is open until commit consumes the import")
    }
}

impl Drop for PgImport {
    fn drop(&mut self) {
        // Dropping an uncommitted transaction rolls it back and returns the connection to the
        // pool, which spawns a task: that needs the runtime's context on this plain thread.
        let _context = self.handle.enter();
        drop(self.tx.take());
    }
}

impl ImportTx for PgImport {
    fn claim_file(&mut self, device_id: i64, file: &FileRecord) -> Result<FileClaim, StoreError> {
        let handle = self.handle.clone();
        let connection = self.connection();
        handle.block_on(async move {
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO files (device_id, folder, basename, status, hostview_version, kind, \
                 sha256, size_bytes) VALUES ($1, $2, $3, 'processing', $4, $5, $6, $7) \
                 ON CONFLICT (device_id, basename) DO NOTHING RETURNING id",
            )
            .bind(device_id)
            .bind(&file.folder)
            .bind(&file.basename)
            .bind(&file.hostview_version)
            .bind(&file.kind)
            .bind(&file.sha256)
            .bind(file.size_bytes)
            .fetch_optional(&mut *connection)
            .await
            .map_err(pg_error("claiming a file", "files"))?;
            if let Some(file_id) = inserted {
                return Ok(FileClaim::Claimed { file_id, replaced: false });
            }

            // The row exists: lock it so that concurrent imports of the same name serialise.
            let existing = sqlx::query(
                "SELECT id, status, sha256 FROM files WHERE device_id = $1 AND basename = $2 FOR UPDATE",
            )
            .bind(device_id)
            .bind(&file.basename)
            .fetch_one(&mut *connection)
            .await
            .map_err(pg_error("locking a file", "files"))?;
            let file_id: i64 = existing.get("id");
            let status: Option<String> = existing.get("status");
            let sha256: Option<String> = existing.get("sha256");
            if status.as_deref() == Some("success") && sha256.as_deref() == Some(file.sha256.as_str()) {
                return Ok(FileClaim::AlreadyImported { file_id });
            }

            let deleted = sqlx::query("DELETE FROM sessions WHERE file_id = $1")
                .bind(file_id)
                .execute(&mut *connection)
                .await
                .map_err(pg_error("deleting an earlier import", "sessions"))?;
            sqlx::query(
                "UPDATE files SET folder = $2, status = 'processing', error_info = NULL, \
                 hostview_version = $3, kind = $4, sha256 = $5, size_bytes = $6, updated_at = now() \
                 WHERE id = $1",
            )
            .bind(file_id)
            .bind(&file.folder)
            .bind(&file.hostview_version)
            .bind(&file.kind)
            .bind(&file.sha256)
            .bind(file.size_bytes)
            .execute(&mut *connection)
            .await
            .map_err(pg_error("updating a file", "files"))?;
            Ok(FileClaim::Claimed { file_id, replaced: deleted.rows_affected() > 0 })
        })
    }

    fn insert_returning_id(
        &mut self,
        table: &'static Table,
        row: &[Value],
    ) -> Result<i64, StoreError> {
        let mut placeholders = String::new();
        for (index, column) in table.columns.iter().enumerate() {
            if index > 0 {
                placeholders.push_str(", ");
            }
            let _ = write!(placeholders, "${}::{}", index + 1, column.ty.pg_name());
        }
        let statement = format!(
            "INSERT INTO {} ({}) VALUES ({placeholders}) RETURNING id",
            table.name,
            table.column_list()
        );
        // Only table and column names from `schema` are interpolated; values are bound.
        let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(statement));
        for value in row {
            query = query.bind(pg_text(value));
        }
        let handle = self.handle.clone();
        handle
            .block_on(query.fetch_one(self.connection()))
            .map_err(pg_error("inserting a row", table.name))
    }

    fn location_id(&mut self, row: &[Value]) -> Result<(i64, bool), StoreError> {
        let fingerprint = location_fingerprint(row);
        let mut placeholders = String::new();
        for index in 1..=row.len() {
            let _ = write!(placeholders, "${index}::text, ");
        }
        let statement = format!(
            "INSERT INTO locations ({}, fingerprint) VALUES ({placeholders}${}) \
             ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
            LOCATIONS.column_list(),
            row.len() + 1
        );
        // Only table and column names from `schema` are interpolated; values are bound.
        let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(statement));
        for value in row {
            query = query.bind(pg_text(value));
        }
        query = query.bind(fingerprint.clone());
        let handle = self.handle.clone();
        let connection = self.connection();
        handle.block_on(async move {
            if let Some(id) = query
                .fetch_optional(&mut *connection)
                .await
                .map_err(pg_error("inserting a location", "locations"))?
            {
                return Ok((id, true));
            }
            sqlx::query_scalar::<_, i64>("SELECT id FROM locations WHERE fingerprint = $1")
                .bind(fingerprint)
                .fetch_one(&mut *connection)
                .await
                .map(|id| (id, false))
                .map_err(pg_error("looking up a location", "locations"))
        })
    }

    fn copy_in(&mut self, table: &'static Table) -> Result<Box<dyn RowSink + '_>, StoreError> {
        let statement = format!("COPY {} ({}) FROM STDIN", table.name, table.column_list());
        let handle = self.handle.clone();
        let copy = handle
            .block_on(self.connection().copy_in_raw(&statement))
            .map_err(pg_error("starting COPY", table.name))?;
        Ok(Box::new(PgRowSink {
            copy: Some(copy),
            handle,
            table,
            buffer: String::with_capacity(COPY_CHUNK_BYTES + 64 * 1024),
            rows: 0,
        }))
    }

    fn commit(self: Box<Self>, file_id: i64) -> Result<(), StoreError> {
        let mut import = *self;
        let handle = import.handle.clone();
        let Some(mut tx) = import.tx.take() else {
            return Ok(());
        };
        handle.block_on(async move {
            sqlx::query(
                "UPDATE files SET status = 'success', error_info = NULL, updated_at = now() WHERE id = $1",
            )
            .bind(file_id)
            .execute(&mut *tx)
            .await
            .map_err(pg_error("marking a file imported", "files"))?;
            tx.commit().await.map_err(pg_error("committing", "files"))
        })
    }
}

struct PgRowSink<'a> {
    copy: Option<PgCopyIn<&'a mut PgConnection>>,
    handle: Handle,
    table: &'static Table,
    buffer: String,
    rows: u64,
}

impl PgRowSink<'_> {
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let Some(copy) = self.copy.as_mut() else {
            return Ok(());
        };
        self.handle
            .block_on(copy.send(self.buffer.as_bytes()))
            .map_err(pg_error("sending COPY data", self.table.name))?;
        self.buffer.clear();
        Ok(())
    }
}

impl RowSink for PgRowSink<'_> {
    fn write(&mut self, row: &[Value]) -> Result<(), StoreError> {
        for (index, value) in row.iter().enumerate() {
            if index > 0 {
                self.buffer.push('\t');
            }
            write_copy_value(&mut self.buffer, value);
        }
        self.buffer.push('\n');
        self.rows += 1;
        if self.buffer.len() >= COPY_CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64, StoreError> {
        self.flush()?;
        let table = self.table.name;
        match self.copy.take() {
            Some(copy) => self
                .handle
                .block_on(copy.finish())
                .map_err(pg_error("finishing COPY", table)),
            None => Ok(self.rows),
        }
    }
}

/// Returns the PostgreSQL text input form of `value`, or `None` for SQL NULL.
fn pg_text(value: &Value) -> Option<String> {
    let mut out = String::new();
    match value {
        Value::Null => return None,
        Value::Text(text) => out.push_str(text),
        other => write_text_form(&mut out, other),
    }
    Some(out)
}

/// Appends the text input form of a non-text value.
fn write_text_form(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Int(number) => {
            let _ = write!(out, "{number}");
        }
        Value::Float(number) => write_float(out, *number),
        Value::Text(text) => out.push_str(text),
        Value::Time(ms) => write_pg_timestamptz(out, *ms),
        Value::Inet(address) => {
            let _ = write!(out, "{address}");
        }
        Value::TextArray(items) => write_array_literal(out, items),
    }
}

fn write_float(out: &mut String, number: f64) {
    if number.is_nan() {
        out.push_str("NaN");
    } else if number.is_infinite() {
        out.push_str(if number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
    } else {
        let _ = write!(out, "{number}");
    }
}

/// Appends a `text[]` literal such as `{"a","b \"c\""}`.
fn write_array_literal(out: &mut String, items: &[String]) {
    out.push('{');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('"');
        for character in item.chars() {
            if character == '"' || character == '\\' {
                out.push('\\');
            }
            out.push(character);
        }
        out.push('"');
    }
    out.push('}');
}

/// Appends `value` in `COPY` text format: `\N` for NULL, with backslash, tab, newline and
/// carriage return escaped.
fn write_copy_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("\\N"),
        Value::Text(text) => write_copy_escaped(out, text),
        Value::TextArray(items) => {
            let mut literal = String::new();
            write_array_literal(&mut literal, items);
            write_copy_escaped(out, &literal);
        }
        other => write_text_form(out, other),
    }
}

fn write_copy_escaped(out: &mut String, text: &str) {
    if !text.contains(['\\', '\t', '\n', '\r']) {
        out.push_str(text);
        return;
    }
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_form(value: &Value) -> String {
        let mut out = String::new();
        write_copy_value(&mut out, value);
        out
    }

    #[test]
    fn copy_value_escapes_special_characters() {
        assert_eq!(copy_form(&Value::Null), "\\N");
        assert_eq!(
            copy_form(&Value::Text("a\tb\nc\\d\re".into())),
            "a\\tb\\nc\\\\d\\re"
        );
        assert_eq!(copy_form(&Value::Text("\\N".into())), "\\\\N");
        assert_eq!(copy_form(&Value::Int(-5)), "-5");
        assert_eq!(copy_form(&Value::Float(0.1)), "0.1");
        assert_eq!(copy_form(&Value::Float(f64::NAN)), "NaN");
        assert_eq!(copy_form(&Value::Float(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(copy_form(&Value::Time(0)), "1970-01-01 00:00:00.000+00");
    }

    #[test]
    fn copy_value_quotes_array_items() {
        let items = vec![
            "a".to_owned(),
            "b\"c".to_owned(),
            "d\\e".to_owned(),
            String::new(),
        ];
        assert_eq!(
            copy_form(&Value::TextArray(items)),
            "{\"a\",\"b\\\\\"c\",\"d\\\\\\\\e\",\"\"}"
        );
        assert_eq!(copy_form(&Value::TextArray(Vec::new())), "{}");
    }
}
