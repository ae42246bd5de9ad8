use strata::{Collection, Entity};

#[derive(Entity, Clone)]
struct Category {
    #[strata(primary_key)]
    id: i32,
}

#[derive(Entity, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    categories: Collection<Category>,
    #[strata(many_to_many)]
    title: String,
}

fn main() {}
