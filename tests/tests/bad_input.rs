//! Bad uploads on both backends. Every kind ends in `failed/` with its reason and without a
//! single imported row. Damaged values inside a good database are repaired, not rejected.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hostview_core::schema::SESSION_TABLES;
use hostview_e2e::{Backend, TestEnv};
use hostview_jobs::batch::{BatchSummary, run_batch};
use hostview_testdata::{
    bad, full_session, large_session, upload_path, write_7z, write_gzip, write_zip,
    write_zip_entries,
};

const DEVICE: &str = "BADINPUT-0000-4000-8000-000000000001";
const VERSION: &str = "2.1.3";
/// 2016-07-18T08:15:00.250Z, ISO week 2016-W29.
const T: i64 = 1_468_829_700_250;

/// Output tables that only an import writes, besides [`SESSION_TABLES`].
const OTHER_SESSION_TABLES: [&str; 2] = ["activity_io", "processes_running"];

/// Returns the name of the session database of `session_ms` and of its compressed upload.
fn session_names(session_ms: i64) -> (String, String) {
    let db = format!("{session_ms}_stats.db");
    let upload = format!("{db}.zip");
    (db, upload)
}

/// Writes `full_session` at `T` into `work` and returns the database path.
fn write_full_session(work: &Path) -> Result<PathBuf> {
    let db = work.join(session_names(T).0);
    full_session(&db, T)?;
    Ok(db)
}

/// Returns the path of an upload of `DEVICE` at `T` named `file_name`, creating its folders.
fn upload(env: &TestEnv, file_name: &str) -> Result<PathBuf> {
    upload_path(&env.incoming(), DEVICE, VERSION, T, file_name)
}

/// Returns `path` relative to `incoming/`.
fn relative(env: &TestEnv, path: &Path) -> PathBuf {
    path.strip_prefix(env.incoming())
        .expect("upload is below incoming")
        .to_path_buf()
}

/// Runs batch mode with the test settings, but with `max_decompressed_bytes` as the cap.
fn run_batch_with_cap(env: &TestEnv, max_decompressed_bytes: u64) -> Result<BatchSummary> {
    let store = env.store()?;
    let _guard = env.runtime.enter();
    let mut config = env.batch_config(1);
    config.process.max_decompressed_bytes = max_decompressed_bytes;
    Ok(run_batch(store.as_ref(), &config, &())?)
}

/// Checks that every session table is empty, as a failed file must leave them.
fn assert_no_session_rows(env: &TestEnv) -> Result<()> {
    let tables = SESSION_TABLES
        .iter()
        .map(|table| table.name)
        .chain(OTHER_SESSION_TABLES);
    for table in tables {
        assert_eq!(env.count(table)?, 0, "rows in {table}");
    }
    Ok(())
}

/// Checks the summary, the file system and the database after the single upload at `relative`
/// failed permanently with a reason that contains `reason`.
///
/// `has_files_row` is false for rejected paths, which name no device to record the file under.
fn assert_failed(
    env: &TestEnv,
    summary: &BatchSummary,
    relative: &Path,
    reason: &str,
    has_files_row: bool,
) -> Result<()> {
    assert_eq!(summary.failed.len(), 1, "failed: {:?}", summary.failed);
    let failed = &summary.failed[0];
    assert_eq!(failed.relative, relative);
    assert_eq!(failed.attempts, 1, "permanent errors are not retried");
    assert!(
        failed.reason.contains(reason),
        "reason {:?} does not mention {reason:?}",
        failed.reason
    );
    assert_eq!(summary.imported, 0);
    assert!(summary.unmoved.is_empty(), "unmoved: {:?}", summary.unmoved);

    let moved = env.data_dir().join("failed").join(relative);
    assert!(
        moved.symlink_metadata().is_ok(),
        "{} is missing",
        moved.display()
    );
    let left = env.incoming().join(relative);
    assert!(
        left.symlink_metadata().is_err(),
        "{} is still in incoming",
        left.display()
    );

    if has_files_row {
        let basename = relative
            .file_name()
            .context("upload path has no file name")?
            .to_string_lossy()
            .replace('\'', "''");
        let rows = env.query(&format!(
            "SELECT status, error_info FROM files WHERE basename = '{basename}'"
        ))?;
        assert_eq!(rows.len(), 1, "files rows for {basename}");
        assert_eq!(rows[0][0].as_deref(), Some("failed"));
        let error_info = rows[0][1].clone().unwrap_or_default();
        assert!(
            error_info.contains(reason),
            "error_info {error_info:?} does not mention {reason:?}"
        );
        assert_eq!(env.count("files")?, 1);
    } else {
        assert_eq!(env.count("files")?, 0, "a rejected path has no files row");
    }
    assert_no_session_rows(env)
}

