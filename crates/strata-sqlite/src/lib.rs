//! The SQLite driver of Strata: rusqlite with the bundled SQLite, multi-row VALUES batching, error mapping.
