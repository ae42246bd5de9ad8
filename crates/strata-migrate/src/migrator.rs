//! (migrator: being written)
