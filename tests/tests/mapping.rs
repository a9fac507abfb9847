//! Mapping of generated session databases onto the research tables, checked on both backends.
//!
//! Each case writes a canned session with `hostview-testdata`, runs batch mode, and compares the
//! output rows with what the generator documents about its input.

use anyhow::Result;
use hostview_e2e::{Backend, TestEnv};
use hostview_testdata::{
    Expected, crashed_session, full_session, old_schema_session, upload_path, write_7z,
};

const DEVICE: &str = "MAPPING-0000-4000-8000-000000000001";
/// 2016-07-18T08:15:00.250Z.
const T: i64 = 1_468_829_700_250;

/// Writes a session database with `write` as a 7z upload of `DEVICE` and imports it.
fn import_one(
    backend: Backend,
    session_ms: i64,
    write: fn(&std::path::Path, i64) -> Result<Expected>,
) -> Result<(TestEnv, Expected)> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = work.path().join(format!("{session_ms}_stats.db"));
    let expected = write(&db, session_ms)?;
    let upload = upload_path(
        &env.incoming(),
        DEVICE,
        "2.1.3",
        session_ms,
        &format!("{session_ms}_stats.db.zip"),
    )?;
    write_7z(&db, &upload, &format!("{session_ms}_stats.db"))?;

    let summary = env.run_batch(1)?;

    assert!(summary.failed.is_empty(), "failures: {:?}", summary.failed);
    assert_eq!(summary.imported, 1);
    Ok((env, expected))
}

fn strings(env: &TestEnv, sql: &str) -> Vec<Vec<Option<String>>> {
    env.query(sql)
        .unwrap_or_else(|error| panic!("{sql}: {error:#}"))
}

fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn check_full_session_counts(backend: Backend) -> Result<()> {
    let (env, expected) = import_one(backend, T, full_session)?;
    let source = &expected.source_rows;

    // One output row per source row, except: one session row per file, connections only for
    // connected = 1 rows, and locations deduplicated.
    let per_table = [
        ("device_info", source["sysinfo"]),
        ("wifi_stats", source["wifistats"]),
        ("processes", source["procs"]),
        ("ports", source["ports"]),
        ("activities", source["activity"]),
        ("io", source["io"]),
        ("dns_logs", source["dns"]),
        ("http_logs", source["http"]),
        ("browser_activity", source["browseractivity"]),
        ("power_states", source["powerstate"]),
        ("netlabels", source["netlabel"]),
        ("surveys", source["esm"]),
        ("survey_activity_tags", source["esm_activity_tags"]),
        ("survey_problem_tags", source["esm_problem_tags"]),
        ("survey_activity_qoe", source["esm_activity_qoe"]),
        (
            "survey_activity_importance",
            source["esm_activity_importance"],
        ),
    ];
    for (table, count) in per_table {
        assert_eq!(env.count(table)? as u64, count, "rows in {table}");
    }
    assert_eq!(env.count("sessions")?, 1);
    assert_eq!(
        env.count("connections")? as usize,
        expected.connections.len()
    );
    assert_eq!(
        env.count("locations")?,
        3,
        "4 location rows, one an exact duplicate"
    );
    assert_eq!(env.count("devices")?, 1);
    assert_eq!(env.count("files")?, 1);
    Ok(())
}

#[test]
fn full_session_counts_sqlite() -> Result<()> {
    check_full_session_counts(Backend::Sqlite)
}

#[test]
fn full_session_counts_postgres() -> Result<()> {
    check_full_session_counts(Backend::Postgres)
}

fn check_session_row(backend: Backend) -> Result<()> {
    let (env, expected) = import_one(backend, T, full_session)?;
    let sql = format!(
        "SELECT {}, {}, start_event, stop_event FROM sessions",
        env.epoch_ms("started_at"),
        env.epoch_ms("ended_at")
    );
    let rows = strings(&env, &sql);

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], Some(T.to_string()), "earliest start event");
    assert_eq!(expected.stop_ms, Some(T + 3_600_000));
    assert_eq!(
        rows[0][1],
        Some((T + 3_600_000).to_string()),
        "latest stop event"
    );
    assert_eq!(rows[0][2], text("start"));
    assert_eq!(rows[0][3], text("stop"));
    Ok(())
}

