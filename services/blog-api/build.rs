//! Rebuilds the service when a migration file is added or removed, so the migrations embedded
//! by `embed_migrations!` stay complete (an edited file triggers a rebuild by itself).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/postgres");
    println!("cargo:rerun-if-changed=migrations/sqlite");
}
