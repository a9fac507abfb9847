//! Damaged client data: values and files an importer must reject or survive without panicking.
//!
//! The row helpers each insert one extra row into a session database that already has the
//! client tables, for example one made by [`crate::full_session`]. They do not update any
//! [`crate::Expected`], so a test that counts rows adds 1 to the table named in the helper's
//! documentation.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

/// Size of the value [`huge_text`] writes when a test has no reason to pick another: 1 MiB.
pub const HUGE_TEXT_BYTES: usize = 1 << 20;

/// Inserts a `procs` row whose `pid` is the text `'abc'`. SQLite keeps text that does not look
/// like a number as TEXT even in an INTEGER column, so `typeof(pid)` is `'text'`.
pub fn text_in_integer_column(conn: &Connection, timestamp_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO procs VALUES ('abc', 'bad-pid.exe', 1024, 0.0, ?1)",
        params![timestamp_ms],
    )
    .context("failed to insert a procs row with a text pid")?;
    Ok(())
}

/// Inserts a `procs` row whose `name` is TEXT holding the bytes `chrome` 0xC3 `.exe`. 0xC3
/// starts a two-byte UTF-8 sequence that `.` cannot continue, so the value is invalid UTF-8
/// although `typeof(name)` is `'text'`.
pub fn invalid_utf8_text(conn: &Connection, timestamp_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO procs VALUES (4242, CAST(x'6368726f6d65c32e657865' AS TEXT), 1024, 0.0, ?1)",
        params![timestamp_ms],
    )
    .context("failed to insert a procs row with invalid UTF-8")?;
    Ok(())
}

/// Inserts a `procs` row whose `name` is a BLOB (`x'c3a9'`) instead of TEXT.
pub fn blob_in_text_column(conn: &Connection, timestamp_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO procs VALUES (4243, x'c3a9', 1024, 0.0, ?1)",
        params![timestamp_ms],
    )
    .context("failed to insert a procs row with a BLOB name")?;
    Ok(())
}

/// Inserts a `procs` row whose `name` is the 12-byte TEXT `"nul\0byte.exe"`, with a NUL byte
/// inside. PostgreSQL rejects NUL in text values, so an importer must strip or replace it.
pub fn nul_in_text(conn: &Connection, timestamp_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO procs VALUES (4244, ?1, 1024, 0.0, ?2)",
        params!["nul\0byte.exe", timestamp_ms],
    )
    .context("failed to insert a procs row with a NUL byte")?;
    Ok(())
}

/// Inserts a `procs` row whose `timestamp` is NULL.
pub fn null_timestamp(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO procs VALUES (4245, 'no-time.exe', 1024, 0.0, NULL)",
        [],
    )
    .context("failed to insert a procs row with a NULL timestamp")?;
    Ok(())
}

/// Inserts an `activity` row whose `description` is `len_bytes` ASCII `x` characters, far past
/// the declared VARCHAR(260). See [`HUGE_TEXT_BYTES`] for a default length.
pub fn huge_text(conn: &Connection, timestamp_ms: i64, len_bytes: usize) -> Result<()> {
    let description = "x".repeat(len_bytes);
    conn.execute(
        "INSERT INTO activity VALUES ('participant01', 4246, 'huge.exe', ?1, 0, 0, ?2)",
        params![description, timestamp_ms],
    )
    .context("failed to insert an activity row with a huge description")?;
    Ok(())
}

/// Writes the first half of the valid database `valid_db` to `dest`, like an upload cut off in
/// the middle. SQLite opens the result, but for the canned sessions every query on a client
/// table then fails with "database disk image is malformed".
pub fn truncated_database(valid_db: &Path, dest: &Path) -> Result<()> {
    let bytes = std::fs::read(valid_db)
        .with_context(|| format!("failed to read {}", valid_db.display()))?;
    if bytes.len() < 2 * 1024 {
        bail!(
            "{} has {} bytes; truncating needs a database of at least 2 pages",
            valid_db.display(),
            bytes.len()
        );
    }
    std::fs::write(dest, &bytes[..bytes.len() / 2])
        .with_context(|| format!("failed to write {}", dest.display()))?;
    Ok(())
}

