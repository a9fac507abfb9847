//! Mapping of a client session database onto the research tables.
//!
//! The import runs in three steps inside one store transaction:
//! 1. a summary of the session: its start and stop events and the latest time in the file;
//! 2. the small tables whose ids other rows refer to (session, locations, connections, surveys),
//!    inserted one row at a time while id maps are kept in memory;
//! 3. every other table streamed row by row into a bulk load, so memory does not grow with
//!    the size of the file.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::ValueRef;

use super::reader::{Converter, ImportRowError, SessionDb, SessionDbError, Warnings};
use crate::schema::{self, Table};
use crate::store::ImportTx;
use crate::value::Value;

/// Session events that start (or resume) monitoring.
const START_EVENTS: &[&str] = &["start", "restart", "autorestart", "resume", "autostart"];
/// Session events that stop (or pause) monitoring.
const STOP_EVENTS: &[&str] = &["pause", "stop", "autostop", "suspend"];
/// `sessions.stop_event` of a session without any stop event: the client crashed.
pub const MISSING_STOP_EVENT: &str = "missing";

/// Client tables with a `timestamp` column, all of which bound the session's end.
const TIMESTAMPED_TABLES: &[&str] = &[
    "session",
    "sysinfo",
    "connectivity",
    "wifistats",
    "procs",
    "ports",
    "activity",
    "io",
    "http",
    "dns",
    "browseractivity",
    "powerstate",
    "netlabel",
    "esm",
    "esm_activity_tags",
    "esm_problem_tags",
    "esm_activity_qoe",
    "esm_activity_importance",
];

/// Counts and repairs of one session database import.
#[derive(Debug, Default, Clone)]
pub struct ImportStats {
    /// Rows written per output table, including `sessions` and newly seen `locations`.
    pub rows: BTreeMap<&'static str, u64>,
    /// Values that had to be repaired.
    pub warnings: Warnings,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub stop_event: String,
}

/// Identity of the file being imported, as the `sessions` row needs it.
#[derive(Debug, Clone, Copy)]
pub struct SessionContext {
    pub file_id: i64,
    pub device_id: i64,
    /// Session start encoded in the file name, used when the file has no start event.
    pub name_session_ms: Option<i64>,
}

struct SessionSummary {
    started_at: Option<i64>,
    start_event: String,
    ended_at: Option<i64>,
    stop_event: String,
}

/// Imports every table of `db` through `tx`. The caller commits or drops `tx`.
pub fn import_session(
    db: &SessionDb,
    tx: &mut dyn ImportTx,
    context: SessionContext,
) -> Result<ImportStats, ImportRowError> {
    let mut stats = ImportStats::default();
    let summary = summarize(db, context, &mut stats.warnings)?;
    let session_id = tx.insert_returning_id(
        &schema::SESSIONS,
        &[
            Value::Int(context.file_id),
            Value::Int(context.device_id),
            Value::time(summary.started_at),
            Value::time(summary.ended_at),
            Value::Text(summary.start_event.clone()),
            Value::Text(summary.stop_event.clone()),
        ],
    )?;
    stats.rows.insert(schema::SESSIONS.name, 1);
    stats.started_at = summary.started_at;
    stats.ended_at = summary.ended_at;
    stats.stop_event = summary.stop_event.clone();

    let mut importer = Importer {
        db,
        tx,
        session_id,
        session_end: summary.ended_at,
        stats,
    };
    let locations = importer.import_locations()?;
    let connections = importer.import_connections(&locations)?;
    let surveys = importer.import_surveys()?;
    importer.import_device_info()?;
    for mapping in SIMPLE_MAPPINGS {
        importer.import_simple(mapping)?;
    }
    importer.import_activities()?;
    importer.import_network_logs(&DNS_MAPPING, &connections)?;
    importer.import_network_logs(&HTTP_MAPPING, &connections)?;
    for mapping in SURVEY_CHILD_MAPPINGS {
        importer.import_survey_children(mapping, &surveys)?;
    }
    Ok(importer.stats)
}

