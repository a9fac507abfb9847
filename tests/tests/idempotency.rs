//! Processing the same uploads more than once, concurrently, or before they settle, on both
//! backends.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use hostview_core::schema::SESSION_TABLES;
use hostview_e2e::{Backend, TestEnv};
use hostview_jobs::batch::run_batch;
use hostview_jobs::retry::RetryPolicy;
use hostview_testdata::{bad, crashed_session, full_session, upload_path, write_7z};

const DEVICE: &str = "IDEMPOTENT-0000-4000-8000-000000000001";
const OTHER_DEVICE: &str = "IDEMPOTENT-0000-4000-8000-000000000002";
const VERSION: &str = "2.1.3";
/// 2016-07-18T08:15:00.250Z, ISO week 2016-W29.
const T: i64 = 1_468_829_700_250;

fn db_name(session_ms: i64) -> String {
    format!("{session_ms}_stats.db")
}

fn upload_name(session_ms: i64) -> String {
    format!("{session_ms}_stats.db.zip")
}

/// Writes `full_session` at `session_ms` as a 7z upload of `device` and returns its path.
fn write_full_upload(env: &TestEnv, work: &Path, device: &str, session_ms: i64) -> Result<PathBuf> {
    let db = work.join(format!("{device}-{}", db_name(session_ms)));
    full_session(&db, session_ms)?;
    let path = upload_path(
        &env.incoming(),
        device,
        VERSION,
        session_ms,
        &upload_name(session_ms),
    )?;
    write_7z(&db, &path, &db_name(session_ms))?;
    Ok(path)
}

/// Returns the path below `processed/` that an upload at `path` below `incoming/` moves to.
fn processed_path(env: &TestEnv, path: &Path) -> PathBuf {
    let relative = path
        .strip_prefix(env.incoming())
        .expect("upload is below incoming");
    env.data_dir().join("processed").join(relative)
}

/// Returns `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Returns the row count of every output table that an import writes, plus files and devices.
fn row_counts(env: &TestEnv) -> Result<Vec<(&'static str, i64)>> {
    let tables = SESSION_TABLES
        .iter()
        .map(|table| table.name)
        .chain(["files", "devices"]);
    tables.map(|table| Ok((table, env.count(table)?))).collect()
}

/// Returns the single text value that `sql` selects.
fn single_text(env: &TestEnv, sql: &str) -> Result<String> {
    let rows = env.query(sql)?;
    assert_eq!(rows.len(), 1, "rows from {sql}");
    rows[0][0]
        .clone()
        .with_context(|| format!("NULL from {sql}"))
}

fn check_same_file_twice(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let path = write_full_upload(&env, work.path(), DEVICE, T)?;
    let bytes = std::fs::read(&path)?;

    let first = env.run_batch(1)?;
    assert_eq!(first.imported, 1);
    let counts = row_counts(&env)?;
    let sha256 = single_text(&env, "SELECT sha256 FROM files")?;

    std::fs::create_dir_all(path.parent().context("upload has no folder")?)?;
    std::fs::write(&path, &bytes)?;
    let second = env.run_batch(1)?;

    assert_eq!(second.already_imported, 1);
    assert_eq!(second.imported, 0);
    assert!(second.failed.is_empty(), "failed: {:?}", second.failed);
    assert!(second.unmoved.is_empty(), "unmoved: {:?}", second.unmoved);
    assert_eq!(row_counts(&env)?, counts, "row counts changed");
    assert_eq!(single_text(&env, "SELECT sha256 FROM files")?, sha256);
    assert_eq!(single_text(&env, "SELECT status FROM files")?, "success");
    assert!(!path.exists(), "upload is still in incoming");
    let processed = processed_path(&env, &path);
    assert_eq!(std::fs::read(&processed)?, bytes);
    assert!(
        !with_suffix(&processed, ".1").exists(),
        "an identical copy replaces the processed file"
    );
    Ok(())
}

#[test]
fn same_file_twice_sqlite() -> Result<()> {
    check_same_file_twice(Backend::Sqlite)
}

#[test]
fn same_file_twice_postgres() -> Result<()> {
    check_same_file_twice(Backend::Postgres)
}

