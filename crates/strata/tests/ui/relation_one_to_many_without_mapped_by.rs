use strata::{Collection, Entity};

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
}

#[derive(Entity, Clone)]
struct User {
    #[strata(primary_key)]
    id: i32,
    #[strata(one_to_many)]
    posts: Collection<Post>,
}

fn main() {}
