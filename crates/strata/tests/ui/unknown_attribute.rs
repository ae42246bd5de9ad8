use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key, auto_increment)]
    id: i32,
    title: String,
}

fn main() {}
