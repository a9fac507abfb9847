//! Helpers for the end-to-end tests in `tests/`: throwaway output databases on both backends,
//! upload folders, and a batch run with test settings.
//!
//! PostgreSQL tests use `HOSTVIEW_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) only to create and drop a database of their
//! own, so tests never share state. `scripts/test.sh` sets the variable, starting a throwaway
//! server when the machine has none.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use hostview_core::pipeline::ProcessConfig;
use hostview_core::store::{Store, open_store};
use hostview_jobs::batch::{BatchConfig, BatchSummary, run_batch};
use hostview_jobs::retry::RetryPolicy;
use sqlx::{Connection, Row};

/// Output backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Both backends, for tests that run the same checks on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Returns the PostgreSQL server URL for tests.
pub fn server_url() -> String {
    std::env::var("HOSTVIEW_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Decodes a PostgreSQL row whose columns are text, integers, floats or booleans.
///
/// Other types (times, addresses, arrays) must be converted in the query, for example with
/// [`TestEnv::epoch_ms`].
fn pg_row_as_text(row: &sqlx::postgres::PgRow) -> Result<Vec<Option<String>>> {
    use sqlx::{Column, TypeInfo};
    let mut values = Vec::with_capacity(row.columns().len());
    for (index, column) in row.columns().iter().enumerate() {
        let value = match column.type_info().name() {
            "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => row.try_get::<Option<String>, _>(index)?,
            "INT8" => row
                .try_get::<Option<i64>, _>(index)?
                .map(|number| number.to_string()),
            "INT4" => row
                .try_get::<Option<i32>, _>(index)?
                .map(|number| number.to_string()),
            "INT2" => row
                .try_get::<Option<i16>, _>(index)?
                .map(|number| number.to_string()),
            "FLOAT8" => row
                .try_get::<Option<f64>, _>(index)?
                .map(|number| number.to_string()),
            "BOOL" => row
                .try_get::<Option<bool>, _>(index)?
                .map(|flag| flag.to_string()),
            other => anyhow::bail!(
                "column {} has type {other}: convert it to text in the query",
                column.name()
            ),
        };
        values.push(value);
    }
    Ok(values)
}

/// Replaces the database name at the end of a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{prefix}/{database}?{query}"),
        None => format!("{prefix}/{database}"),
    }
}

/// A runtime for the blocking store API, entered for the life of the value.
pub struct Runtime {
    runtime: tokio::runtime::Runtime,
}

impl Runtime {
    pub fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot build a Tokio runtime")?;
        Ok(Runtime { runtime })
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.runtime.enter()
    }
}

/// One test's output database and upload folder.
pub struct TestEnv {
    pub backend: Backend,
    pub data: tempfile::TempDir,
    pub database_url: String,
    pg_database: Option<String>,
    pub runtime: Runtime,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestEnv {
    /// Creates an empty data directory with `incoming/` and an empty output database.
    pub fn new(backend: Backend) -> Result<Self> {
        let runtime = Runtime::new()?;
        let data = tempfile::tempdir().context("cannot create a temporary data directory")?;
        std::fs::create_dir_all(data.path().join("incoming"))?;
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", data.path().join("hostview.sqlite").display()),
                None,
            ),
            Backend::Postgres => {
                let name = format!(
                    "hostview_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |elapsed| elapsed.subsec_nanos())
                );
                let server = server_url();
                runtime
                    .block_on(async {
                        let mut connection = sqlx::PgConnection::connect(&server).await?;
                        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                            .execute(&mut connection)
                            .await?;
                        connection.close().await
                    })
                    .with_context(|| {
                        format!("cannot create a test database on {server}: is PostgreSQL running? scripts/test.sh starts one")
                    })?;
                (with_database(&server, &name), Some(name))
            }
        };
        Ok(TestEnv {
            backend,
            data,
            database_url,
            pg_database,
            runtime,
        })
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    pub fn incoming(&self) -> PathBuf {
        self.data.path().join("incoming")
    }

    /// Opens the output store (applying migrations).
    pub fn store(&self) -> Result<Box<dyn Store>> {
        let _guard = self.runtime.enter();
        Ok(open_store(&self.database_url, 4)?)
    }

