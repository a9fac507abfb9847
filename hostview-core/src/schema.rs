//! Output tables that the session import writes, with their columns in write order.
//!
//! The SQL in `migrations/` creates these tables. This module lists the columns that the stores
//! fill, so that `COPY` and `INSERT` statements are built from one definition, and an end-to-end
//! test checks that every listed column exists in both migrations.

/// SQL type of an output column, which also decides how a client value is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `smallint`: flags such as `wireless` or `idle`.
    SmallInt,
    /// `integer`.
    Int,
    /// `bigint`, also used for row ids.
    BigInt,
    /// `double precision`.
    Float,
    /// `text`.
    Text,
    /// `timestamptz` in PostgreSQL, ISO-8601 UTC text in SQLite; the client writes epoch ms.
    Time,
    /// `inet` in PostgreSQL, text in SQLite; only valid addresses are stored.
    Inet,
    /// `text[]` in PostgreSQL, a JSON array in SQLite; the client writes a comma-separated list.
    TextArray,
}

impl ColumnType {
    /// Returns the PostgreSQL type name used to cast a text parameter.
    pub fn pg_name(self) -> &'static str {
        match self {
            ColumnType::SmallInt => "smallint",
            ColumnType::Int => "integer",
            ColumnType::BigInt => "bigint",
            ColumnType::Float => "double precision",
            ColumnType::Text => "text",
            ColumnType::Time => "timestamptz",
            ColumnType::Inet => "inet",
            ColumnType::TextArray => "text[]",
        }
    }

    /// Returns the inclusive integer range that the column accepts, for integer columns.
    pub fn integer_range(self) -> Option<(i64, i64)> {
        match self {
            ColumnType::SmallInt => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
            ColumnType::Int => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
            ColumnType::BigInt => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }
}

/// One output column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

/// One output table and the columns that an import writes, in order.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    /// Returns the comma-separated column list for SQL statements.
    pub fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|column| column.name).collect();
        names.join(", ")
    }
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

use ColumnType::{BigInt, Float, Inet, Int, SmallInt, Text, TextArray, Time};

pub static SESSIONS: Table = Table {
    name: "sessions",
    columns: &[
        col("file_id", BigInt),
        col("device_id", BigInt),
        col("started_at", Time),
        col("ended_at", Time),
        col("start_event", Text),
        col("stop_event", Text),
    ],
};

pub static DEVICE_INFO: Table = Table {
    name: "device_info",
    columns: &[
        col("session_id", BigInt),
        col("manufacturer", Text),
        col("product", Text),
        col("operating_system", Text),
        col("cpu", Text),
        col("memory_installed", BigInt),
        col("hdd_capacity", BigInt),
        col("serial_number", Text),
        col("hostview_version", Text),
        col("settings_version", Text),
        col("timezone", Text),
        col("timezone_offset", BigInt),
        col("logged_at", Time),
    ],
};

pub static LOCATIONS: Table = Table {
    name: "locations",
    columns: &[
        col("public_ip", Text),
        col("reverse_dns", Text),
        col("asn_number", Text),
        col("asn_name", Text),
        col("country_code", Text),
        col("city", Text),
        col("latitude", Text),
        col("longitude", Text),
    ],
};

pub static CONNECTIONS: Table = Table {
    name: "connections",
    columns: &[
        col("session_id", BigInt),
        col("location_id", BigInt),
        col("started_at", Time),
        col("ended_at", Time),
        col("guid", Text),
        col("friendly_name", Text),
        col("description", Text),
        col("dns_suffix", Text),
        col("mac", Text),
        col("ips", TextArray),
        col("gateways", TextArray),
        col("dnses", TextArray),
        col("t_speed", BigInt),
        col("r_speed", BigInt),
        col("wireless", SmallInt),
        col("profile", Text),
        col("ssid", Text),
        col("bssid", Text),
        col("bssid_type", Text),
        col("phy_type", Text),
        col("phy_index", Int),
        col("channel", Int),
    ],
};

pub static WIFI_STATS: Table = Table {
    name: "wifi_stats",
    columns: &[
        col("session_id", BigInt),
        col("guid", Text),
        col("t_speed", BigInt),
        col("r_speed", BigInt),
        col("signal", Int),
        col("rssi", Int),
        col("state", Int),
        col("logged_at", Time),
    ],
};

pub static PROCESSES: Table = Table {
    name: "processes",
    columns: &[
        col("session_id", BigInt),
        col("pid", Int),
        col("name", Text),
        col("memory", BigInt),
        col("cpu", Float),
        col("logged_at", Time),
    ],
};

pub static PORTS: Table = Table {
    name: "ports",
    columns: &[
        col("session_id", BigInt),
        col("pid", Int),
        col("name", Text),
        col("protocol", Int),
        col("source_ip", Inet),
        col("destination_ip", Inet),
        col("source_port", Int),
        col("destination_port", Int),
        col("state", Int),
        col("logged_at", Time),
    ],
};