// Path checks. A rejected path names no device, so no files row is written.

fn check_wrong_depth(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let shallow = env.incoming().join(DEVICE).join("x_stats.db");
    std::fs::create_dir_all(env.incoming().join(DEVICE))?;
    std::fs::copy(&db, &shallow)?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &shallow),
        "expected 5 components",
        false,
    )
}

#[test]
fn wrong_depth_sqlite() -> Result<()> {
    check_wrong_depth(Backend::Sqlite)
}

#[test]
fn wrong_depth_postgres() -> Result<()> {
    check_wrong_depth(Backend::Postgres)
}

fn check_week_99(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let folder = env.incoming().join(DEVICE).join(VERSION).join("2016/99");
    std::fs::create_dir_all(&folder)?;
    let path = folder.join(session_names(T).1);
    write_7z(&db, &path, &session_names(T).0)?;

    let summary = env.run_batch(1)?;

    assert_failed(&env, &summary, &relative(&env, &path), "week \"99\"", false)
}

#[test]
fn week_99_sqlite() -> Result<()> {
    check_week_99(Backend::Sqlite)
}

#[test]
fn week_99_postgres() -> Result<()> {
    check_week_99(Backend::Postgres)
}

fn check_symlink_outside(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let outside = tempfile::tempdir()?;
    let target = outside.path().join(session_names(T).1);
    let db = write_full_session(outside.path())?;
    write_7z(&db, &target, &session_names(T).0)?;
    let target_bytes = std::fs::read(&target)?;
    let link = upload(&env, &session_names(T).1)?;
    std::os::unix::fs::symlink(&target, &link)?;

    let summary = env.run_batch(1)?;

    assert_failed(&env, &summary, &relative(&env, &link), "outside", false)?;
    let moved = env.data_dir().join("failed").join(relative(&env, &link));
    assert!(
        moved.symlink_metadata()?.file_type().is_symlink(),
        "the link itself is moved"
    );
    assert_eq!(std::fs::read_link(&moved)?, target);
    assert_eq!(
        std::fs::read(&target)?,
        target_bytes,
        "the target is untouched"
    );
    Ok(())
}

#[test]
fn symlink_outside_sqlite() -> Result<()> {
    check_symlink_outside(Backend::Sqlite)
}

#[test]
fn symlink_outside_postgres() -> Result<()> {
    check_symlink_outside(Backend::Postgres)
}

fn check_control_character(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let path = upload(&env, &format!("{T}\u{7}_stats.db.zip"))?;
    write_7z(&db, &path, &session_names(T).0)?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "contains a control character",
        false,
    )
}

#[test]
fn control_character_sqlite() -> Result<()> {
    check_control_character(Backend::Sqlite)
}

#[test]
fn control_character_postgres() -> Result<()> {
    check_control_character(Backend::Postgres)
}

// Archives: the path is valid, so the failure is recorded in `files`.

fn check_truncated_7z(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let path = upload(&env, &session_names(T).1)?;
    write_7z(&db, &path, &session_names(T).0)?;
    let bytes = std::fs::read(&path)?;
    std::fs::write(&path, &bytes[..bytes.len() / 2])?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "invalid 7z archive",
        true,
    )
}

#[test]
fn truncated_7z_sqlite() -> Result<()> {
    check_truncated_7z(Backend::Sqlite)
}

#[test]
fn truncated_7z_postgres() -> Result<()> {
    check_truncated_7z(Backend::Postgres)
}

fn check_corrupt_zip(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let path = upload(&env, &session_names(T).1)?;
    write_zip(&db, &path, &session_names(T).0)?;

    // The single member's deflate data fills the file between the 30-byte local header plus
    // name and the central directory at the end, so the middle of the file is compressed data.
    let mut bytes = std::fs::read(&path)?;
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle - 8..middle + 8] {
        *byte ^= 0xFF;
    }
    std::fs::write(&path, &bytes)?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "invalid zip archive",
        true,
    )
}

#[test]
fn corrupt_zip_sqlite() -> Result<()> {
    check_corrupt_zip(Backend::Sqlite)
}

#[test]
fn corrupt_zip_postgres() -> Result<()> {
    check_corrupt_zip(Backend::Postgres)
}

fn check_zip_two_databases(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let db = write_full_session(work.path())?;
    let path = upload(&env, &session_names(T).1)?;
    let later = format!("{}_stats.db", T + 1);
    write_zip_entries(&path, &[(&session_names(T).0, &db), (&later, &db)])?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "2 candidates for the main file",
        true,
    )
}

#[test]
fn zip_two_databases_sqlite() -> Result<()> {
    check_zip_two_databases(Backend::Sqlite)
}

