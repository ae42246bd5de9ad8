use strata::DbEnum;

#[derive(DbEnum, Clone, PartialEq)]
enum Status {
    Draft,
    Scheduled(u32),
    Published,
}

fn main() {}