#[test]
fn session_row_events_sqlite() -> Result<()> {
    check_session_row(Backend::Sqlite)
}

#[test]
fn session_row_events_postgres() -> Result<()> {
    check_session_row(Backend::Postgres)
}

fn check_crashed_session(backend: Backend) -> Result<()> {
    let session_ms = T + 86_400_000;
    let (env, expected) = import_one(backend, session_ms, crashed_session)?;
    let sql = format!(
        "SELECT {}, stop_event FROM sessions",
        env.epoch_ms("ended_at")
    );
    let rows = strings(&env, &sql);

    assert_eq!(expected.stop_ms, None);
    let last_data = expected.last_data_ms.expect("the crashed session has data");
    assert_eq!(
        rows[0][0],
        Some(last_data.to_string()),
        "a crashed session ends at its last data"
    );
    assert_eq!(rows[0][1], text("missing"));
    // The connection that never disconnected ends with the session.
    let ends = strings(
        &env,
        &format!("SELECT {} FROM connections", env.epoch_ms("ended_at")),
    );
    for end in ends {
        assert_eq!(end[0], Some(last_data.to_string()));
    }
    Ok(())
}

#[test]
fn crashed_session_ends_at_last_data_sqlite() -> Result<()> {
    check_crashed_session(Backend::Sqlite)
}

#[test]
fn crashed_session_ends_at_last_data_postgres() -> Result<()> {
    check_crashed_session(Backend::Postgres)
}

fn check_old_schema(backend: Backend) -> Result<()> {
    let session_ms = T + 2 * 86_400_000;
    let (env, expected) = import_one(backend, session_ms, old_schema_session)?;

    assert!(!expected.source_rows.contains_key("esm_activity_qoe"));
    assert_eq!(env.count("survey_activity_qoe")?, 0);
    assert_eq!(env.count("survey_activity_importance")?, 0);
    assert_eq!(
        env.count("processes")? as u64,
        expected.source_rows["procs"]
    );
    assert_eq!(env.count("surveys")? as u64, expected.source_rows["esm"]);
    Ok(())
}

#[test]
fn old_schema_without_new_tables_sqlite() -> Result<()> {
    check_old_schema(Backend::Sqlite)
}

#[test]
fn old_schema_without_new_tables_postgres() -> Result<()> {
    check_old_schema(Backend::Postgres)
}

fn check_connections(backend: Backend) -> Result<()> {
    let (env, expected) = import_one(backend, T, full_session)?;
    let sql = format!(
        "SELECT guid, {}, {}, {}, {}, {}, l.public_ip FROM connections c \
         LEFT JOIN locations l ON l.id = c.location_id ORDER BY c.started_at",
        env.epoch_ms("c.started_at"),
        env.epoch_ms("c.ended_at"),
        env.joined_array("c.ips"),
        env.joined_array("c.gateways"),
        env.joined_array("c.dnses"),
    );
    let rows = strings(&env, &sql);
    let session_end = T + 3_600_000;

    assert_eq!(rows.len(), expected.connections.len());
    for (row, connection) in rows.iter().zip(&expected.connections) {
        assert_eq!(row[0].as_deref(), Some(connection.guid));
        assert_eq!(row[1], Some(connection.start_ms.to_string()));
        assert_eq!(
            row[2],
            Some(connection.end_ms.unwrap_or(session_end).to_string()),
            "end of {}",
            connection.start_ms
        );
    }
    // Lists are split on commas, trimmed, and empty items dropped; the text is kept as written.
    assert_eq!(
        rows[0][3],
        text("fe80::1c2b:3d4e:5f60:7182%14,10.20.30.41,::ffff:10.1.2.3")
    );
    assert_eq!(rows[0][5], text("10.20.30.1,2001:db8:53::1"));
    assert_eq!(rows[2][4], text("10.20.30.1,not-an-address"));
    // Each connection links to the location reported for it.
    assert_eq!(rows[0][6], text("198.51.100.17"));
    assert_eq!(rows[1][6], text("203.0.113.5"));
    assert_eq!(rows[2][6], text("198.51.100.23"));
    Ok(())
}

