//! Hostview Processing core.

pub mod archive;
pub mod failure;
pub mod pipeline;
pub mod schema;
pub mod session_db;
pub mod store;
pub mod upload;
pub mod value;
