//! Rebuilds the server when a migration is added or changed: `sqlx::migrate!` embeds
//! `migrations/` at compile time but does not tell Cargo to watch the directory, so a
//! new migration file alone would not trigger an incremental rebuild.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