#[test]
fn zip_two_databases_postgres() -> Result<()> {
    check_zip_two_databases(Backend::Postgres)
}

/// Cap on decompressed bytes in the bomb tests: far below the 8 MiB of zeros they expand to.
const BOMB_CAP_BYTES: u64 = 1 << 20;
const BOMB_BYTES: usize = 8 << 20;

/// Writes `BOMB_BYTES` zeros named like a session database and returns the path.
fn write_zeros_database(work: &Path) -> Result<PathBuf> {
    let zeros = work.join(session_names(T).0);
    std::fs::write(&zeros, vec![0_u8; BOMB_BYTES])?;
    Ok(zeros)
}

fn check_zip_bomb(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let zeros = write_zeros_database(work.path())?;
    let path = upload(&env, &session_names(T).1)?;
    write_zip(&zeros, &path, &session_names(T).0)?;
    assert!(std::fs::metadata(&path)?.len() < BOMB_CAP_BYTES / 10);

    let summary = run_batch_with_cap(&env, BOMB_CAP_BYTES)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        &format!("exceeds the limit of {BOMB_CAP_BYTES} decompressed bytes"),
        true,
    )
}

#[test]
fn zip_bomb_sqlite() -> Result<()> {
    check_zip_bomb(Backend::Sqlite)
}

#[test]
fn zip_bomb_postgres() -> Result<()> {
    check_zip_bomb(Backend::Postgres)
}

fn check_gzip_bomb(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let zeros = write_zeros_database(work.path())?;
    let path = upload(&env, &format!("{}.gz", session_names(T).0))?;
    write_gzip(&zeros, &path)?;
    assert!(std::fs::metadata(&path)?.len() < BOMB_CAP_BYTES / 10);

    let summary = run_batch_with_cap(&env, BOMB_CAP_BYTES)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        &format!("exceeds the limit of {BOMB_CAP_BYTES} decompressed bytes"),
        true,
    )
}

#[test]
fn gzip_bomb_sqlite() -> Result<()> {
    check_gzip_bomb(Backend::Sqlite)
}

#[test]
fn gzip_bomb_postgres() -> Result<()> {
    check_gzip_bomb(Backend::Postgres)
}

// Session databases.

fn check_not_a_database(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let text = work.path().join(session_names(T).0);
    bad::not_a_database(&text)?;
    let path = upload(&env, &session_names(T).1)?;
    write_7z(&text, &path, &session_names(T).0)?;

    let summary = env.run_batch(1)?;

    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "not a database",
        true,
    )
}

#[test]
fn not_a_database_sqlite() -> Result<()> {
    check_not_a_database(Backend::Sqlite)
}

#[test]
fn not_a_database_postgres() -> Result<()> {
    check_not_a_database(Backend::Postgres)
}

/// Rows of `procs` in the truncated database: enough that most of its pages fall in the half
/// that truncation removes.
const TRUNCATED_PROCS_ROWS: usize = 40_000;

/// Writes a `large_session` whose `procs` table fails to read only once the import has written
/// rows, and returns its path.
///
/// The import first reads the latest `timestamp` of every table, which scans `procs` in full and
/// would fail before any insert. Renaming the column makes that pass skip `procs`, so the read
/// fails later, after the `sessions`, `connections` and `device_info` rows are in the
/// transaction.
fn write_truncated_database(work: &Path) -> Result<PathBuf> {
    let valid = work.join("valid.db");
    large_session(&valid, T, TRUNCATED_PROCS_ROWS, 0)?;
    let connection = rusqlite::Connection::open(&valid)?;
    connection.execute(
        "ALTER TABLE procs RENAME COLUMN timestamp TO sampled_at",
        [],
    )?;
    connection
        .close()
        .map_err(|(_, error)| error)
        .context("cannot close the session database")?;

    let truncated = work.join(session_names(T).0);
    bad::truncated_database(&valid, &truncated)?;

    // The bundled SQLite rejects a whole file whose header states more pages than the file has.
    // The file format treats a zero page count at offset 28 as unknown and derives the count
    // from the file size ("In-header database size"), so only reads of missing pages fail.
    let mut bytes = std::fs::read(&truncated)?;
    bytes[28..32].fill(0);
    std::fs::write(&truncated, &bytes)?;
    Ok(truncated)
}

