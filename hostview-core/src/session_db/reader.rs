//! Reading a client session database: tolerant column lookup and value conversion.
//!
//! Client versions differ in which tables and columns exist, and real files contain values of
//! the wrong type, invalid UTF-8 and NUL bytes. The reader selects only the columns that exist
//! (missing ones read as NULL), converts every value to the output column's type, and counts what
//! it had to repair in [`Warnings`] instead of failing the file. No function here panics on the
//! content of the database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::failure::{Classify, FailureKind};
use crate::schema::ColumnType;
use crate::value::{Value, checked_epoch_ms, parse_ip, split_list};

/// Errors while reading a client session database.
#[derive(Debug, thiserror::Error)]
pub enum SessionDbError {
    /// The file could not be opened as an SQLite database. `path` is the private copy, so the
    /// message leaves it out; callers name the upload.
    #[error("cannot open it as an SQLite database: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A query on the file failed, for example because the file is malformed.
    #[error("cannot read {}: {source}", describe_table(table))]
    Read {
        path: PathBuf,
        table: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// Names a table for messages; `sqlite_master` is SQLite's own list of tables.
fn describe_table(table: &str) -> String {
    if table == "sqlite_master" {
        "its list of tables".to_owned()
    } else {
        format!("table {table}")
    }
}

impl SessionDbError {
    fn source_error(&self) -> &rusqlite::Error {
        match self {
            SessionDbError::Open { source, .. } | SessionDbError::Read { source, .. } => source,
        }
    }
}

impl Classify for SessionDbError {
    fn failure_kind(&self) -> FailureKind {
        // The database is a private copy, so only resource problems can go away on a retry.
        // Malformed content, a non-database file and every other error fail the same way again.
        match self.source_error().sqlite_error_code() {
            Some(
                ErrorCode::DiskFull
                | ErrorCode::OutOfMemory
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked,
            ) => FailureKind::Transient,
            _ => FailureKind::Permanent,
        }
    }
}

/// A repair that the reader made to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WarningKind {
    /// A value of the wrong type (text in an INTEGER column, say) was stored as NULL.
    WrongType,
    /// A number outside the output column's range was stored as NULL.
    OutOfRange,
    /// A time outside years 1 to 9999 was stored as NULL.
    InvalidTime,
    /// Text that is not an IP address was stored as NULL in an address column.
    InvalidAddress,
    /// Invalid UTF-8 was replaced with U+FFFD.
    InvalidUtf8,
    /// NUL characters were removed from text.
    NulRemoved,
}

impl WarningKind {
    /// Returns a short fixed description for logs.
    pub fn describe(self) -> &'static str {
        match self {
            WarningKind::WrongType => "value of the wrong type stored as NULL",
            WarningKind::OutOfRange => "number out of the column's range stored as NULL",
            WarningKind::InvalidTime => "time outside years 1 to 9999 stored as NULL",
            WarningKind::InvalidAddress => "invalid IP address stored as NULL",
            WarningKind::InvalidUtf8 => "invalid UTF-8 replaced with U+FFFD",
            WarningKind::NulRemoved => "NUL characters removed from text",
        }
    }
}

/// Counts of repaired values per source table, column and kind of repair.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Warnings {
    pub counts: BTreeMap<(String, String, WarningKind), u64>,
}

impl Warnings {
    fn add(&mut self, table: &str, column: &str, kind: WarningKind) {
        *self
            .counts
            .entry((table.to_owned(), column.to_owned(), kind))
            .or_insert(0) += 1;
    }

    /// Returns the total number of repaired values.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// An open client session database.
pub struct SessionDb {
    connection: Connection,
    path: PathBuf,
    /// Lowercase column names of every table, by lowercase table name.
    tables: HashMap<String, HashSet<String>>,
}

impl SessionDb {
    /// Opens the private copy at `path` read-only.
    ///
    /// When `has_wal` is true, a `-wal` file lies beside it: the file is first opened read-write
    /// once so that SQLite applies the log, which a read-only connection cannot do.
    pub fn open(path: &Path, has_wal: bool) -> Result<Self, SessionDbError> {
        let open_error = |source| SessionDbError::Open {
            path: path.to_path_buf(),
            source,
        };
        if has_wal {
            let writable = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(open_error)?;
            writable
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(open_error)?;
            writable.close().map_err(|(_, source)| open_error(source))?;
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_error)?;
        let mut db = SessionDb {
            connection,
            path: path.to_path_buf(),
            tables: HashMap::new(),
        };
        db.tables = db.read_table_columns()?;
        Ok(db)
    }

