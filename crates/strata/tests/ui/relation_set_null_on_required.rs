use strata::{Entity, Reference};

#[derive(Entity, Clone)]
struct User {
    #[strata(primary_key)]
    id: i32,
}

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one, on_delete = "set null")]
    author: Reference<User>,
}

fn main() {}
