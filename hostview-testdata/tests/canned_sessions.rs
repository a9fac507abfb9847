//! Checks that the canned sessions contain what their `Expected` and documentation state.

use std::path::Path;

use hostview_testdata::{
    ClientSchema, Expected, START_EVENTS, STOP_EVENTS, crashed_session, full_session,
    large_session, old_schema_session,
};
use rusqlite::{Connection, OpenFlags};

const T: i64 = 1_468_829_700_250;

fn open_read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn count(conn: &Connection, sql: &str) -> u64 {
    let rows: i64 = conn.query_row(sql, [], |row| row.get(0)).unwrap();
    u64::try_from(rows).unwrap()
}

fn table_names(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Asserts that the database contains exactly the tables, row counts and events of `expected`.
fn assert_matches_expected(path: &Path, expected: &Expected) {
    let conn = open_read_only(path);

    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    let mut expected_tables: Vec<String> = expected
        .source_rows
        .keys()
        .map(|table| table.to_string())
        .collect();
    expected_tables.sort();
    assert_eq!(table_names(&conn), expected_tables);

    for (table, rows) in &expected.source_rows {
        let actual = count(&conn, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(actual, *rows, "row count of {table}");
    }

    let mut statement = conn
        .prepare("SELECT timestamp, event FROM session ORDER BY rowid")
        .unwrap();
    let events: Vec<(i64, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let expected_events: Vec<(i64, String)> = expected
        .events
        .iter()
        .map(|&(timestamp, event)| (timestamp, event.to_string()))
        .collect();
    assert_eq!(events, expected_events);
}

/// Asserts that the `connectivity` rows back every expected connection: one `connected = 1`
/// row at its start, and the interface's first later `connected = 0` row at its end (or none).
fn assert_connections_backed(path: &Path, expected: &Expected) {
    let conn = open_read_only(path);
    let connected_rows = count(
        &conn,
        "SELECT count(*) FROM connectivity WHERE connected = 1",
    );
    assert_eq!(connected_rows, expected.connections.len() as u64);

    for connection in &expected.connections {
        let starts = count(
            &conn,
            &format!(
                "SELECT count(*) FROM connectivity WHERE guid = '{}' AND mac = '{}' \
                 AND connected = 1 AND timestamp = {}",
                connection.guid, connection.mac, connection.start_ms
            ),
        );
        assert_eq!(starts, 1, "start row of {connection:?}");

        let first_disconnect: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT min(timestamp) FROM connectivity WHERE guid = '{}' \
                     AND connected = 0 AND timestamp > {}",
                    connection.guid, connection.start_ms
                ),
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(first_disconnect, connection.end_ms, "end of {connection:?}");
    }
}

#[test]
fn full_session_counts_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");

    let expected = full_session(&path, T).unwrap();

    assert_matches_expected(&path, &expected);
    assert_connections_backed(&path, &expected);
    let tables: Vec<&str> = expected.source_rows.keys().copied().collect();
    let mut new_tables: Vec<&str> = ClientSchema::New.tables().collect();
    new_tables.sort();
    assert_eq!(tables, new_tables);
    for (table, rows) in &expected.source_rows {
        assert!(*rows > 0, "{table} is empty");
    }
    let kinds: Vec<&str> = expected.events.iter().map(|(_, event)| *event).collect();
    for kind in START_EVENTS.iter().chain(STOP_EVENTS) {
        assert!(kinds.contains(kind), "missing event {kind}");
    }
    assert_eq!(expected.events.len(), 10);
    assert_eq!(expected.start_ms, Some(T));
    assert_eq!(expected.stop_ms, Some(T + 3_600_000));
    assert_eq!(expected.last_data_ms, Some(T + 2_700_000));
}

#[test]
fn full_session_documented_counts() {
    let dir = tempfile::tempdir().unwrap();
    let expected = full_session(&dir.path().join("full.db"), T).unwrap();

    let documented = [
        ("session", 10),
        ("sysinfo", 1),
        ("connectivity", 5),
        ("wifistats", 4),
        ("procs", 6),
        ("ports", 6),
        ("activity", 4),
        ("io", 3),
        ("http", 3),
        ("dns", 5),
        ("location", 4),
        ("browseractivity", 2),
        ("powerstate", 4),
        ("netlabel", 2),
        ("esm", 2),
        ("esm_activity_tags", 3),
        ("esm_problem_tags", 2),
        ("esm_activity_qoe", 3),
        ("esm_activity_importance", 3),
    ];
    assert_eq!(expected.source_rows.len(), documented.len());
    for (table, rows) in documented {
        assert_eq!(
            expected.source_rows[table], rows,
            "documented count of {table}"
        );
    }
}

#[test]
fn full_session_connections() {
    let dir = tempfile::tempdir().unwrap();
    let expected = full_session(&dir.path().join("full.db"), T).unwrap();

    let summary: Vec<(&str, i64, Option<i64>)> = expected
        .connections
        .iter()
        .map(|connection| {
            (
                connection.guid,
                connection.start_ms - T,
                connection.end_ms.map(|end| end - T),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "{5B1D7C9A-2E4F-4A6B-8C3D-1F0E9A7B6C52}",
                2_000,
                Some(1_190_000)
            ),
            ("{0D8E3B61-7A2C-4F95-B4E1-6C3A9F2D5E70}", 5_000, None),
            ("{5B1D7C9A-2E4F-4A6B-8C3D-1F0E9A7B6C52}", 1_502_000, None),
        ]
    );
}

/// Returns SQL that counts the rows of the 4 survey child tables with timestamp `survey_ms`.
fn survey_children_sql(survey_ms: i64) -> String {
    let counts: Vec<String> = [
        "esm_activity_tags",
        "esm_problem_tags",
        "esm_activity_qoe",
        "esm_activity_importance",
    ]
    .iter()
    .map(|table| format!("(SELECT count(*) FROM {table} WHERE timestamp = {survey_ms})"))
    .collect();
    format!("SELECT {}", counts.join(" + "))
}

#[test]
fn full_session_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    full_session(&path, T).unwrap();
    let conn = open_read_only(&path);

    let orphan = T + 777;
    let never_connected = "SELECT count(*) FROM connectivity c WHERE connected = 0 \
        AND NOT EXISTS (SELECT 1 FROM connectivity p \
        WHERE p.guid = c.guid AND p.connected = 1 AND p.timestamp < c.timestamp)";
    let checks: Vec<(&str, String, u64)> = vec![
        (
            "zone suffix in ips",
            r"SELECT count(*) FROM connectivity WHERE ips LIKE '%fe80::%\%14%' ESCAPE '\'".into(),
            3,
        ),
        (
            "IPv4-mapped in ips",
            "SELECT count(*) FROM connectivity WHERE ips LIKE '%::ffff:10.1.2.3%'".into(),
            2,
        ),
        (
            "empty list item",
            "SELECT count(*) FROM connectivity WHERE ips LIKE '%,,%'".into(),
            2,
        ),
        (
            "space after comma",
            "SELECT count(*) FROM connectivity WHERE ips LIKE '%, %'".into(),
            2,
        ),
        (
            "unparsable gateway",
            "SELECT count(*) FROM connectivity WHERE gateways LIKE '%not-an-address%'".into(),
            1,
        ),
        ("never-connected adapter", never_connected.into(), 1),
        (
            "IPv4-mapped in ports",
            "SELECT count(*) FROM ports WHERE srcip = '::ffff:10.20.30.41'".into(),
            1,
        ),
        (
            "zone suffix in ports",
            "SELECT count(*) FROM ports WHERE srcip = 'fe80::1c2b:3d4e:5f60:7182%14'".into(),
            1,
        ),
        (
            "unparsable destip",
            "SELECT count(*) FROM ports WHERE destip = '999.0.0.1'".into(),
            1,
        ),
        (
            "empty destip",
            "SELECT count(*) FROM ports WHERE destip = ''".into(),
            2,
        ),
        (
            "CNAME with host name",
            "SELECT count(*) FROM dns WHERE type = 5 AND ip = 'cdn.example.net'".into(),
            1,
        ),
        (
            "orphan dns",
            format!("SELECT count(*) FROM dns WHERE connstart = {orphan}"),
            1,
        ),
        (
            "orphan http",
            format!("SELECT count(*) FROM http WHERE connstart = {orphan}"),
            1,
        ),
        (
            "distinct locations",
            "SELECT count(*) FROM (SELECT DISTINCT * FROM location)".into(),
            3,
        ),
        (
            "timezone offset",
            "SELECT count(*) FROM sysinfo WHERE timezone_offset = 4294967236".into(),
            1,
        ),
        (
            "NULL qoe score",
            "SELECT count(*) FROM esm WHERE qoe_score IS NULL".into(),
            1,
        ),
        (
            "children of first survey",
            survey_children_sql(T + 900_000),
            7,
        ),
        (
            "children of second survey",
            survey_children_sql(T + 2_700_000),
            4,
        ),
        (
            "tags with empty items",
            "SELECT count(*) FROM esm_activity_tags WHERE tags = 'browsing, work,,'".into(),
            1,
        ),
        (
            "empty activity description",
            "SELECT count(*) FROM activity WHERE description = ''".into(),
            1,
        ),
        (
            "empty browser location",
            "SELECT count(*) FROM browseractivity WHERE location = ''".into(),
            1,
        ),
        (
            "empty netlabel",
            "SELECT count(*) FROM netlabel WHERE label = ''".into(),
            1,
        ),
    ];
    for (case, sql, rows) in checks {
        assert_eq!(count(&conn, &sql), rows, "{case}");
    }
}

