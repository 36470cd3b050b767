//! [`Store`](assent_core::Store) on PostgreSQL: the handle and how it connects. Each capability
//! of the port is implemented in its own file of [`crate::ops`].

use crate::connect::{self, MAX_CONNECTIONS};
use crate::migrate::migrate;
use assent_core::StoreError;
use assent_core::store::KeyedGate;
use sqlx::postgres::{PgConnectOptions, PgPool};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The PostgreSQL store. Cheap to clone; clones share one connection pool. Several processes
/// (nodes) may each hold one on the same database: every write that must happen once decides
/// inside PostgreSQL, so the nodes need not know about each other.
#[derive(Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// Users' prompt turns in this process, waited for before the database's (see
    /// [`crate::ops::turns`]).
    pub(crate) turns: Arc<KeyedGate>,
    /// Connections that may hold a prompt turn at once: fewer than the pool's, so the holders
    /// always find a connection for the work they do during the turn.
    pub(crate) turn_connections: Arc<Semaphore>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connect options: they hold the password.
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL; `sslmode`, `sslrootcert` and the
    /// other libpq parameters apply) and brings the schema up to date. Errors never contain the
    /// URL's password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = connect::options_from_url(url)?;
        Self::open(options, Some(url)).await
    }

    /// Like [`connect`](Self::connect), with options built by the caller (for example a
    /// `search_path` that puts Assent's tables in their own schema).
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::open(options, None).await
    }

    async fn open(options: PgConnectOptions, url: Option<&str>) -> Result<Self, StoreError> {
        let options = connect::with_session_settings(options);
        let pool = connect::pool(options, MAX_CONNECTIONS, url).await?;
        migrate(&pool).await?;
        Ok(PostgresStore {
            pool,
            turns: Arc::default(),
            turn_connections: Arc::new(Semaphore::new(connect::TURN_CONNECTIONS)),
        })
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