    /// Returns batch settings for tests: no settle time and fast retries.
    pub fn batch_config(&self, jobs: usize) -> BatchConfig {
        BatchConfig {
            data_dir: self.data.path().to_path_buf(),
            jobs,
            process: ProcessConfig {
                settle_time: Duration::ZERO,
                ..ProcessConfig::default()
            },
            retry: RetryPolicy {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
            },
        }
    }

    /// Runs batch mode over the data directory with `jobs` threads.
    pub fn run_batch(&self, jobs: usize) -> Result<BatchSummary> {
        let store = self.store()?;
        let _guard = self.runtime.enter();
        Ok(run_batch(store.as_ref(), &self.batch_config(jobs), &())?)
    }

    /// Runs `sql` on the output database and returns every value as text (NULL as `None`).
    ///
    /// Write queries that both backends accept; use [`TestEnv::epoch_ms`] and friends for the
    /// columns whose SQL types differ.
    pub fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        match self.backend {
            Backend::Sqlite => {
                let connection =
                    rusqlite::Connection::open(self.data.path().join("hostview.sqlite"))?;
                let mut statement = connection
                    .prepare(sql)
                    .with_context(|| format!("invalid query {sql}"))?;
                let width = statement.column_count();
                let rows = statement.query_map([], |row| {
                    (0..width)
                        .map(|index| {
                            Ok(match row.get_ref(index)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(number) => {
                                    Some(number.to_string())
                                }
                                rusqlite::types::ValueRef::Real(number) => Some(number.to_string()),
                                rusqlite::types::ValueRef::Text(bytes)
                                | rusqlite::types::ValueRef::Blob(bytes) => {
                                    Some(String::from_utf8_lossy(bytes).into_owned())
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            }
            Backend::Postgres => self.runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&self.database_url).await?;
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&mut connection)
                    .await
                    .with_context(|| format!("query failed: {sql}"))?;
                connection.close().await?;
                rows.iter().map(pg_row_as_text).collect()
            }),
        }
    }

    /// Returns the single integer that `sql` selects.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        let rows = self.query(sql)?;
        let value = rows
            .first()
            .and_then(|row| row.first())
            .cloned()
            .flatten()
            .with_context(|| format!("no value from {sql}"))?;
        value
            .parse()
            .with_context(|| format!("{value:?} from {sql} is not an integer"))
    }

    /// Returns the number of rows in `table`.
    pub fn count(&self, table: &str) -> Result<i64> {
        self.query_i64(&format!("SELECT count(*) FROM {table}"))
    }

    /// Returns an SQL expression that converts the time column `column` to epoch milliseconds.
    pub fn epoch_ms(&self, column: &str) -> String {
        match self.backend {
            Backend::Sqlite => {
                format!("CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)")
            }
            Backend::Postgres => format!("(extract(epoch FROM {column}) * 1000)::bigint"),
        }
    }

    /// Returns an SQL expression that joins the items of the array column `column` with commas.
    pub fn joined_array(&self, column: &str) -> String {
        match self.backend {
            Backend::Sqlite => {
                format!("(SELECT group_concat(value, ',') FROM json_each({column}))")
            }
            Backend::Postgres => format!("array_to_string({column}, ',')"),
        }
    }

    /// Returns an SQL expression for the address column `column` as plain text.
    pub fn address(&self, column: &str) -> String {
        match self.backend {
            Backend::Sqlite => column.to_owned(),
            Backend::Postgres => format!("host({column})"),
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        let server = server_url();
        let result = self.runtime.block_on(async {
            let mut connection = sqlx::PgConnection::connect(&server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut connection)
            .await?;
            connection.close().await
        });
        if let Err(error) = result {
            eprintln!("warning: cannot drop test database {name}: {error}");
        }
    }
}

/// Returns the folder of real uploads (`../shared/data/uploads`), or `None` after printing why
/// the calling test checks nothing.
pub fn shared_uploads(test: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HOSTVIEW_SHARED_DATA").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")),
    ];
    for data in candidates.into_iter().flatten() {
        let uploads = data.join("uploads");
        if uploads.join("incoming").is_dir() {
            return Some(uploads);
        }
    }
    eprintln!(
        "{test}: SKIPPED, the real uploads are absent (set HOSTVIEW_SHARED_DATA to the folder that \
         contains uploads/incoming, or place it at ../shared/data beside the repository)"
    );
    None
}

/// Copies a folder tree, keeping nothing but file contents (copies are writable).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        let relative = entry.path().strip_prefix(from)?;
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}