    fn read_error(&self, table: &str) -> impl FnOnce(rusqlite::Error) -> SessionDbError + '_ {
        let table = table.to_owned();
        move |source| SessionDbError::Read {
            path: self.path.clone(),
            table,
            source,
        }
    }

    fn read_table_columns(&self) -> Result<HashMap<String, HashSet<String>>, SessionDbError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
                 WHERE m.type = 'table'",
            )
            .map_err(self.read_error("sqlite_master"))?;
        let mut rows = statement
            .query([])
            .map_err(self.read_error("sqlite_master"))?;
        let mut tables: HashMap<String, HashSet<String>> = HashMap::new();
        while let Some(row) = rows.next().map_err(self.read_error("sqlite_master"))? {
            let table = text_lossy(row.get_ref(0).map_err(self.read_error("sqlite_master"))?);
            let column = text_lossy(row.get_ref(1).map_err(self.read_error("sqlite_master"))?);
            tables
                .entry(table.to_lowercase())
                .or_default()
                .insert(column.to_lowercase());
        }
        Ok(tables)
    }

    /// Returns whether the client wrote `table`.
    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    /// Returns whether `table` exists and has `column`.
    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|columns| columns.contains(&column.to_lowercase()))
    }

    /// Returns the SQL expression for `column`: the quoted column, or NULL when it is missing.
    pub fn column_expression(&self, table: &str, column: &str) -> String {
        if self.has_column(table, column) {
            format!("\"{column}\"")
        } else {
            "NULL".to_owned()
        }
    }

    /// Runs `sql` on the table `table` and calls `each` for every row, streaming.
    pub fn for_each_row(
        &self,
        table: &str,
        sql: &str,
        mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<(), ImportRowError>,
    ) -> Result<(), ImportRowError> {
        let mut statement = self
            .connection
            .prepare(sql)
            .map_err(self.read_error(table))?;
        let mut rows = statement.query([]).map_err(self.read_error(table))?;
        while let Some(row) = rows.next().map_err(self.read_error(table))? {
            each(row)?;
        }
        Ok(())
    }

    /// Returns the latest valid integer time in `table.column`, or `None`.
    pub fn max_time(&self, table: &str, column: &str) -> Result<Option<i64>, SessionDbError> {
        if !self.has_column(table, column) {
            return Ok(None);
        }
        // typeof() keeps text out of max(): SQLite orders any text above every number.
        let sql = format!(
            "SELECT max(CAST(\"{column}\" AS INTEGER)) FROM \"{table}\" \
             WHERE typeof(\"{column}\") IN ('integer', 'real') \
             AND \"{column}\" BETWEEN -62135596800000 AND 253402300799999"
        );
        self.connection
            .query_row(&sql, [], |row| row.get::<_, Option<i64>>(0))
            .map_err(self.read_error(table))
    }

    /// Reads column `index` of `row` through the error type of an import.
    pub fn value_ref<'r>(
        &self,
        table: &str,
        row: &'r rusqlite::Row<'_>,
        index: usize,
    ) -> Result<ValueRef<'r>, SessionDbError> {
        row.get_ref(index).map_err(self.read_error(table))
    }
}

/// An error while streaming rows: reading the client database or writing the output.
#[derive(Debug, thiserror::Error)]
pub enum ImportRowError {
    #[error(transparent)]
    SessionDb(#[from] SessionDbError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Decodes text as UTF-8, replacing invalid sequences.
fn text_lossy(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        ValueRef::Integer(number) => number.to_string(),
        ValueRef::Real(number) => number.to_string(),
        ValueRef::Null => String::new(),
    }
}

/// Converts client values to output values, counting every repair.
pub struct Converter<'w> {
    pub warnings: &'w mut Warnings,
}

