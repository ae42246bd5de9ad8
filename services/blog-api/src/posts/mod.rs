//! Posts, as the original's `PostsService`: the DTOs ([`dto`]) and the service over the
//! request's EntityManager ([`service`]).

pub mod dto;
pub mod service;
