//! The posts API server.

fn main() {}
