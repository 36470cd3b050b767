//! Mapping database failures onto the storage port's errors, the way the SQLite store does: a
//! refused constraint is a [`StoreError::Conflict`], undecodable data is corrupt, the rest is a
//! backend failure whose message is for the logs.

use assent_core::StoreError;

/// Maps a database error. Every integrity constraint (SQLSTATE class 23: unique, foreign key,
/// check, not null) becomes a conflict, as SQLite reports its constraint violations. A database
/// that cannot be reached is [`StoreError::Unavailable`], so clients are told to retry (503)
/// rather than that Assent failed (500).
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    if unreachable(&e) {
        return StoreError::Unavailable(e.to_string());
    }
    match &e {
        sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("23")) => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Whether `e` says the database is out of reach rather than that a statement failed: the
/// connection is refused, cut or closed (I/O, TLS), no connection freed up in time, or the
/// server says it is shutting down, starting up, or out of connection slots (SQLSTATE class 08,
/// `57P01` to `57P03`, `53300`).
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// A stored value that does not parse.
pub(crate) fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} does not parse").into())
}

/// A number the domain holds unsigned but PostgreSQL stores signed.
pub(crate) fn to_i64<T: TryInto<i64>>(value: T, what: &str) -> Result<i64, StoreError> {
    value
        .try_into()
        .map_err(|_| StoreError::Backend(format!("{what} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_unavailable_not_a_failure() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for e in [sqlx::Error::Io(refused), sqlx::Error::PoolTimedOut] {
            assert!(matches!(backend(e), StoreError::Unavailable(_)));
        }
        assert!(matches!(
            backend(sqlx::Error::RowNotFound),
            StoreError::Backend(_)
        ));
        let code = assent_core::CoreError::Store(StoreError::Unavailable(String::new())).code();
        assert_eq!(code.status(), 503);
        assert_eq!(code.as_str(), "unavailable");
    }
}
