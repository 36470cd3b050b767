//! The v1 API, Assent's own protocol: the relying-party, device, admin and factor endpoints,
//! how domain records become its bodies (`render`), and how its errors become RFC 9457 problem
//! documents (`problem`). Other protocols are siblings of this module, each with its own bodies
//! and its own error format.

pub(crate) mod access;
pub(crate) mod activity;
pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod broadcasts;
pub(crate) mod device;
pub(crate) mod factors;
pub(crate) mod groups;
pub(crate) mod keys;
pub(crate) mod passkeys;
pub(crate) mod problem;
pub mod render;
pub(crate) mod rp;
mod sse;
