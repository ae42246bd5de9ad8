//! The posts API of the article, on Strata and axum, wire-compatible with the NestJS original.
