//! Assent's store for deployments of several nodes sharing one PostgreSQL database, and the
//! LISTEN/NOTIFY notifier that carries wake-ups between those nodes.
//!
//! The store keeps the contract of the embedded SQLite store (the shared suite in
//! `assent-store-tests` runs against both), but where SQLite gets atomicity for free from its one
//! writer thread, here many transactions from many processes run at once. Each conditional write
//! therefore decides inside PostgreSQL, in one statement (`UPDATE ... WHERE state = 'pending'`,
//! `INSERT ... ON CONFLICT DO NOTHING`) or under a lock, never by reading first and writing after.
//! The audit chain is the one global order: an append locks the single `audit_head` row as the
//! last step of its transaction and holds it until the commit, so appends from every node form
//! one chain, commit in sequence order, and never deadlock (see `src/audit.rs`).

mod audit;
mod connect;
mod error;
mod migrate;
mod notifier;
mod ops;
mod rows;
mod store;

pub use notifier::{CHANNEL, PostgresNotifier};
pub use sqlx::postgres::PgConnectOptions;
pub use store::PostgresStore;