/// Finds the session's start and stop events and the latest valid time in the file.
fn summarize(
    db: &SessionDb,
    context: SessionContext,
    warnings: &mut Warnings,
) -> Result<SessionSummary, ImportRowError> {
    let mut start: Option<(i64, String)> = None;
    let mut stop: Option<(i64, String)> = None;
    if db.has_table("session") {
        let sql = format!(
            "SELECT {}, {} FROM session ORDER BY rowid",
            db.column_expression("session", "timestamp"),
            db.column_expression("session", "event")
        );
        let mut converter = Converter { warnings };
        db.for_each_row("session", &sql, |row| {
            let time = converter.time(db.value_ref("session", row, 0)?, "session", "timestamp");
            let event = converter.text(db.value_ref("session", row, 1)?, "session", "event");
            let (Some(time), Some(event)) = (time, event) else {
                return Ok(());
            };
            let normalized = event.trim().to_lowercase();
            if START_EVENTS.contains(&normalized.as_str())
                && start.as_ref().is_none_or(|(t, _)| time < *t)
            {
                start = Some((time, normalized));
            } else if STOP_EVENTS.contains(&normalized.as_str())
                && stop.as_ref().is_none_or(|(t, _)| time >= *t)
            {
                stop = Some((time, normalized));
            }
            Ok(())
        })?;
    }

    let mut latest = stop.as_ref().map(|(time, _)| *time);
    for table in TIMESTAMPED_TABLES {
        if let Some(time) = db.max_time(table, "timestamp")? {
            latest = Some(latest.map_or(time, |current| current.max(time)));
        }
    }

    let (started_at, start_event) = match start {
        Some((time, event)) => (Some(time), event),
        None => (context.name_session_ms, MISSING_STOP_EVENT.to_owned()),
    };
    let stop_event = stop.map_or_else(|| MISSING_STOP_EVENT.to_owned(), |(_, event)| event);
    Ok(SessionSummary {
        started_at,
        start_event,
        ended_at: latest,
        stop_event,
    })
}

/// A client table copied column by column into an output table whose first column is
/// `session_id`.
struct SimpleMapping {
    source: &'static str,
    /// Source columns in the order of `target.columns[1..]`.
    columns: &'static [&'static str],
    target: &'static Table,
}

const SIMPLE_MAPPINGS: &[SimpleMapping] = &[
    SimpleMapping {
        source: "wifistats",
        columns: &[
            "guid",
            "tspeed",
            "rspeed",
            "signal",
            "rssi",
            "state",
            "timestamp",
        ],
        target: &schema::WIFI_STATS,
    },
    SimpleMapping {
        source: "procs",
        columns: &["pid", "name", "memory", "cpu", "timestamp"],
        target: &schema::PROCESSES,
    },
    SimpleMapping {
        source: "ports",
        columns: &[
            "pid",
            "name",
            "protocol",
            "srcip",
            "destip",
            "srcport",
            "destport",
            "state",
            "timestamp",
        ],
        target: &schema::PORTS,
    },
    SimpleMapping {
        source: "io",
        columns: &["device", "pid", "name", "timestamp"],
        target: &schema::IO,
    },
    SimpleMapping {
        source: "browseractivity",
        columns: &["timestamp", "browser", "location"],
        target: &schema::BROWSER_ACTIVITY,
    },
    SimpleMapping {
        source: "powerstate",
        columns: &["timestamp", "event", "value"],
        target: &schema::POWER_STATES,
    },
    SimpleMapping {
        source: "netlabel",
        columns: &["timestamp", "guid", "gateway", "label"],
        target: &schema::NETLABELS,
    },
];

/// A network log table: `session_id`, `connection_id`, then the source columns.
struct NetworkLogMapping {
    source: &'static str,
    columns: &'static [&'static str],
    target: &'static Table,
}

const DNS_MAPPING: NetworkLogMapping = NetworkLogMapping {
    source: "dns",
    columns: &[
        "type",
        "ip",
        "host",
        "protocol",
        "srcip",
        "destip",
        "srcport",
        "destport",
        "timestamp",
    ],
    target: &schema::DNS_LOGS,
};

const HTTP_MAPPING: NetworkLogMapping = NetworkLogMapping {
    source: "http",
    columns: &[
        "httpverb",
        "httpverbparam",
        "httpstatuscode",
        "httphost",
        "referer",
        "contenttype",
        "contentlength",
        "protocol",
        "srcip",
        "destip",
        "srcport",
        "destport",
        "timestamp",
    ],
    target: &schema::HTTP_LOGS,
};

