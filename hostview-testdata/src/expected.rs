//! Expected contents of a generated session database, for comparing an import against.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use rusqlite::{Connection, ToSql};

use crate::schema::ClientSchema;

/// Session events that open a monitoring period.
pub const START_EVENTS: &[&str] = &["start", "restart", "autorestart", "resume", "autostart"];

/// Session events that close a monitoring period.
pub const STOP_EVENTS: &[&str] = &["pause", "stop", "autostop", "suspend"];

/// Contents of one generated session database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Row count per client table. Every table of the database's schema has a key, including
    /// tables with no rows. Tables the schema lacks have no key.
    pub source_rows: BTreeMap<&'static str, u64>,
    /// Rows of the `session` table as `(timestamp_ms, event)`, in insertion order.
    pub events: Vec<(i64, &'static str)>,
    /// Earliest timestamp of a [`START_EVENTS`] event, if any.
    pub start_ms: Option<i64>,
    /// Latest timestamp of a [`STOP_EVENTS`] event, or `None` when the session has none, as
    /// after a client crash.
    pub stop_ms: Option<i64>,
    /// Latest timestamp of a row outside the `session` table, from the `timestamp` columns
    /// and `location.connstart`. A crashed session has data after its last event.
    pub last_data_ms: Option<i64>,
    /// Network connections the `connectivity` rows describe, in order of their start.
    pub connections: Vec<ExpectedConnection>,
}

/// One network connection: a `connectivity` row with `connected = 1` and what ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedConnection {
    /// Interface GUID (`connectivity.guid`).
    pub guid: &'static str,
    /// Interface MAC address (`connectivity.mac`).
    pub mac: &'static str,
    /// Timestamp of the `connected = 1` row. `dns`, `http` and `location` rows of this
    /// connection carry it as `connstart`.
    pub start_ms: i64,
    /// Timestamp of the next `connected = 0` row of the same interface, or `None` when the
    /// interface stays connected until the session ends.
    pub end_ms: Option<i64>,
}

/// Inserts rows into a session database and counts them per table.
pub(crate) struct RowWriter<'c> {
    conn: &'c Connection,
    source_rows: BTreeMap<&'static str, u64>,
    events: Vec<(i64, &'static str)>,
    connections: Vec<ExpectedConnection>,
}

impl<'c> RowWriter<'c> {
    pub(crate) fn new(conn: &'c Connection, schema: ClientSchema) -> Self {
        Self {
            conn,
            source_rows: schema.tables().map(|table| (table, 0)).collect(),
            events: Vec::new(),
            connections: Vec::new(),
        }
    }

    /// Inserts one row. The `values` follow the column order of the table's DDL.
    pub(crate) fn insert(&mut self, table: &'static str, values: &[&dyn ToSql]) -> Result<()> {
        let placeholders = vec!["?"; values.len()].join(", ");
        let sql = format!("INSERT INTO {table} VALUES ({placeholders})");
        self.conn
            .prepare_cached(&sql)?
            .execute(values)
            .with_context(|| format!("failed to insert a row into {table}"))?;

        self.add_rows(table, 1);
        Ok(())
    }

    /// Counts `rows` rows that the caller inserted into `table` with its own statements.
    pub(crate) fn add_rows(&mut self, table: &'static str, rows: u64) {
        *self.source_rows.entry(table).or_insert(0) += rows;
    }

    /// Inserts a `session` row and records the event.
    pub(crate) fn event(&mut self, timestamp_ms: i64, event: &'static str) -> Result<()> {
        self.insert("session", &[&timestamp_ms, &event])?;
        self.events.push((timestamp_ms, event));
        Ok(())
    }

    /// Records a connection the caller has written as `connectivity` rows.
    pub(crate) fn connection(
        &mut self,
        guid: &'static str,
        mac: &'static str,
        start_ms: i64,
        end_ms: Option<i64>,
    ) {
        self.connections.push(ExpectedConnection {
            guid,
            mac,
            start_ms,
            end_ms,
        });
    }

    /// Returns the counts and events written, with the latest data timestamp read back.
    pub(crate) fn finish(mut self) -> Result<Expected> {
        let mut last_data_ms: Option<i64> = None;
        for &table in self.source_rows.keys().filter(|&&table| table != "session") {
            let column = if table == "location" {
                "connstart"
            } else {
                "timestamp"
            };
            let table_max: Option<i64> = self
                .conn
                .query_row(&format!("SELECT max({column}) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .with_context(|| format!("failed to read the latest {column} of {table}"))?;
            last_data_ms = last_data_ms.max(table_max);
        }

        let start_ms = self
            .events
            .iter()
            .filter(|(_, event)| START_EVENTS.contains(event))
            .map(|&(timestamp, _)| timestamp)
            .min();
        let stop_ms = self
            .events
            .iter()
            .filter(|(_, event)| STOP_EVENTS.contains(event))
            .map(|&(timestamp, _)| timestamp)
            .max();
        self.connections
            .sort_by_key(|connection| connection.start_ms);

        Ok(Expected {
            source_rows: self.source_rows,
            events: self.events,
            start_ms,
            stop_ms,
            last_data_ms,
            connections: self.connections,
        })
    }
}
