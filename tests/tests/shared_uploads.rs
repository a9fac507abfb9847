//! Batch mode over the real uploads in `../shared/data/uploads`, when that folder exists.
//!
//! Expected row counts come from the source databases themselves, counted with plain SQL on a
//! decompressed copy, so the test checks that every source row arrives per the mapping rules.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result};
use hostview_core::archive::{ExtractLimits, extract_upload};
use hostview_e2e::{Backend, TestEnv, copy_tree, shared_uploads};

/// Output table and the SQL that counts its expected rows in one source database.
const ONE_TO_ONE: &[(&str, &str)] = &[
    ("device_info", "sysinfo"),
    ("wifi_stats", "wifistats"),
    ("processes", "procs"),
    ("ports", "ports"),
    ("activities", "activity"),
    ("io", "io"),
    ("dns_logs", "dns"),
    ("http_logs", "http"),
    ("browser_activity", "browseractivity"),
    ("power_states", "powerstate"),
    ("netlabels", "netlabel"),
    ("surveys", "esm"),
    ("survey_activity_tags", "esm_activity_tags"),
    ("survey_problem_tags", "esm_problem_tags"),
    ("survey_activity_qoe", "esm_activity_qoe"),
    ("survey_activity_importance", "esm_activity_importance"),
];

/// Counts the rows that the session databases under `incoming` should produce.
fn expected_counts(incoming: &Path) -> Result<BTreeMap<&'static str, i64>> {
    let mut counts: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut distinct_locations = HashSet::new();
    for entry in walkdir::WalkDir::new(incoming) {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().is_file() || !name.contains("_stats.db") {
            continue;
        }
        let extracted = extract_upload(entry.path(), "source.db", &ExtractLimits::default(), None)?;
        let db = rusqlite::Connection::open(&extracted.main)?;
        let has_table = |table: &str| -> Result<bool> {
            Ok(db.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                [table],
                |row| row.get::<_, i64>(0),
            )? > 0)
        };
        *counts.entry("sessions").or_insert(0) += 1;
        for (output, source) in ONE_TO_ONE {
            let rows = if has_table(source)? {
                db.query_row(&format!("SELECT count(*) FROM {source}"), [], |row| {
                    row.get::<_, i64>(0)
                })?
            } else {
                0
            };
            *counts.entry(output).or_insert(0) += rows;
        }
        let connected: i64 = db.query_row(
            "SELECT count(*) FROM connectivity WHERE connected = 1",
            [],
            |row| row.get(0),
        )?;
        *counts.entry("connections").or_insert(0) += connected;
        let mut statement = db.prepare(
            "SELECT DISTINCT public_ip, reverse_dns, asnumber, asname, countryCode, city, lat, lon FROM location",
        )?;
        let rows = statement.query_map([], |row| {
            (0..8)
                .map(|index| row.get::<_, Option<String>>(index))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        for row in rows {
            distinct_locations.insert(row?);
        }
    }
    counts.insert("locations", distinct_locations.len() as i64);
    Ok(counts)
}

fn check_shared_uploads(backend: Backend, test: &str) -> Result<()> {
    let Some(uploads) = shared_uploads(test) else {
        return Ok(());
    };
    let env = TestEnv::new(backend)?;
    copy_tree(&uploads.join("incoming"), &env.incoming()).context("copying the real uploads")?;
    let expected = expected_counts(&env.incoming())?;

    let first = env.run_batch(2)?;

    assert!(first.failed.is_empty(), "failures: {:?}", first.failed);
    assert_eq!(first.imported as i64, expected["sessions"]);
    for (table, count) in &expected {
        assert_eq!(env.count(table)?, *count, "rows in {table}");
    }
    // The anonymized real session of device D001: its 129,943 source rows minus the two
    // `session` rows that become one `sessions` row.
    let big_file = env.query_i64(
        "SELECT count(*) FROM processes p JOIN sessions s ON s.id = p.session_id \
         JOIN files f ON f.id = s.file_id WHERE f.basename = '1468852623282_stats.db.zip'",
    )?;
    assert_eq!(big_file, 61_012);
    assert_eq!(env.count("files")?, expected["sessions"]);
    assert_eq!(
        env.query_i64("SELECT count(*) FROM files WHERE status <> 'success'")?,
        0
    );

    // A second run over the same uploads imports nothing twice.
    copy_tree(&uploads.join("incoming"), &env.incoming())?;
    let second = env.run_batch(2)?;

    assert_eq!(second.imported, 0);
    assert_eq!(second.already_imported as i64, expected["sessions"]);
    for (table, count) in &expected {
        assert_eq!(
            env.count(table)?,
            *count,
            "rows in {table} after the second run"
        );
    }
    Ok(())
}

#[test]
fn shared_uploads_import_exactly_sqlite() -> Result<()> {
    check_shared_uploads(Backend::Sqlite, "shared_uploads_import_exactly_sqlite")
}

#[test]
fn shared_uploads_import_exactly_postgres() -> Result<()> {
    check_shared_uploads(Backend::Postgres, "shared_uploads_import_exactly_postgres")
}
