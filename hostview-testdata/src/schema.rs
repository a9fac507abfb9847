//! Client database schema: the tables a Hostview client creates in every session database.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::Connection;

/// Client version whose tables a generated session database contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientSchema {
    /// Older clients: no `esm_activity_qoe` and no `esm_activity_importance` table.
    Old,
    /// Newer clients: every table in [`TABLES`].
    New,
}

impl ClientSchema {
    /// Returns the names of the tables this client version creates, in creation order.
    pub fn tables(self) -> impl Iterator<Item = &'static str> {
        TABLES
            .iter()
            .filter(move |table| self == ClientSchema::New || !table.new_schema_only)
            .map(|table| table.name)
    }
}

/// One client table: its name and the `CREATE TABLE` statement the client runs.
#[derive(Debug, Clone, Copy)]
pub struct ClientTable {
    /// Table name as the client spells it.
    pub name: &'static str,
    /// `CREATE TABLE` statement with the client's column declarations.
    pub ddl: &'static str,
    /// Whether only newer clients create this table.
    pub new_schema_only: bool,
}

/// Every client table, in the order that real client databases list them in `sqlite_master`.
///
/// The column names, order and declared types follow session databases uploaded by real
/// clients. SQLite only uses the declared types for column affinity, so `VARCHAR(n)` limits are
/// not enforced.
pub const TABLES: &[ClientTable] = &[
    ClientTable {
        name: "connectivity",
        ddl: "CREATE TABLE connectivity(guid VARCHAR(260), friendlyname VARCHAR(260), \
              description VARCHAR(260), dnssuffix VARCHAR(260), mac VARCHAR(64), \
              ips VARCHAR(300), gateways VARCHAR(300), dnses VARCHAR(300), tspeed INT8, \
              rspeed INT8, wireless TINYINT, profile VARCHAR(64), ssid VARCHAR(64), \
              bssid VARCHAR(64), bssidtype VARCHAR(20), phytype VARCHAR(20), phyindex INTEGER, \
              channel INTEGER, connected TINYINT, timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "wifistats",
        ddl: "CREATE TABLE wifistats(guid VARCHAR(260), tspeed INT8, rspeed INT8, signal INTEGER, \
              rssi INTEGER, state INTEGER, timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "procs",
        ddl: "CREATE TABLE procs(pid INTEGER, name VARCHAR(260), memory INTEGER, cpu DOUBLE, \
              timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "ports",
        ddl: "CREATE TABLE ports(pid INTEGER, name VARCHAR(260), protocol INTEGER, \
              srcip VARCHAR(42), destip VARCHAR(42), srcport INTEGER, destport INTEGER, \
              state INTEGER, timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "activity",
        ddl: "CREATE TABLE activity(user VARCHAR(260), pid INTEGER, name VARCHAR(260), \
              description VARCHAR(260), fullscreen TINYINT, idle TINYINT, timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "io",
        ddl: "CREATE TABLE io(device INTEGER, pid INTEGER, name VARCHAR(260), timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "http",
        ddl: "CREATE TABLE http(connstart INT8, httpverb VARCHAR(64), httpverbparam VARCHAR(300), \
              httpstatuscode VARCHAR(64), httphost VARCHAR(300), referer VARCHAR(300), \
              contenttype VARCHAR(300), contentlength VARCHAR(300), protocol INTEGER, \
              srcip VARCHAR(42), destip VARCHAR(42), srcport INTEGER, destport INTEGER, \
              timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "dns",
        ddl: "CREATE TABLE dns(connstart INT8, type INTEGER, ip VARCHAR(42), host VARCHAR(260), \
              protocol INTEGER, srcip VARCHAR(42), destip VARCHAR(42), srcport INTEGER, \
              destport INTEGER, timestamp INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "location",
        ddl: "CREATE TABLE location(guid VARCHAR(260), public_ip VARCHAR(100), \
              reverse_dns VARCHAR(100), asnumber VARCHAR(100), asname VARCHAR(100), \
              countryCode VARCHAR(100), city VARCHAR(100), lat VARCHAR(100), lon VARCHAR(100), \
              connstart INT8)",
        new_schema_only: false,
    },
    ClientTable {
        name: "browseractivity",
        ddl: "CREATE TABLE browseractivity(timestamp INT8, browser VARCHAR(1024), \
              location VARCHAR(1024))",
        new_schema_only: false,
    },
    ClientTable {
        name: "session",
        ddl: "CREATE TABLE session(timestamp INT8, event VARCHAR(32))",
        new_schema_only: false,
    },
    ClientTable {
        name: "sysinfo",
        ddl: "CREATE TABLE sysinfo(timestamp INT8, manufacturer VARCHAR(32), product VARCHAR(32), \
              os VARCHAR(32), cpu VARCHAR(32), totalRAM INTEGER, totalHDD INTEGER, \
              serial VARCHAR(32), hostview_version VARCHAR(32), settings_version INTEGER, \
              timezone VARCHAR(32), timezone_offset INTEGER)",
        new_schema_only: false,
    },
    ClientTable {
        name: "powerstate",
        ddl: "CREATE TABLE powerstate(timestamp INT8, event VARCHAR(32), value INT)",
        new_schema_only: false,
    },
    ClientTable {
        name: "netlabel",
        ddl: "CREATE TABLE netlabel(timestamp INT8, guid VARCHAR(260), gateway VARCHAR(64), \
              label VARCHAR(260))",
        new_schema_only: false,
    },
    ClientTable {
        name: "esm",
        ddl: "CREATE TABLE esm(timestamp INT8, ondemand TINYINT, duration INT8, qoe_score INTEGER)",
        new_schema_only: false,
    },
    ClientTable {
        name: "esm_activity_tags",
        ddl: "CREATE TABLE esm_activity_tags(timestamp INT8, appname VARCHAR(260), \
              description VARCHAR(260), tags VARCHAR(1024))",
        new_schema_only: false,
    },
    ClientTable {
        name: "esm_problem_tags",
        ddl: "CREATE TABLE esm_problem_tags(timestamp INT8, appname VARCHAR(260), \
              description VARCHAR(260), tags VARCHAR(1024))",
        new_schema_only: false,
    },
    ClientTable {
        name: "esm_activity_qoe",
        ddl: "CREATE TABLE esm_activity_qoe(timestamp INT8, appname VARCHAR(260), \
              description VARCHAR(260), qoe VARCHAR(260))",
        new_schema_only: true,
    },
    ClientTable {
        name: "esm_activity_importance",
        ddl: "CREATE TABLE esm_activity_importance(timestamp INT8, appname VARCHAR(260), \
              description VARCHAR(260), importance VARCHAR(260))",
        new_schema_only: true,
    },
];

