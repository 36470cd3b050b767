//! What Assent keeps for the Duo Auth API: the integrations an admin creates. Plain data; the
//! rules live in the rest of [`crate::duo`].

use crate::ids::AppId;
use time::OffsetDateTime;

/// A Duo-style integration: the keys a Duo client (duo_client, `login_duo`, `pam_duo`, ...)
/// signs its requests with, bound to one application, whose requests (approvals) it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoIntegration {
    /// The integration key (`ikey`): `DI` and 18 upper-case letters and digits, as Duo's look.
    pub ikey: String,
    pub app_id: AppId,
    /// The secret key (`skey`), sealed with the data key: an HMAC is checked with the key
    /// itself, so unlike an API key it cannot be kept as a hash.
    pub skey_sealed: Vec<u8>,
    /// The host name clients are told to use (`api_host`), for the admin's reference.
    pub api_host: String,
    /// Whether a push this integration asks for may go without number matching when its client
    /// cannot show a code: a documented lower-assurance choice of the operator, off by default.
    pub allow_unmatched_push: bool,
    /// Whether the legacy Auth API v1 (`/rest/v1/*.bson`, duo_unix before 2.0) is answered for
    /// this integration: its signatures carry no date, so a captured request stays valid; off
    /// by default.
    pub allow_legacy_v1: bool,
    pub created_at: OffsetDateTime,
}
