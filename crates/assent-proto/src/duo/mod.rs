//! Duo Auth API v2 request signatures, checked exactly as Duo's own clients make them
//! (duo_client for Python, duo_unix's `login_duo`/`pam_duo` in C), so that those clients work
//! against Assent unmodified. Pure and I/O-free: the HTTP layer extracts the date, method, host,
//! path, parameters, body and `X-Duo-*` headers and hands them here.
//!
//! A Duo request carries `Authorization: Basic base64(ikey:hex)`, where `hex` is an HMAC of a
//! canonical string under the integration's secret key:
//!
//! * signature version 2: date, method, host, path and the sorted, percent-encoded
//!   parameters, HMAC-SHA1 or HMAC-SHA512 (duo_unix always uses SHA-512);
//! * signature version 5: the same lines plus the SHA-512 of the body and of the `X-Duo-*`
//!   headers, always HMAC-SHA512 (duo_client's default since 5.0).

pub mod api;
pub mod bson;
pub mod canonical;
mod date;
mod error;
pub mod params;
pub mod request;
pub mod signature;

pub use error::DuoSigError;