/// Writes a plain text file to `dest` that SQLite rejects with "file is not a database".
pub fn not_a_database(dest: &Path) -> Result<()> {
    let text = "This upload is a text file, not an SQLite database.\n".repeat(100);
    std::fs::write(dest, text).with_context(|| format!("failed to write {}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::types::ValueRef;

    use super::*;
    use crate::full_session;

    fn session(dir: &Path) -> (Connection, u64) {
        let path = dir.join("s.db");
        let expected = full_session(&path, 1_468_829_700_250).unwrap();
        (
            Connection::open(path).unwrap(),
            expected.source_rows["procs"],
        )
    }

    fn count(conn: &Connection, table: &str) -> u64 {
        let rows: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap();
        u64::try_from(rows).unwrap()
    }

    #[test]
    fn text_pid_is_stored_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, procs) = session(dir.path());

        text_in_integer_column(&conn, 1).unwrap();

        assert_eq!(count(&conn, "procs"), procs + 1);
        let kind: String = conn
            .query_row(
                "SELECT typeof(pid) FROM procs WHERE timestamp = 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(kind, "text");
        let as_integer = conn.query_row("SELECT pid FROM procs WHERE timestamp = 1", [], |row| {
            row.get::<_, i64>(0)
        });
        assert!(as_integer.is_err());
    }

    #[test]
    fn invalid_utf8_is_text_with_bad_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = session(dir.path());

        invalid_utf8_text(&conn, 2).unwrap();

        let mut statement = conn
            .prepare("SELECT name FROM procs WHERE timestamp = 2")
            .unwrap();
        let mut rows = statement.query([]).unwrap();
        let row = rows.next().unwrap().unwrap();
        match row.get_ref(0).unwrap() {
            ValueRef::Text(bytes) => {
                assert_eq!(bytes, b"chrome\xC3.exe");
                assert!(std::str::from_utf8(bytes).is_err());
            }
            other => panic!("expected TEXT, got {other:?}"),
        }
        assert!(row.get::<_, String>(0).is_err());
    }

    #[test]
    fn blob_name_is_blob() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = session(dir.path());

        blob_in_text_column(&conn, 3).unwrap();

        let kind: String = conn
            .query_row(
                "SELECT typeof(name) FROM procs WHERE timestamp = 3",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(kind, "blob");
    }

    #[test]
    fn nul_byte_survives_in_text() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = session(dir.path());

        nul_in_text(&conn, 4).unwrap();

        let (kind, bytes): (String, Vec<u8>) = conn
            .query_row(
                "SELECT typeof(name), CAST(name AS BLOB) FROM procs WHERE timestamp = 4",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(kind, "text");
        assert_eq!(bytes, b"nul\0byte.exe");
    }

    #[test]
    fn null_timestamp_row() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, procs) = session(dir.path());

        null_timestamp(&conn).unwrap();

        assert_eq!(count(&conn, "procs"), procs + 1);
        let nulls: i64 = conn
            .query_row(
                "SELECT count(*) FROM procs WHERE timestamp IS NULL",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(nulls, 1);
    }

    #[test]
    fn huge_text_has_requested_length() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = session(dir.path());

        huge_text(&conn, 5, HUGE_TEXT_BYTES).unwrap();

        let length: i64 = conn
            .query_row(
                "SELECT length(description) FROM activity WHERE timestamp = 5",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(length, 1_048_576);
    }

    #[test]
    fn truncated_database_fails_to_read() {
        let dir = tempfile::tempdir().unwrap();
        let valid = dir.path().join("valid.db");
        let truncated = dir.path().join("truncated.db");
        full_session(&valid, 1_468_829_700_250).unwrap();

        truncated_database(&valid, &truncated).unwrap();

        let valid_len = std::fs::metadata(&valid).unwrap().len();
        assert_eq!(std::fs::metadata(&truncated).unwrap().len(), valid_len / 2);
        let conn = Connection::open(&truncated).unwrap();
        let tables: Vec<String> = crate::ClientSchema::New
            .tables()
            .map(String::from)
            .collect();
        for table in &tables {
            let result = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get::<_, i64>(0)
            });
            let error = result.expect_err(table);
            assert!(error.to_string().contains("malformed"), "{table}: {error}");
        }
    }

    #[test]
    fn truncated_database_rejects_tiny_input() {
        let dir = tempfile::tempdir().unwrap();
        let tiny = dir.path().join("tiny.db");
        std::fs::write(&tiny, b"SQLite format 3\0").unwrap();

        let error = truncated_database(&tiny, &dir.path().join("out.db")).unwrap_err();
        assert!(error.to_string().contains("at least 2 pages"), "{error}");
    }

    #[test]
    fn not_a_database_is_rejected_by_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes_stats.db");

        not_a_database(&path).unwrap();

        let conn = Connection::open(&path).unwrap();
        let error = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })
            .unwrap_err();
        assert!(error.to_string().contains("not a database"), "{error}");
    }
}
