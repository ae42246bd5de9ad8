//! The posts feature: the [`entity::PostEntity`], the request DTOs with their validation rules
//! ([`dto`]), and [`service::PostsService`], which reads like the article's `PostsService`.
//! The HTTP handlers in `crate::http::posts` call into it.

pub mod dto;
pub mod entity;
pub mod service;
