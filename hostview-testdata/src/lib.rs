//! Generator of synthetic Hostview client uploads, for tests and for the `examples/` tree.
//!
//! A Hostview client writes one SQLite database per monitoring session and uploads it to
//! `incoming/<device>/<version>/<ISO year>/<ISO week>/`, usually as a 7z archive named `.zip`.
//! This crate produces such files without real participant data:
//!
//! - [`create_session_db`] creates an empty database with the client tables of a
//!   [`ClientSchema`]; [`drop_table`] removes one, to mimic an older client.
//! - [`full_session`], [`crashed_session`], [`old_schema_session`] and [`large_session`] write
//!   canned sessions and return an [`Expected`]: row counts per table, session events and the
//!   network connections, for comparing an import against.
//! - [`bad`] adds damaged values (text in integer columns, invalid UTF-8, NUL bytes, huge
//!   text) and writes broken files (truncated database, non-database file).
//! - [`write_7z`], [`write_zip`], [`write_zip_entries`] and [`write_gzip`] compress a file the
//!   way uploads arrive, with fixed timestamps so the output is reproducible.
//! - [`upload_path`] places a file in the upload tree.
//!
//! The `hostview-gen-examples` binary combines these to write the repository's
//! `examples/uploads` tree.
//!
//! ```
//! use hostview_testdata::{full_session, upload_path, write_7z};
//!
//! # fn main() -> anyhow::Result<()> {
//! let work = std::env::temp_dir().join(format!("hostview-testdata-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&work)?;
//! let session_ms = 1_468_829_700_250; // 2016-07-18T08:15:00.250Z, ISO week 2016-W29
//! let db = work.join(format!("{session_ms}_stats.db"));
//! let expected = full_session(&db, session_ms)?;
//! assert_eq!(expected.source_rows["connectivity"], 5);
//!
//! let file_name = format!("{session_ms}_stats.db.zip");
//! let upload = upload_path(&work.join("incoming"), "DEVICE-1", "2.1.3", session_ms, &file_name)?;
//! write_7z(&db, &upload, &format!("{session_ms}_stats.db"))?;
//! assert!(upload.ends_with("DEVICE-1/2.1.3/2016/29/1468829700250_stats.db.zip"));
//! std::fs::remove_dir_all(&work)?;
//! # Ok(())
//! # }
//! ```

mod archive;
pub mod bad;
mod expected;
mod large;
mod schema;
mod sessions;
mod upload;

pub use archive::{
    ARCHIVE_ENTRY_TIME_UNIX_S, SevenZipMethod, write_7z, write_7z_with_method, write_gzip,
    write_zip, write_zip_entries,
};
pub use expected::{Expected, ExpectedConnection, START_EVENTS, STOP_EVENTS};
pub use large::{ROWS_PER_SNAPSHOT, SNAPSHOT_INTERVAL_MS, large_session};
pub use schema::{
    ClientSchema, ClientTable, TABLES, create_session_db, drop_table, finish_session_db,
};
pub use sessions::{crashed_session, full_session, old_schema_session};
pub use upload::{iso_week, upload_path, upload_relative_path};