fn check_truncated_database(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let truncated = write_truncated_database(work.path())?;
    let path = upload(&env, &session_names(T).1)?;
    write_7z(&truncated, &path, &session_names(T).0)?;

    let summary = env.run_batch(1)?;

    // "table procs" shows that the import failed while reading procs, after the rows of the
    // earlier tables were written in the same transaction.
    assert_failed(
        &env,
        &summary,
        &relative(&env, &path),
        "cannot read table procs",
        true,
    )?;
    assert!(
        summary.failed[0].reason.contains("malformed"),
        "reason {:?}",
        summary.failed[0].reason
    );

    // PostgreSQL does not roll back sequences, so a next id of 2 shows that the failed import
    // had inserted a row into the table before the transaction was rolled back.
    if backend == Backend::Postgres {
        for table in ["sessions", "connections"] {
            let next_id = env.query_i64(&format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
            ))?;
            assert_eq!(next_id, 2, "rows inserted into {table} before the failure");
        }
    }
    Ok(())
}

#[test]
fn truncated_database_sqlite() -> Result<()> {
    check_truncated_database(Backend::Sqlite)
}

#[test]
fn truncated_database_postgres() -> Result<()> {
    check_truncated_database(Backend::Postgres)
}

// Damaged values inside a valid database are repaired, and the file is imported.

/// Timestamps of the damaged rows, inside the session of `full_session`.
const DAMAGED_AT: i64 = T + 100_000;

/// Writes `full_session` with one damaged row of each kind added, as an upload of `env`.
fn write_damaged_upload(env: &TestEnv, work: &Path) -> Result<PathBuf> {
    let db = write_full_session(work)?;
    let connection = rusqlite::Connection::open(&db)?;
    bad::text_in_integer_column(&connection, DAMAGED_AT)?;
    bad::invalid_utf8_text(&connection, DAMAGED_AT + 1)?;
    bad::nul_in_text(&connection, DAMAGED_AT + 2)?;
    bad::huge_text(&connection, DAMAGED_AT + 3, bad::HUGE_TEXT_BYTES)?;
    connection
        .close()
        .map_err(|(_, error)| error)
        .context("cannot close the session database")?;
    let path = upload(env, &session_names(T).1)?;
    write_7z(&db, &path, &session_names(T).0)?;
    Ok(path)
}

/// Returns the single text value that `sql` selects.
fn single_text(env: &TestEnv, sql: &str) -> Result<Option<String>> {
    let rows = env.query(sql)?;
    assert_eq!(rows.len(), 1, "rows from {sql}");
    Ok(rows[0][0].clone())
}

fn check_repaired_values(backend: Backend) -> Result<()> {
    // The pristine session already contains values that need repair (invalid addresses), so its
    // count is the baseline.
    let pristine = TestEnv::new(backend)?;
    let pristine_work = tempfile::tempdir()?;
    let db = write_full_session(pristine_work.path())?;
    write_7z(
        &db,
        &upload(&pristine, &session_names(T).1)?,
        &session_names(T).0,
    )?;
    let baseline = pristine.run_batch(1)?;
    assert_eq!(baseline.imported, 1);

    let env = TestEnv::new(backend)?;
    let work = tempfile::tempdir()?;
    let path = write_damaged_upload(&env, work.path())?;

    let summary = env.run_batch(1)?;

    assert!(summary.failed.is_empty(), "failed: {:?}", summary.failed);
    assert_eq!(summary.imported, 1);
    assert!(summary.repaired_values > 0);
    // Text pid, invalid UTF-8 and NUL: one repair each. Huge text is stored as it is.
    assert_eq!(summary.repaired_values, baseline.repaired_values + 3);
    let processed = env.data_dir().join("processed").join(relative(&env, &path));
    assert!(processed.is_file(), "{} is missing", processed.display());
    assert_eq!(
        single_text(&env, "SELECT status FROM files")?.as_deref(),
        Some("success")
    );

    assert_eq!(
        single_text(&env, "SELECT pid FROM processes WHERE name = 'bad-pid.exe'")?,
        None,
        "text in an integer column becomes NULL"
    );
    assert_eq!(
        single_text(&env, "SELECT name FROM processes WHERE pid = 4242")?.as_deref(),
        Some("chrome\u{FFFD}.exe")
    );
    assert_eq!(
        single_text(&env, "SELECT name FROM processes WHERE pid = 4244")?.as_deref(),
        Some("nulbyte.exe")
    );

    let huge = single_text(&env, "SELECT description FROM activities WHERE pid = 4246")?
        .context("huge description is NULL")?;
    assert_eq!(huge.len(), bad::HUGE_TEXT_BYTES);
    assert!(
        huge == "x".repeat(bad::HUGE_TEXT_BYTES),
        "huge text changed"
    );
    Ok(())
}

#[test]
fn repaired_values_sqlite() -> Result<()> {
    check_repaired_values(Backend::Sqlite)
}

#[test]
fn repaired_values_postgres() -> Result<()> {
    check_repaired_values(Backend::Postgres)
}
