//! OpenID Connect CIBA and agent grants at the edge: discovery, the OAuth endpoints (with their
//! own error bodies) and the admin registration of clients and agents.

pub(crate) mod admin;
mod docs;
pub(crate) use docs::OAuthErrorBody;
pub(crate) mod endpoints;
mod reply;
