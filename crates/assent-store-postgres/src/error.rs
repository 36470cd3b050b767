//! Mapping database failures onto the storage port's errors, the way the SQLite store does: a
//! refused constraint is a [`StoreError::Conflict`], undecodable data is corrupt, the rest is a
//! backend failure whose message is for the logs.

use assent_core::StoreError;

/// Maps a database error. Every integrity constraint (SQLSTATE class 23: unique, foreign key,
/// check, not null) becomes a conflict, as SQLite reports its constraint violations.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
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
