//! (schema engine: being written)
