use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    tags: std::collections::HashMap<String, i32>,
}

fn main() {}