impl Converter<'_> {
    /// Converts `value` from `table.column` to an output value of type `ty`.
    pub fn convert(
        &mut self,
        value: ValueRef<'_>,
        ty: ColumnType,
        table: &str,
        column: &str,
    ) -> Value {
        match ty {
            ColumnType::SmallInt | ColumnType::Int | ColumnType::BigInt => self
                .integer(value, ty, table, column)
                .map_or(Value::Null, Value::Int),
            ColumnType::Float => self
                .float(value, table, column)
                .map_or(Value::Null, Value::Float),
            ColumnType::Text => self
                .text(value, table, column)
                .map_or(Value::Null, Value::Text),
            ColumnType::Time => self
                .time(value, table, column)
                .map_or(Value::Null, Value::Time),
            ColumnType::Inet => match self.text(value, table, column) {
                None => Value::Null,
                Some(text) if text.trim().is_empty() => Value::Null,
                Some(text) => match parse_ip(&text) {
                    Some(address) => Value::Inet(address),
                    None => {
                        self.warnings
                            .add(table, column, WarningKind::InvalidAddress);
                        Value::Null
                    }
                },
            },
            ColumnType::TextArray => match self.text(value, table, column) {
                None => Value::Null,
                Some(text) => Value::TextArray(split_list(&text)),
            },
        }
    }

    /// Converts to an integer within the range of `ty`.
    pub fn integer(
        &mut self,
        value: ValueRef<'_>,
        ty: ColumnType,
        table: &str,
        column: &str,
    ) -> Option<i64> {
        let number = match value {
            ValueRef::Null => return None,
            ValueRef::Integer(number) => number,
            ValueRef::Real(number) if number.fract() == 0.0 && number.abs() < 9.0e18 => {
                number as i64
            }
            ValueRef::Text(bytes) => match std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.trim().parse().ok())
            {
                Some(number) => number,
                None => {
                    self.warnings.add(table, column, WarningKind::WrongType);
                    return None;
                }
            },
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                self.warnings.add(table, column, WarningKind::WrongType);
                return None;
            }
        };
        let (min, max) = ty.integer_range().unwrap_or((i64::MIN, i64::MAX));
        if (min..=max).contains(&number) {
            Some(number)
        } else {
            self.warnings.add(table, column, WarningKind::OutOfRange);
            None
        }
    }

    fn float(&mut self, value: ValueRef<'_>, table: &str, column: &str) -> Option<f64> {
        match value {
            ValueRef::Null => None,
            ValueRef::Integer(number) => Some(number as f64),
            ValueRef::Real(number) => Some(number),
            ValueRef::Text(bytes) => {
                let parsed = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| text.trim().parse().ok());
                if parsed.is_none() {
                    self.warnings.add(table, column, WarningKind::WrongType);
                }
                parsed
            }
            ValueRef::Blob(_) => {
                self.warnings.add(table, column, WarningKind::WrongType);
                None
            }
        }
    }

    /// Converts an epoch-millisecond time, accepting years 1 to 9999.
    pub fn time(&mut self, value: ValueRef<'_>, table: &str, column: &str) -> Option<i64> {
        let ms = self.integer(value, ColumnType::BigInt, table, column)?;
        let checked = checked_epoch_ms(ms);
        if checked.is_none() {
            self.warnings.add(table, column, WarningKind::InvalidTime);
        }
        checked
    }

    /// Converts to text: invalid UTF-8 becomes U+FFFD and NUL characters are removed.
    pub fn text(&mut self, value: ValueRef<'_>, table: &str, column: &str) -> Option<String> {
        let bytes = match value {
            ValueRef::Null => return None,
            ValueRef::Integer(number) => return Some(number.to_string()),
            ValueRef::Real(number) => return Some(number.to_string()),
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes,
        };
        let mut text = match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => {
                self.warnings.add(table, column, WarningKind::InvalidUtf8);
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        if text.contains('\0') {
            self.warnings.add(table, column, WarningKind::NulRemoved);
            text.retain(|character| character != '\0');
        }
        Some(text)
    }
}
