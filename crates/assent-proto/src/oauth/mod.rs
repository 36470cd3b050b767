//! The pure OAuth 2.0 / OpenID Connect CIBA layer: parameter parsing, client authentication,
//! signed request objects, DPoP proofs, token and metadata shapes. No I/O and no clock: the
//! server's CIBA adapter calls these with the request's bytes and `now` in unix seconds, and
//! keeps every decision that needs storage (single use of a `jti`, a client's registration).
//!
//! The specifications: OpenID Connect CIBA Core 1.0, RFC 6749 (OAuth 2.0), RFC 7523
//! (`private_key_jwt`), RFC 9396 (authorization details), RFC 9068 (JWT access tokens),
//! RFC 9449 (DPoP), RFC 7009 (revocation) and RFC 7662 (introspection).

pub mod assertion;
pub mod backchannel;
mod claims;
pub mod dpop;
pub mod error;
pub mod form;
pub mod keys;
pub mod metadata;
pub mod request_object;
pub mod tokens;

#[cfg(test)]
pub(crate) mod testkit;

pub use error::{Endpoint, OAuthError, OAuthErrorCode};