/// A survey child table: `session_id`, `survey_id`, then the source columns, of which the first
/// is the timestamp shared with the survey.
struct SurveyChildMapping {
    source: &'static str,
    columns: &'static [&'static str],
    target: &'static Table,
}

const SURVEY_CHILD_MAPPINGS: &[SurveyChildMapping] = &[
    SurveyChildMapping {
        source: "esm_activity_tags",
        columns: &["timestamp", "appname", "description", "tags"],
        target: &schema::SURVEY_ACTIVITY_TAGS,
    },
    SurveyChildMapping {
        source: "esm_problem_tags",
        columns: &["timestamp", "appname", "description", "tags"],
        target: &schema::SURVEY_PROBLEM_TAGS,
    },
    SurveyChildMapping {
        source: "esm_activity_qoe",
        columns: &["timestamp", "appname", "description", "qoe"],
        target: &schema::SURVEY_ACTIVITY_QOE,
    },
    SurveyChildMapping {
        source: "esm_activity_importance",
        columns: &["timestamp", "appname", "description", "importance"],
        target: &schema::SURVEY_ACTIVITY_IMPORTANCE,
    },
];

/// Location ids keyed by the connection they belong to: (interface guid, connection start).
type LocationLinks = HashMap<(Option<String>, Option<i64>), i64>;

struct Importer<'a> {
    db: &'a SessionDb,
    tx: &'a mut dyn ImportTx,
    session_id: i64,
    session_end: Option<i64>,
    stats: ImportStats,
}

