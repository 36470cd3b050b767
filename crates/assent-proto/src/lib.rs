//! Assent's wire contract: what crosses the network between relying parties, devices and the
//! server, and the exact bytes that get signed. Kept free of async runtimes and web frameworks so
//! the server, the client and any third-party authenticator can share one definition.

pub mod api;
pub mod canonical;
pub mod context;
pub mod duo;
pub mod enrollment_link;
pub mod exact_json;
pub mod jose;
pub mod oauth;
pub mod problem;
pub mod receipt;
pub mod statement;
pub mod states;
pub mod webauthn;

pub use problem::ProblemCode;
