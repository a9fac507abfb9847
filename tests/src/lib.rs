//! End-to-end tests across the Hostview Processing crates live in `tests/`; this library is empty.