impl Importer<'_> {
    /// Builds `SELECT <columns>, <extra> FROM <table>`, reading missing columns as NULL.
    fn select(&self, table: &str, columns: &[&str], extra: &[String], order_by: &str) -> String {
        let mut expressions: Vec<String> = columns
            .iter()
            .map(|column| self.db.column_expression(table, column))
            .collect();
        expressions.extend(extra.iter().cloned());
        format!(
            "SELECT {} FROM \"{table}\" ORDER BY {order_by}",
            expressions.join(", ")
        )
    }

    fn count(&mut self, table: &'static Table, rows: u64) {
        *self.stats.rows.entry(table.name).or_insert(0) += rows;
    }

    /// Converts `columns.len()` values of `row` starting at `first_index` into `out`, typed by
    /// `target.columns[first_target..]`.
    #[allow(clippy::too_many_arguments)]
    fn convert_columns(
        db: &SessionDb,
        warnings: &mut Warnings,
        row: &rusqlite::Row<'_>,
        source: &str,
        columns: &[&str],
        target: &Table,
        first_target: usize,
        out: &mut Vec<Value>,
    ) -> Result<(), SessionDbError> {
        let mut converter = Converter { warnings };
        for (index, column) in columns.iter().enumerate() {
            let ty = target.columns[first_target + index].ty;
            let value = db.value_ref(source, row, index)?;
            out.push(converter.convert(value, ty, source, column));
        }
        Ok(())
    }

    fn import_locations(&mut self) -> Result<LocationLinks, ImportRowError> {
        const SOURCE: &str = "location";
        const COLUMNS: &[&str] = &[
            "public_ip",
            "reverse_dns",
            "asnumber",
            "asname",
            "countrycode",
            "city",
            "lat",
            "lon",
        ];
        let mut links = LocationLinks::new();
        if !self.db.has_table(SOURCE) {
            return Ok(links);
        }

        let extra = [
            self.db.column_expression(SOURCE, "guid"),
            self.db.column_expression(SOURCE, "connstart"),
        ];
        let sql = self.select(SOURCE, COLUMNS, &extra, "rowid");
        let mut seen: HashMap<String, i64> = HashMap::new();
        let mut new_locations = 0;
        let mut row_values = Vec::with_capacity(COLUMNS.len());
        let db = self.db;
        let tx = &mut *self.tx;
        let warnings = &mut self.stats.warnings;

        db.for_each_row(SOURCE, &sql, |row| {
            row_values.clear();
            Self::convert_columns(
                db,
                warnings,
                row,
                SOURCE,
                COLUMNS,
                &schema::LOCATIONS,
                0,
                &mut row_values,
            )?;
            let mut converter = Converter {
                warnings: &mut *warnings,
            };
            let guid = converter.text(db.value_ref(SOURCE, row, COLUMNS.len())?, SOURCE, "guid");
            let connection_start = converter.time(
                db.value_ref(SOURCE, row, COLUMNS.len() + 1)?,
                SOURCE,
                "connstart",
            );

            let fingerprint = crate::store::location_fingerprint(&row_values);
            let id = match seen.get(&fingerprint) {
                Some(id) => *id,
                None => {
                    let (id, inserted) = tx.location_id(&row_values)?;
                    seen.insert(fingerprint, id);
                    new_locations += u64::from(inserted);
                    id
                }
            };
            // A later row for the same connection wins: the client re-resolves the location.
            links.insert((guid, connection_start), id);
            Ok(())
        })?;

        self.count(&schema::LOCATIONS, new_locations);
        Ok(links)
    }

    /// Inserts one `connections` row per connectivity row with `connected = 1` and returns the
    /// connection ids by start time (the first connection wins when two start at once).
    fn import_connections(
        &mut self,
        locations: &LocationLinks,
    ) -> Result<HashMap<i64, i64>, ImportRowError> {
        const SOURCE: &str = "connectivity";
        const COLUMNS: &[&str] = &[
            "guid",
            "friendlyname",
            "description",
            "dnssuffix",
            "mac",
            "ips",
            "gateways",
            "dnses",
            "tspeed",
            "rspeed",
            "wireless",
            "profile",
            "ssid",
            "bssid",
            "bssidtype",
            "phytype",
            "phyindex",
            "channel",
        ];
        let mut by_start = HashMap::new();
        if !self.db.has_table(SOURCE) || !self.db.has_column(SOURCE, "connected") {
            return Ok(by_start);
        }
        let guid = self.db.column_expression(SOURCE, "guid");
        let timestamp = self.db.column_expression(SOURCE, "timestamp");
        // A connection ends at the next disconnect of the same interface (equal guid).
        let end = format!(
            "(SELECT min(d.{timestamp}) FROM connectivity AS d WHERE d.connected = 0 \
             AND d.{guid} IS c.{guid} AND (d.{timestamp} > c.{timestamp} \
             OR (d.{timestamp} = c.{timestamp} AND d.rowid > c.rowid)))"
        );
        let qualified: Vec<String> = COLUMNS
            .iter()
            .map(|column| {
                let expression = self.db.column_expression(SOURCE, column);
                if expression == "NULL" {
                    expression
                } else {
                    format!("c.{expression}")
                }
            })
            .collect();
        let sql = format!(
            "SELECT {}, c.{timestamp}, {end} FROM connectivity AS c WHERE c.connected = 1 \
             ORDER BY c.{timestamp}, c.rowid",
            qualified.join(", ")
        );
        let (db, session_id, session_end) = (self.db, self.session_id, self.session_end);
        let tx = &mut *self.tx;
        let warnings = &mut self.stats.warnings;
        let mut inserted = 0;
        let mut row_values = Vec::with_capacity(schema::CONNECTIONS.columns.len());
        db.for_each_row(SOURCE, &sql, |row| {
            let mut converter = Converter {
                warnings: &mut *warnings,
            };
            let started_at = converter.time(
                db.value_ref(SOURCE, row, COLUMNS.len())?,
                SOURCE,
                "timestamp",
            );
            let ended_at = converter
                .time(
                    db.value_ref(SOURCE, row, COLUMNS.len() + 1)?,
                    SOURCE,
                    "timestamp",
                )
                .or(session_end);
            let interface = converter.text(db.value_ref(SOURCE, row, 0)?, SOURCE, "guid");
            let location_id = locations.get(&(interface, started_at)).copied();

            row_values.clear();
            row_values.extend([
                Value::Int(session_id),
                Value::int(location_id),
                Value::time(started_at),
                Value::time(ended_at),
            ]);
            Self::convert_columns(
                db,
                warnings,
                row,
                SOURCE,
                COLUMNS,
                &schema::CONNECTIONS,
                4,
                &mut row_values,
            )?;
            let id = tx.insert_returning_id(&schema::CONNECTIONS, &row_values)?;
            if let Some(start) = started_at {
                by_start.entry(start).or_insert(id);
            }
            inserted += 1;
            Ok(())
        })?;
        self.count(&schema::CONNECTIONS, inserted);
        Ok(by_start)
    }

    /// Inserts the surveys and returns their ids by timestamp (the first survey wins).
    fn import_surveys(&mut self) -> Result<HashMap<i64, i64>, ImportRowError> {
        const SOURCE: &str = "esm";
        const COLUMNS: &[&str] = &["timestamp", "ondemand", "duration", "qoe_score"];
        let mut by_time = HashMap::new();
        if !self.db.has_table(SOURCE) {
            return Ok(by_time);
        }

        let sql = self.select(SOURCE, COLUMNS, &[], "rowid");
        let (db, session_id) = (self.db, self.session_id);
        let tx = &mut *self.tx;
        let warnings = &mut self.stats.warnings;
        let mut inserted = 0;
        let mut row_values = Vec::with_capacity(schema::SURVEYS.columns.len());

        db.for_each_row(SOURCE, &sql, |row| {
            row_values.clear();
            row_values.push(Value::Int(session_id));
            Self::convert_columns(
                db,
                warnings,
                row,
                SOURCE,
                COLUMNS,
                &schema::SURVEYS,
                1,
                &mut row_values,
            )?;

            // NOTE: the client documents neither field. `duration` looks like milliseconds (30 000
            // to 90 000 in real files) and `timestamp` is taken as the time the survey opened.
            let ended_at = match (&row_values[1], &row_values[3]) {
                (Value::Time(start), Value::Int(duration)) => start
                    .checked_add(*duration)
                    .and_then(crate::value::checked_epoch_ms),
                _ => None,
            };
            row_values.push(Value::time(ended_at));

            let id = tx.insert_returning_id(&schema::SURVEYS, &row_values)?;
            if let Value::Time(start) = row_values[1] {
                by_time.entry(start).or_insert(id);
            }
            inserted += 1;
            Ok(())
        })?;

        self.count(&schema::SURVEYS, inserted);
        Ok(by_time)
    }

    fn import_device_info(&mut self) -> Result<(), ImportRowError> {
        const SOURCE: &str = "sysinfo";
        const COLUMNS: &[&str] = &[
            "manufacturer",
            "product",
            "os",
            "cpu",
            "totalram",
            "totalhdd",
            "serial",
            "hostview_version",
            "settings_version",
            "timezone",
            "timezone_offset",
            "timestamp",
        ];
        /// Index of `timezone_offset` in the output row.
        const OFFSET_INDEX: usize = 11;
        self.copy_rows(
            SOURCE,
            COLUMNS,
            &[],
            "rowid",
            &schema::DEVICE_INFO,
            |values, _extra| {
                // The client writes the offset in minutes as an unsigned 32-bit number, so -60
                // arrives as 4294967236: reinterpret values of 2^31 and above as negative.
                if let Value::Int(offset) = values[OFFSET_INDEX]
                    && (1_i64 << 31..1_i64 << 32).contains(&offset)
                {
                    values[OFFSET_INDEX] = Value::Int(offset - (1_i64 << 32));
                }
            },
        )
    }

    fn import_simple(&mut self, mapping: &SimpleMapping) -> Result<(), ImportRowError> {
        self.copy_rows(
            mapping.source,
            mapping.columns,
            &[],
            "rowid",
            mapping.target,
            |_values, _extra| {},
        )
    }

    fn import_activities(&mut self) -> Result<(), ImportRowError> {
        const SOURCE: &str = "activity";
        const COLUMNS: &[&str] = &[
            "user",
            "pid",
            "name",
            "description",
            "fullscreen",
            "idle",
            "timestamp",
        ];
        let timestamp = self.db.column_expression(SOURCE, "timestamp");
        // Each activity lasts until the next one starts; the last one until the session ends.
        let next = format!("lead({timestamp}) OVER (ORDER BY {timestamp}, rowid)");
        let order = format!("{timestamp}, rowid");
        let session_end = self.session_end;
        self.copy_rows(
            SOURCE,
            COLUMNS,
            &[next],
            &order,
            &schema::ACTIVITIES,
            |values, extra| {
                let finished_at = match extra[0] {
                    Some(next) => crate::value::checked_epoch_ms(next),
                    None => session_end,
                };
                values.push(Value::time(finished_at));
            },
        )
    }

    fn import_network_logs(
        &mut self,
        mapping: &NetworkLogMapping,
        connections: &HashMap<i64, i64>,
    ) -> Result<(), ImportRowError> {
        let connection_start = self.db.column_expression(mapping.source, "connstart");
        self.copy_rows_with_prefix(
            mapping.source,
            mapping.columns,
            &[connection_start],
            "rowid",
            mapping.target,
            2,
            |values, extra| {
                // Link to the connection of this session that started at `connstart`, if any.
                let connection_id = extra[0].and_then(|start| connections.get(&start).copied());
                values[1] = Value::int(connection_id);
            },
        )
    }

    fn import_survey_children(
        &mut self,
        mapping: &SurveyChildMapping,
        surveys: &HashMap<i64, i64>,
    ) -> Result<(), ImportRowError> {
        self.copy_rows_with_prefix(
            mapping.source,
            mapping.columns,
            &[],
            "rowid",
            mapping.target,
            2,
            |values, _extra| {
                let survey_id = match values[2] {
                    Value::Time(time) => surveys.get(&time).copied(),
                    _ => None,
                };
                values[1] = Value::int(survey_id);
            },
        )
    }

    /// Streams `source` into `target`, whose first column is `session_id`.
    fn copy_rows(
        &mut self,
        source: &'static str,
        columns: &[&str],
        extra: &[String],
        order_by: &str,
        target: &'static Table,
        finish_row: impl FnMut(&mut Vec<Value>, &[Option<i64>]),
    ) -> Result<(), ImportRowError> {
        self.copy_rows_with_prefix(source, columns, extra, order_by, target, 1, finish_row)
    }

    /// Streams `source` into `target`.
    ///
    /// Each output row starts with `prefix` columns, `[session_id, NULL, …]`, followed by the
    /// converted `columns`. `finish_row` then receives the row and the integer values of the
    /// `extra` expressions, so it can fill the prefix or append trailing values.
    #[allow(clippy::too_many_arguments)]
    fn copy_rows_with_prefix(
        &mut self,
        source: &'static str,
        columns: &[&str],
        extra: &[String],
        order_by: &str,
        target: &'static Table,
        prefix: usize,
        mut finish_row: impl FnMut(&mut Vec<Value>, &[Option<i64>]),
    ) -> Result<(), ImportRowError> {
        if !self.db.has_table(source) {
            return Ok(());
        }
        let sql = self.select(source, columns, extra, order_by);
        let (db, session_id) = (self.db, self.session_id);
        let warnings = &mut self.stats.warnings;
        let mut sink = self.tx.copy_in(target)?;
        let mut row_values = Vec::with_capacity(target.columns.len());
        let mut extra_values = Vec::with_capacity(extra.len());
        db.for_each_row(source, &sql, |row| {
            row_values.clear();
            row_values.push(Value::Int(session_id));
            row_values.resize(prefix, Value::Null);
            Self::convert_columns(
                db,
                warnings,
                row,
                source,
                columns,
                target,
                prefix,
                &mut row_values,
            )?;
            extra_values.clear();
            for index in 0..extra.len() {
                let value = db.value_ref(source, row, columns.len() + index)?;
                extra_values.push(match value {
                    ValueRef::Integer(number) => Some(number),
                    _ => None,
                });
            }
            finish_row(&mut row_values, &extra_values);
            debug_assert_eq!(
                row_values.len(),
                target.columns.len(),
                "row width of {}",
                target.name
            );
            sink.write(&row_values)?;
            Ok(())
        })?;
        let rows = sink.finish()?;
        self.count(target, rows);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_mappings_match_target_widths() {
        for mapping in SIMPLE_MAPPINGS {
            assert_eq!(
                mapping.columns.len() + 1,
                mapping.target.columns.len(),
                "{}",
                mapping.target.name
            );
        }
        for mapping in [&DNS_MAPPING, &HTTP_MAPPING] {
            assert_eq!(
                mapping.columns.len() + 2,
                mapping.target.columns.len(),
                "{}",
                mapping.target.name
            );
        }
        for mapping in SURVEY_CHILD_MAPPINGS {
            assert_eq!(
                mapping.columns.len() + 2,
                mapping.target.columns.len(),
                "{}",
                mapping.target.name
            );
        }
    }
}
