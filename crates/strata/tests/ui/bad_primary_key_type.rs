use strata::Entity;

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    slug: String,
    title: String,
}

fn main() {}