#[test]
fn connections_pair_and_link_sqlite() -> Result<()> {
    check_connections(Backend::Sqlite)
}

#[test]
fn connections_pair_and_link_postgres() -> Result<()> {
    check_connections(Backend::Postgres)
}

fn check_network_logs(backend: Backend) -> Result<()> {
    let (env, _expected) = import_one(backend, T, full_session)?;
    let dns = strings(
        &env,
        &format!(
            "SELECT d.type, d.ip, {} FROM dns_logs d LEFT JOIN connections c ON c.id = d.connection_id \
             ORDER BY d.logged_at",
            env.epoch_ms("c.started_at")
        ),
    );
    let http = strings(
        &env,
        &format!(
            "SELECT h.http_status_code, {} FROM http_logs h LEFT JOIN connections c ON c.id = h.connection_id \
             ORDER BY h.logged_at",
            env.epoch_ms("c.started_at")
        ),
    );

    assert_eq!(dns.len(), 5);
    assert_eq!(dns[0][2], Some((T + 2_000).to_string()));
    assert_eq!(dns[1][0], text("5"));
    assert_eq!(
        dns[1][1],
        text("cdn.example.net"),
        "a CNAME keeps its host name in ip"
    );
    assert_eq!(dns[3][2], Some((T + 5_000).to_string()));
    assert_eq!(
        dns[4][2], None,
        "connstart matching no connection gives a null link"
    );
    assert_eq!(http.len(), 3);
    assert_eq!(http[0][1], Some((T + 2_000).to_string()));
    assert_eq!(http[2][0], text("201"));
    assert_eq!(http[2][1], None);
    // Every network log row keeps its session even without a connection.
    assert_eq!(
        env.query_i64("SELECT count(*) FROM dns_logs WHERE session_id IS NULL")?,
        0
    );
    Ok(())
}

#[test]
fn network_logs_link_connections_sqlite() -> Result<()> {
    check_network_logs(Backend::Sqlite)
}

#[test]
fn network_logs_link_connections_postgres() -> Result<()> {
    check_network_logs(Backend::Postgres)
}

fn check_addresses(backend: Backend) -> Result<()> {
    let (env, _expected) = import_one(backend, T, full_session)?;
    let sql = format!(
        "SELECT {}, {} FROM ports ORDER BY logged_at, source_port",
        env.address("source_ip"),
        env.address("destination_ip")
    );
    let rows = strings(&env, &sql);

    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[1],
        vec![text("0.0.0.0"), None],
        "empty destination is null"
    );
    assert_eq!(
        rows[0],
        vec![text("fe80::1c2b:3d4e:5f60:7182"), None],
        "zone suffix dropped"
    );
    assert_eq!(rows[2], vec![text("10.20.30.41"), text("198.18.7.20")]);
    assert_eq!(
        rows[3],
        vec![text("10.20.30.41"), text("198.18.7.21")],
        "IPv4-mapped becomes IPv4"
    );
    assert_eq!(
        rows[4],
        vec![text("10.20.30.41"), None],
        "unparsable address is null"
    );
    assert_eq!(
        rows[5],
        vec![text("2001:db8:31::77"), text("2001:db8:5::10")]
    );
    Ok(())
}

#[test]
fn inet_columns_hold_valid_addresses_sqlite() -> Result<()> {
    check_addresses(Backend::Sqlite)
}

#[test]
fn inet_columns_hold_valid_addresses_postgres() -> Result<()> {
    check_addresses(Backend::Postgres)
}