/// SQLite page size of client databases. Clients use SQLite's pre-3.12 default of 1024 bytes,
/// which also keeps the small example databases small.
const CLIENT_PAGE_SIZE: u32 = 1024;

/// Creates a new session database at `path` with the empty tables of `schema`.
///
/// Fails if `path` already exists, so a test never appends to a stale database. The returned
/// connection uses the rollback journal (`journal_mode=DELETE`) as clients do. Call
/// [`finish_session_db`] when done writing, to get byte-for-byte reproducible files.
pub fn create_session_db(path: &Path, schema: ClientSchema) -> Result<Connection> {
    if path.exists() {
        bail!(
            "session database {} already exists; remove it or pick another path",
            path.display()
        );
    }

    let conn = Connection::open(path)
        .with_context(|| format!("failed to create session database {}", path.display()))?;
    // The page size only takes effect before the first table is created.
    conn.pragma_update(None, "page_size", CLIENT_PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;

    let tx = conn.unchecked_transaction()?;
    for table in TABLES {
        if schema == ClientSchema::New || !table.new_schema_only {
            tx.execute_batch(table.ddl)
                .with_context(|| format!("failed to create client table {}", table.name))?;
        }
    }
    tx.commit()?;
    Ok(conn)
}

/// Rewrites the database compactly with `VACUUM` and closes it.
///
/// After `VACUUM`, the file content depends only on the rows inserted and their order, so two
/// runs that insert the same rows produce identical files with the same SQLite version.
pub fn finish_session_db(conn: Connection) -> Result<()> {
    conn.execute_batch("VACUUM")
        .context("failed to vacuum session database")?;
    conn.close()
        .map_err(|(_, error)| error)
        .context("failed to close session database")?;
    Ok(())
}

/// Drops one client table, to simulate a client version that lacks it.
///
/// Rejects names that are not client tables, so a typo fails the test instead of passing
/// silently.
pub fn drop_table(conn: &Connection, table: &str) -> Result<()> {
    if !TABLES.iter().any(|known| known.name == table) {
        bail!("cannot drop {table:?}: not a client table");
    }
    conn.execute_batch(&format!("DROP TABLE \"{table}\""))
        .with_context(|| format!("failed to drop table {table}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_names(conn: &Connection) -> Vec<String> {
        let mut statement = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn new_schema_creates_all_tables() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::New).unwrap();

        let names = table_names(&conn);
        let expected: Vec<&str> = TABLES.iter().map(|table| table.name).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn old_schema_lacks_newer_esm_tables() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::Old).unwrap();

        let names = table_names(&conn);
        assert_eq!(names.len(), 17);
        assert!(!names.iter().any(|name| name == "esm_activity_qoe"));
        assert!(!names.iter().any(|name| name == "esm_activity_importance"));
        assert_eq!(names, ClientSchema::Old.tables().collect::<Vec<_>>());
    }

    #[test]
    fn column_declarations_match_client() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::New).unwrap();

        let declared = |table: &str| -> Vec<(String, String)> {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT name, type FROM pragma_table_info('{table}')"
                ))
                .unwrap();
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(name, kind)| (name.to_string(), kind.to_string()))
                .collect()
        };

        assert_eq!(
            declared("sysinfo"),
            pairs(&[
                ("timestamp", "INT8"),
                ("manufacturer", "VARCHAR(32)"),
                ("product", "VARCHAR(32)"),
                ("os", "VARCHAR(32)"),
                ("cpu", "VARCHAR(32)"),
                ("totalRAM", "INTEGER"),
                ("totalHDD", "INTEGER"),
                ("serial", "VARCHAR(32)"),
                ("hostview_version", "VARCHAR(32)"),
                ("settings_version", "INTEGER"),
                ("timezone", "VARCHAR(32)"),
                ("timezone_offset", "INTEGER"),
            ])
        );
        assert_eq!(
            declared("ports"),
            pairs(&[
                ("pid", "INTEGER"),
                ("name", "VARCHAR(260)"),
                ("protocol", "INTEGER"),
                ("srcip", "VARCHAR(42)"),
                ("destip", "VARCHAR(42)"),
                ("srcport", "INTEGER"),
                ("destport", "INTEGER"),
                ("state", "INTEGER"),
                ("timestamp", "INT8"),
            ])
        );
        assert_eq!(declared("connectivity").len(), 20);
        assert_eq!(declared("http").len(), 14);
        assert_eq!(declared("location").len(), 10);
        assert_eq!(
            declared("powerstate"),
            pairs(&[
                ("timestamp", "INT8"),
                ("event", "VARCHAR(32)"),
                ("value", "INT")
            ])
        );
    }

    #[test]
    fn create_session_db_rejects_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        std::fs::write(&path, b"").unwrap();

        let error = create_session_db(&path, ClientSchema::New).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
    }

    #[test]
    fn client_page_size_and_journal() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::New).unwrap();

        let page_size: u32 = conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        let journal: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(page_size, 1024);
        assert_eq!(journal, "delete");
    }

    #[test]
    fn drop_table_removes_client_table() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::New).unwrap();

        drop_table(&conn, "netlabel").unwrap();
        assert!(!table_names(&conn).iter().any(|name| name == "netlabel"));
    }

    #[test]
    fn drop_table_rejects_unknown_name() {
        let dir = tempfile::tempdir().unwrap();
        let conn = create_session_db(&dir.path().join("s.db"), ClientSchema::New).unwrap();

        let error = drop_table(&conn, "sqlite_master; --").unwrap_err();
        assert!(error.to_string().contains("not a client table"), "{error}");
    }
}
