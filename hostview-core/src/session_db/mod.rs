//! Client session databases: reading ([`SessionDb`]) and mapping onto the research tables
//! ([`import_session`]).

mod import;
mod reader;

pub use import::{ImportStats, MISSING_STOP_EVENT, SessionContext, import_session};
pub use reader::{ImportRowError, SessionDb, SessionDbError, WarningKind, Warnings};