pub static ACTIVITIES: Table = Table {
    name: "activities",
    columns: &[
        col("session_id", BigInt),
        col("user_name", Text),
        col("pid", Int),
        col("name", Text),
        col("description", Text),
        col("fullscreen", SmallInt),
        col("idle", SmallInt),
        col("logged_at", Time),
        col("finished_at", Time),
    ],
};

pub static IO: Table = Table {
    name: "io",
    columns: &[
        col("session_id", BigInt),
        col("device", Int),
        col("pid", Int),
        col("name", Text),
        col("logged_at", Time),
    ],
};

pub static DNS_LOGS: Table = Table {
    name: "dns_logs",
    columns: &[
        col("session_id", BigInt),
        col("connection_id", BigInt),
        col("type", Int),
        col("ip", Text),
        col("host", Text),
        col("protocol", Int),
        col("source_ip", Inet),
        col("destination_ip", Inet),
        col("source_port", Int),
        col("destination_port", Int),
        col("logged_at", Time),
    ],
};

pub static HTTP_LOGS: Table = Table {
    name: "http_logs",
    columns: &[
        col("session_id", BigInt),
        col("connection_id", BigInt),
        col("http_verb", Text),
        col("http_verb_param", Text),
        col("http_status_code", Text),
        col("http_host", Text),
        col("referer", Text),
        col("content_type", Text),
        col("content_length", Text),
        col("protocol", Int),
        col("source_ip", Inet),
        col("destination_ip", Inet),
        col("source_port", Int),
        col("destination_port", Int),
        col("logged_at", Time),
    ],
};

pub static BROWSER_ACTIVITY: Table = Table {
    name: "browser_activity",
    columns: &[
        col("session_id", BigInt),
        col("logged_at", Time),
        col("browser", Text),
        col("location", Text),
    ],
};

pub static POWER_STATES: Table = Table {
    name: "power_states",
    columns: &[
        col("session_id", BigInt),
        col("logged_at", Time),
        col("event", Text),
        col("value", Int),
    ],
};

pub static NETLABELS: Table = Table {
    name: "netlabels",
    columns: &[
        col("session_id", BigInt),
        col("logged_at", Time),
        col("guid", Text),
        col("gateway", Text),
        col("label", Text),
    ],
};

pub static SURVEYS: Table = Table {
    name: "surveys",
    columns: &[
        col("session_id", BigInt),
        col("started_at", Time),
        col("ondemand", SmallInt),
        col("duration", Int),
        col("qoe_score", SmallInt),
        col("ended_at", Time),
    ],
};

pub static SURVEY_ACTIVITY_TAGS: Table = Table {
    name: "survey_activity_tags",
    columns: &[
        col("session_id", BigInt),
        col("survey_id", BigInt),
        col("logged_at", Time),
        col("process_name", Text),
        col("process_desc", Text),
        col("tags", TextArray),
    ],
};

pub static SURVEY_PROBLEM_TAGS: Table = Table {
    name: "survey_problem_tags",
    columns: &[
        col("session_id", BigInt),
        col("survey_id", BigInt),
        col("logged_at", Time),
        col("process_name", Text),
        col("process_desc", Text),
        col("tags", TextArray),
    ],
};

pub static SURVEY_ACTIVITY_QOE: Table = Table {
    name: "survey_activity_qoe",
    columns: &[
        col("session_id", BigInt),
        col("survey_id", BigInt),
        col("logged_at", Time),
        col("process_name", Text),
        col("process_desc", Text),
        col("qoe", Text),
    ],
};

pub static SURVEY_ACTIVITY_IMPORTANCE: Table = Table {
    name: "survey_activity_importance",
    columns: &[
        col("session_id", BigInt),
        col("survey_id", BigInt),
        col("logged_at", Time),
        col("process_name", Text),
        col("process_desc", Text),
        col("importance", Text),
    ],
};

/// Every table that a session database import writes rows to, in foreign-key order.
pub static SESSION_TABLES: [&Table; 19] = [
    &SESSIONS,
    &DEVICE_INFO,
    &LOCATIONS,
    &CONNECTIONS,
    &WIFI_STATS,
    &PROCESSES,
    &PORTS,
    &ACTIVITIES,
    &IO,
    &DNS_LOGS,
    &HTTP_LOGS,
    &BROWSER_ACTIVITY,
    &POWER_STATES,
    &NETLABELS,
    &SURVEYS,
    &SURVEY_ACTIVITY_TAGS,
    &SURVEY_PROBLEM_TAGS,
    &SURVEY_ACTIVITY_QOE,
    &SURVEY_ACTIVITY_IMPORTANCE,
];
