use strata::{Collection, Entity, Reference};

#[derive(Entity, Clone)]
struct User {
    #[strata(primary_key)]
    id: i32,
    #[strata(one_to_many, mapped_by = "title")]
    posts: Collection<Post>,
}

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    author: Reference<User>,
    title: String,
}

fn main() {}
