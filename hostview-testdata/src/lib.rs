//! Generator of synthetic Hostview client uploads for tests and examples.
