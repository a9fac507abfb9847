//! Hostview Processing core: everything needed to turn one uploaded file into research rows,
//! without a queue.
//!
//! - [`upload`] parses and validates `incoming/<device>/<version>/<year>/<week>/<file>` paths and
//!   classifies the file by name ([`upload::FileKind`]).
//! - [`archive`] detects 7z, zip, gzip or plain content from magic bytes and extracts it into a
//!   private temporary directory under a size cap.
//! - [`session_db`] reads a client session database tolerantly ([`session_db::SessionDb`]) and
//!   maps it onto the research tables ([`session_db::import_session`]).
//! - [`store`] writes rows through one trait ([`store::Store`]) with a PostgreSQL
//!   ([`store::PgStore`]) and an SQLite ([`store::SqliteStore`]) implementation, one transaction
//!   per file.
//! - [`pipeline`] ties these together: [`pipeline::process_upload`] takes a path and a store and
//!   returns what happened, or a [`pipeline::ProcessFailure`] whose error reports, through
//!   [`failure::Classify`], whether retrying can help.
//!
//! Every call blocks. Run them on a blocking thread, inside a Tokio runtime's context when the
//! store is PostgreSQL.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use hostview_core::pipeline::{ProcessConfig, process_upload};
//! use hostview_core::store::SqliteStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open(Path::new("/srv/hostview/hostview.sqlite"))?;
//! let incoming = Path::new("/srv/hostview/incoming");
//! let upload = incoming.join("DEV-1/2.1.3/2016/29/1468852623282_stats.db.zip");
//! let processed = process_upload(&store, incoming, &upload, &ProcessConfig::default())
//!     .map_err(|failure| failure.error)?;
//! println!("{}: {:?}", processed.upload.file_name, processed.outcome);
//! # Ok(())
//! # }
//! ```

pub mod archive;
pub mod failure;
pub mod pipeline;
pub mod schema;
pub mod session_db;
pub mod store;
pub mod upload;
pub mod value;
