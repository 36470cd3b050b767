//! Assent's embedded store on SQLite: one file, WAL mode, `synchronous = FULL`, so an answer
//! acknowledged to a device survives a crash or a power cut. Writes go through one thread that
//! groups concurrent writes into one transaction (group commit); reads use their own connections.

mod connection;
mod memo;
mod owner;
#[cfg(test)]
mod query_plans;
mod rows;
mod store;
mod writer;

pub use store::SqliteStore;