#[test]
fn full_session_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.db");
    let second = dir.path().join("second.db");

    full_session(&first, T).unwrap();
    full_session(&second, T).unwrap();

    assert!(
        std::fs::read(&first).unwrap() == std::fs::read(&second).unwrap(),
        "two runs wrote different bytes"
    );
}

#[test]
fn crashed_session_has_no_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crashed.db");

    let expected = crashed_session(&path, T).unwrap();

    assert_matches_expected(&path, &expected);
    assert_connections_backed(&path, &expected);
    assert_eq!(expected.events, vec![(T, "start")]);
    assert_eq!(expected.start_ms, Some(T));
    assert_eq!(expected.stop_ms, None);
    assert_eq!(expected.last_data_ms, Some(T + 900_000));
    assert_eq!(expected.connections.len(), 1);
    assert_eq!(expected.connections[0].start_ms, T + 2_000);
    assert_eq!(expected.connections[0].end_ms, None);
    for table in ["netlabel", "esm", "esm_activity_tags", "esm_problem_tags"] {
        assert_eq!(expected.source_rows[table], 0, "{table}");
    }
    let documented = [
        ("session", 1),
        ("sysinfo", 1),
        ("connectivity", 1),
        ("wifistats", 2),
        ("procs", 4),
        ("ports", 2),
        ("activity", 2),
        ("io", 1),
        ("http", 1),
        ("dns", 2),
        ("location", 1),
        ("browseractivity", 1),
        ("powerstate", 2),
    ];
    for (table, rows) in documented {
        assert_eq!(
            expected.source_rows[table], rows,
            "documented count of {table}"
        );
    }
}

