use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    #[strata(version)]
    revision: String,
}

fn main() {}
