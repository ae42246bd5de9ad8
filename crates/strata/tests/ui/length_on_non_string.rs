use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    #[strata(length = 10)]
    views: i32,
}

fn main() {}
