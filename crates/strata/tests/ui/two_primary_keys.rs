use strata::Entity;

#[derive(Entity, Clone)]
struct Membership {
    #[strata(primary_key)]
    user_id: i32,
    #[strata(primary_key)]
    group_id: i32,
}

fn main() {}