fn check_activities_and_device_info(backend: Backend) -> Result<()> {
    let (env, _expected) = import_one(backend, T, full_session)?;
    let activities = strings(
        &env,
        &format!(
            "SELECT {}, {} FROM activities ORDER BY logged_at",
            env.epoch_ms("logged_at"),
            env.epoch_ms("finished_at")
        ),
    );
    let device = strings(
        &env,
        "SELECT timezone_offset, settings_version, memory_installed FROM device_info",
    );

    let starts = [2_500, 120_000, 300_000, 900_000];
    assert_eq!(activities.len(), starts.len());
    for (index, row) in activities.iter().enumerate() {
        assert_eq!(row[0], Some((T + starts[index]).to_string()));
        let end = starts.get(index + 1).map_or(T + 3_600_000, |next| T + next);
        assert_eq!(
            row[1],
            Some(end.to_string()),
            "activity {index} ends when the next starts"
        );
    }
    assert_eq!(
        device[0][0],
        text("-60"),
        "unsigned 32-bit offset corrected"
    );
    assert_eq!(device[0][1], text("7"));
    assert_eq!(device[0][2], text("17062584320"));
    Ok(())
}

#[test]
fn activities_and_device_info_sqlite() -> Result<()> {
    check_activities_and_device_info(Backend::Sqlite)
}

#[test]
fn activities_and_device_info_postgres() -> Result<()> {
    check_activities_and_device_info(Backend::Postgres)
}

fn check_surveys(backend: Backend) -> Result<()> {
    let (env, _expected) = import_one(backend, T, full_session)?;
    let surveys = strings(
        &env,
        &format!(
            "SELECT id, {}, qoe_score FROM surveys ORDER BY started_at",
            env.epoch_ms("started_at")
        ),
    );
    let per_survey = |table: &str| -> Vec<Vec<Option<String>>> {
        strings(
            &env,
            &format!(
                "SELECT survey_id, count(*) FROM {table} GROUP BY survey_id ORDER BY survey_id"
            ),
        )
    };

    assert_eq!(surveys.len(), 2);
    assert_eq!(surveys[0][1], Some((T + 900_000).to_string()));
    assert_eq!(surveys[0][2], text("4"));
    assert_eq!(
        surveys[1][2], None,
        "a survey without a score keeps a null score"
    );
    let (first, second) = (surveys[0][0].clone(), surveys[1][0].clone());
    for (table, counts) in [
        ("survey_activity_tags", [2, 1]),
        ("survey_problem_tags", [1, 1]),
        ("survey_activity_qoe", [2, 1]),
        ("survey_activity_importance", [2, 1]),
    ] {
        let grouped = per_survey(table);
        assert_eq!(
            grouped,
            vec![
                vec![first.clone(), Some(counts[0].to_string())],
                vec![second.clone(), Some(counts[1].to_string())]
            ],
            "{table}"
        );
    }
    let tags = strings(
        &env,
        &format!(
            "SELECT {} FROM survey_activity_tags ORDER BY id",
            env.joined_array("tags")
        ),
    );
    assert!(
        tags.iter()
            .any(|row| row[0].as_deref() == Some("browsing,work")),
        "tags: {tags:?}"
    );
    Ok(())
}

#[test]
fn surveys_link_children_by_time_sqlite() -> Result<()> {
    check_surveys(Backend::Sqlite)
}

#[test]
fn surveys_link_children_by_time_postgres() -> Result<()> {
    check_surveys(Backend::Postgres)
}

fn check_locations_dedup_across_files(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    for (index, session_ms) in [T, T + 86_400_000].into_iter().enumerate() {
        let db = work.path().join(format!("{index}.db"));
        full_session(&db, session_ms)?;
        let upload = upload_path(
            &env.incoming(),
            DEVICE,
            "2.1.3",
            session_ms,
            &format!("{session_ms}_stats.db"),
        )?;
        std::fs::copy(&db, &upload)?;
    }

    let summary = env.run_batch(2)?;

    assert_eq!(summary.imported, 2);
    assert_eq!(
        env.count("locations")?,
        3,
        "identical locations of two sessions are stored once"
    );
    assert_eq!(env.count("connections")?, 6);
    assert_eq!(
        env.query_i64("SELECT count(DISTINCT location_id) FROM connections")?,
        3
    );
    Ok(())
}

#[test]
fn locations_shared_between_files_sqlite() -> Result<()> {
    check_locations_dedup_across_files(Backend::Sqlite)
}

#[test]
fn locations_shared_between_files_postgres() -> Result<()> {
    check_locations_dedup_across_files(Backend::Postgres)
}
