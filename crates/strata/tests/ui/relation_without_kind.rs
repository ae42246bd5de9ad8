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
    author: Reference<User>,
}

fn main() {}