fn check_same_name_new_content(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let path = write_full_upload(&env, work.path(), DEVICE, T)?;
    let first_bytes = std::fs::read(&path)?;

    let first = env.run_batch(1)?;
    assert_eq!(first.imported, 1);
    let old_sha256 = single_text(&env, "SELECT sha256 FROM files")?;

    // A crashed session under the same name has other rows and no stop event.
    let crashed_db = work.path().join("crashed.db");
    let crashed = crashed_session(&crashed_db, T)?;
    std::fs::create_dir_all(path.parent().context("upload has no folder")?)?;
    write_7z(&crashed_db, &path, &db_name(T))?;
    let second_bytes = std::fs::read(&path)?;

    let second = env.run_batch(1)?;

    assert_eq!(second.imported, 1);
    assert_eq!(second.already_imported, 0);
    assert!(second.failed.is_empty(), "failed: {:?}", second.failed);
    assert_eq!(env.count("sessions")?, 1);
    assert_eq!(env.count("files")?, 1);
    assert_eq!(
        single_text(&env, "SELECT stop_event FROM sessions")?,
        "missing"
    );
    assert_ne!(single_text(&env, "SELECT sha256 FROM files")?, old_sha256);
    assert_eq!(single_text(&env, "SELECT status FROM files")?, "success");
    for (table, source) in [
        ("processes", "procs"),
        ("ports", "ports"),
        ("activities", "activity"),
        ("dns_logs", "dns"),
        ("wifi_stats", "wifistats"),
    ] {
        assert_eq!(
            env.count(table)? as u64,
            crashed.source_rows[source],
            "rows in {table}"
        );
    }
    for table in ["netlabels", "surveys", "survey_activity_tags"] {
        assert_eq!(env.count(table)?, 0, "rows of the old session in {table}");
    }
    assert_eq!(
        env.count("connections")? as usize,
        crashed.connections.len()
    );
    // SQLite may give the new session the id of the deleted one, so the check is that every
    // row belongs to the single remaining session.
    for table in SESSION_TABLES.iter().skip(1) {
        if !table
            .columns
            .iter()
            .any(|column| column.name == "session_id")
        {
            continue;
        }
        assert_eq!(
            env.query_i64(&format!(
                "SELECT count(*) FROM {} WHERE session_id NOT IN (SELECT id FROM sessions)",
                table.name
            ))?,
            0,
            "rows of a deleted session in {}",
            table.name
        );
    }

    // The earlier upload keeps its name in processed/, and the new one gets the next free name.
    let processed = processed_path(&env, &path);
    assert_eq!(std::fs::read(&processed)?, first_bytes);
    assert_eq!(std::fs::read(with_suffix(&processed, ".1"))?, second_bytes);
    Ok(())
}

#[test]
fn same_name_new_content_sqlite() -> Result<()> {
    check_same_name_new_content(Backend::Sqlite)
}

#[test]
fn same_name_new_content_postgres() -> Result<()> {
    check_same_name_new_content(Backend::Postgres)
}

/// Writes a text file that is not a database as the upload of `DEVICE` at `T` and returns its path.
fn write_not_a_database_upload(env: &TestEnv, work: &Path) -> Result<PathBuf> {
    let text = work.join("not-a-database.db");
    bad::not_a_database(&text)?;
    let path = upload_path(&env.incoming(), DEVICE, VERSION, T, &upload_name(T))?;
    write_7z(&text, &path, &db_name(T))?;
    Ok(path)
}

fn check_failed_then_fixed(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    write_not_a_database_upload(&env, work.path())?;
    let first = env.run_batch(1)?;
    assert_eq!(first.failed.len(), 1);
    assert_eq!(single_text(&env, "SELECT status FROM files")?, "failed");

    let path = write_full_upload(&env, work.path(), DEVICE, T)?;
    let second = env.run_batch(1)?;

    assert!(second.failed.is_empty(), "failed: {:?}", second.failed);
    assert_eq!(second.imported, 1);
    assert_eq!(env.count("files")?, 1);
    assert_eq!(env.count("sessions")?, 1);
    let rows = env.query("SELECT status, error_info FROM files")?;
    assert_eq!(rows[0][0].as_deref(), Some("success"));
    assert_eq!(
        rows[0][1], None,
        "error_info of the earlier failure is cleared"
    );
    assert!(processed_path(&env, &path).is_file());
    Ok(())
}