#[test]
fn old_schema_session_lacks_new_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");

    let expected = old_schema_session(&path, T).unwrap();

    assert_matches_expected(&path, &expected);
    assert_connections_backed(&path, &expected);
    assert!(!expected.source_rows.contains_key("esm_activity_qoe"));
    assert!(!expected.source_rows.contains_key("esm_activity_importance"));
    assert_eq!(expected.source_rows.len(), 17);
    let events: Vec<&str> = expected.events.iter().map(|(_, event)| *event).collect();
    assert_eq!(events, vec!["autostart", "suspend", "resume", "autostop"]);
    assert_eq!(expected.start_ms, Some(T));
    assert_eq!(expected.stop_ms, Some(T + 2_400_000));
    let ends: Vec<Option<i64>> = expected.connections.iter().map(|c| c.end_ms).collect();
    assert_eq!(ends, vec![Some(T + 1_190_000), None]);

    let conn = open_read_only(&path);
    let offset: i64 = conn
        .query_row("SELECT timezone_offset FROM sysinfo", [], |row| row.get(0))
        .unwrap();
    assert_eq!(offset, 4_294_967_176);
    let documented = [
        ("session", 4),
        ("sysinfo", 1),
        ("connectivity", 3),
        ("wifistats", 0),
        ("procs", 3),
        ("ports", 2),
        ("activity", 2),
        ("io", 1),
        ("http", 1),
        ("dns", 2),
        ("location", 2),
        ("browseractivity", 0),
        ("powerstate", 2),
        ("netlabel", 1),
        ("esm", 1),
        ("esm_activity_tags", 1),
        ("esm_problem_tags", 1),
    ];
    for (table, rows) in documented {
        assert_eq!(
            expected.source_rows[table], rows,
            "documented count of {table}"
        );
    }
}

#[test]
fn large_session_counts_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.db");

    let expected = large_session(&path, T, 1_050, 730).unwrap();

    assert_matches_expected(&path, &expected);
    assert_connections_backed(&path, &expected);
    assert_eq!(expected.source_rows["procs"], 1_050);
    assert_eq!(expected.source_rows["ports"], 730);
    assert_eq!(expected.source_rows["session"], 2);
    assert_eq!(expected.source_rows["dns"], 0);
    // 11 snapshots (0..=10) of procs, the last at T+2 000 + 10 × 5 000, then the stop event
    // one interval later.
    assert_eq!(expected.last_data_ms, Some(T + 2_000 + 10 * 5_000));
    assert_eq!(expected.stop_ms, Some(T + 2_000 + 11 * 5_000));

    let conn = open_read_only(&path);
    let last_procs: i64 = conn
        .query_row("SELECT max(timestamp) FROM procs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(last_procs, T + 2_000 + 10 * 5_000);
    let per_snapshot = count(
        &conn,
        &format!("SELECT count(*) FROM procs WHERE timestamp = {}", T + 2_000),
    );
    assert_eq!(per_snapshot, 100);
}

#[test]
fn large_session_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.db");

    let expected = large_session(&path, T, 0, 0).unwrap();

    assert_matches_expected(&path, &expected);
    assert_eq!(expected.source_rows["procs"], 0);
    assert_eq!(expected.stop_ms, Some(T + 2_000));
    assert_eq!(expected.last_data_ms, Some(T + 1_000));
}
