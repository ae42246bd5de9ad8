//! Tests of the blog-api binary.