#[test]
fn failed_then_fixed_sqlite() -> Result<()> {
    check_failed_then_fixed(Backend::Sqlite)
}

#[test]
fn failed_then_fixed_postgres() -> Result<()> {
    check_failed_then_fixed(Backend::Postgres)
}

fn check_failed_replacement_keeps_rows(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    write_full_upload(&env, work.path(), DEVICE, T)?;
    let first = env.run_batch(1)?;
    assert_eq!(first.imported, 1);
    let counts = row_counts(&env)?;

    write_not_a_database_upload(&env, work.path())?;
    let second = env.run_batch(1)?;

    assert_eq!(second.failed.len(), 1, "failed: {:?}", second.failed);
    assert_eq!(second.imported, 0);
    // The earlier import's rows stay, so its files row keeps saying 'success' and only
    // error_info reports the failed upload.
    let files = env.query("SELECT status, error_info FROM files")?;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0][0].as_deref(), Some("success"));
    let error_info = files[0][1].clone().unwrap_or_default();
    assert!(
        error_info.starts_with("a later upload of this name failed"),
        "{error_info}"
    );
    let after: Vec<_> = row_counts(&env)?
        .into_iter()
        .filter(|(table, _)| *table != "files")
        .collect();
    let before: Vec<_> = counts
        .into_iter()
        .filter(|(table, _)| *table != "files")
        .collect();
    assert_eq!(after, before, "rows of the earlier import changed");
    Ok(())
}

#[test]
fn failed_replacement_keeps_rows_sqlite() -> Result<()> {
    check_failed_replacement_keeps_rows(Backend::Sqlite)
}

#[test]
fn failed_replacement_keeps_rows_postgres() -> Result<()> {
    check_failed_replacement_keeps_rows(Backend::Postgres)
}

/// Files of one device that [`check_concurrent_new_device`] processes at once.
const CONCURRENT_FILES: i64 = 8;

fn check_concurrent_new_device(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    for index in 0..CONCURRENT_FILES {
        write_full_upload(&env, work.path(), DEVICE, T + index * 86_400_000)?;
    }

    let summary = env.run_batch(4)?;

    assert!(summary.failed.is_empty(), "failed: {:?}", summary.failed);
    assert!(summary.unmoved.is_empty(), "unmoved: {:?}", summary.unmoved);
    assert_eq!(summary.imported, CONCURRENT_FILES as u64);
    assert_eq!(env.count("devices")?, 1);
    assert_eq!(env.count("sessions")?, CONCURRENT_FILES);
    assert_eq!(env.count("files")?, CONCURRENT_FILES);
    assert_eq!(
        env.count("locations")?,
        3,
        "identical locations of all files are stored once"
    );
    Ok(())
}

#[test]
fn concurrent_new_device_sqlite() -> Result<()> {
    check_concurrent_new_device(Backend::Sqlite)
}

#[test]
fn concurrent_new_device_postgres() -> Result<()> {
    check_concurrent_new_device(Backend::Postgres)
}

fn check_same_name_two_devices(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    write_full_upload(&env, work.path(), DEVICE, T)?;
    write_full_upload(&env, work.path(), OTHER_DEVICE, T)?;

    let summary = env.run_batch(2)?;

    assert!(summary.failed.is_empty(), "failed: {:?}", summary.failed);
    assert_eq!(summary.imported, 2);
    assert_eq!(summary.already_imported, 0);
    assert_eq!(env.count("devices")?, 2);
    assert_eq!(env.count("files")?, 2);
    assert_eq!(
        env.query_i64(&format!(
            "SELECT count(DISTINCT device_id) FROM files WHERE basename = '{}'",
            upload_name(T)
        ))?,
        2
    );
    assert_eq!(env.count("sessions")?, 2);
    assert_eq!(
        env.query_i64("SELECT count(DISTINCT device_id) FROM sessions")?,
        2
    );
    Ok(())
}

#[test]
fn same_name_two_devices_sqlite() -> Result<()> {
    check_same_name_two_devices(Backend::Sqlite)
}

#[test]
fn same_name_two_devices_postgres() -> Result<()> {
    check_same_name_two_devices(Backend::Postgres)
}

