use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    id: i32,
    title: String,
}

fn main() {}