/// Writes a file of kind "other" (no session rows) and returns its path.
fn write_other_file(env: &TestEnv) -> Result<PathBuf> {
    let path = upload_path(&env.incoming(), DEVICE, VERSION, T, "hostview.log")?;
    std::fs::write(&path, "client log\n")?;
    Ok(path)
}

fn check_other_file_twice(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let path = write_other_file(&env)?;

    let first = env.run_batch(1)?;
    assert_eq!(first.recorded, 1);
    write_other_file(&env)?;
    let second = env.run_batch(1)?;

    assert!(second.failed.is_empty(), "failed: {:?}", second.failed);
    assert_eq!(second.already_imported, 1);
    assert_eq!(second.recorded, 0);
    assert_eq!(env.count("files")?, 1);
    assert_eq!(single_text(&env, "SELECT kind FROM files")?, "other");
    assert_eq!(single_text(&env, "SELECT status FROM files")?, "success");
    assert!(processed_path(&env, &path).is_file());
    Ok(())
}

#[test]
fn other_file_twice_sqlite() -> Result<()> {
    check_other_file_twice(Backend::Sqlite)
}

#[test]
fn other_file_twice_postgres() -> Result<()> {
    check_other_file_twice(Backend::Postgres)
}

/// Minimum age of a file before it is read in [`check_unsettled_file_retried`].
const SETTLE_TIME: Duration = Duration::from_millis(300);

fn check_unsettled_file_retried(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let path = write_full_upload(&env, work.path(), DEVICE, T)?;
    let mut config = env.batch_config(1);
    config.process.settle_time = SETTLE_TIME;
    // The wait before a retry is the rest of the settle time, capped at max_backoff, so the cap
    // must exceed the settle time.
    config.retry = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(1),
    };
    // Opening the store runs migrations, which can take longer than the settle time, so the
    // file is marked modified only after that.
    let store = env.store()?;
    std::fs::File::options()
        .write(true)
        .open(&path)?
        .set_modified(SystemTime::now())?;

    let summary = {
        let _guard = env.runtime.enter();
        run_batch(store.as_ref(), &config, &())?
    };

    assert!(summary.failed.is_empty(), "failed: {:?}", summary.failed);
    assert!(
        summary.still_uploading.is_empty(),
        "still uploading: {:?}",
        summary.still_uploading
    );
    assert_eq!(summary.imported, 1);
    assert_eq!(env.count("sessions")?, 1);
    // The first attempt came too early, so the run waited for the file to settle.
    assert!(
        summary.elapsed >= SETTLE_TIME - Duration::from_millis(100),
        "finished after {:?}, before the file settled",
        summary.elapsed
    );
    assert!(processed_path(&env, &path).is_file());
    Ok(())
}

#[test]
fn unsettled_file_retried_sqlite() -> Result<()> {
    check_unsettled_file_retried(Backend::Sqlite)
}

#[test]
fn unsettled_file_retried_postgres() -> Result<()> {
    check_unsettled_file_retried(Backend::Postgres)
}

fn check_unsettled_file_left(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let path = write_full_upload(&env, work.path(), DEVICE, T)?;
    let mut config = env.batch_config(1);
    config.process.settle_time = Duration::from_secs(600);
    config.retry.max_attempts = 1;
    let store = env.store()?;

    let summary = {
        let _guard = env.runtime.enter();
        run_batch(store.as_ref(), &config, &())?
    };

    assert!(summary.failed.is_empty(), "failed: {:?}", summary.failed);
    assert_eq!(summary.imported, 0);
    let relative = path.strip_prefix(env.incoming())?;
    assert_eq!(summary.still_uploading, [relative]);
    assert!(
        path.is_file(),
        "a file still being written stays in incoming"
    );
    assert!(!env.data_dir().join("failed").exists());
    assert_eq!(env.count("files")?, 0);
    assert_eq!(env.count("sessions")?, 0);
    Ok(())
}

#[test]
fn unsettled_file_left_sqlite() -> Result<()> {
    check_unsettled_file_left(Backend::Sqlite)
}

#[test]
fn unsettled_file_left_postgres() -> Result<()> {
    check_unsettled_file_left(Backend::Postgres)
}
