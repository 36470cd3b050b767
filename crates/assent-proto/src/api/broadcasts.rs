//! Bodies of incident broadcasts: what an admin sends and reads back, what a device lists and
//! the acknowledgement it signs.

use serde::{Deserialize, Serialize};

/// `POST /v1/admin/broadcasts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBroadcast {
    /// 1 to 2,000 characters, not all blank; no control characters but line feeds, and none of
    /// the invisible characters that reorder or hide text (bidirectional controls, zero-width
    /// characters, U+FEFF).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff][^\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*$",
            min_length = 1,
            max_length = 2000
        )
    )]
    pub message: String,
    /// Send to the members of this group (at this moment). Either `group` or `everyone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[a-z0-9._-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub group: Option<String>,
    /// `true` to send to every user: said explicitly, so that a missing or `null` group never
    /// reaches everyone by mistake. Either `group` or `everyone`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub everyone: bool,
    /// How long a recipient may leave it unacknowledged before being reminded again: 300 to
    /// 604,800 seconds; absent: 14,400 (4 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 300, maximum = 604800))]
    #[serde(deserialize_with = "super::whole::optional")]
    pub reminder_interval_seconds: Option<u32>,
}

/// A broadcast as an admin sees it, with how many have acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastInfo {
    pub id: String,
    pub message: String,
    /// The group it went to; absent: every user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Who sent it (`admin:<key id>`).
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    pub reminder_interval_seconds: u32,
    /// The users it went to, fixed when it was sent.
    pub recipients: u32,
    pub acknowledged: u32,
}

/// `GET /v1/admin/broadcasts`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastList {
    pub broadcasts: Vec<BroadcastInfo>,
}

/// One recipient of a broadcast and whether they acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastRecipientInfo {
    pub user: String,
    pub acknowledged: bool,
    /// RFC 3339, when acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
    /// The device that acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// The device's signed acknowledgement (compact JWS), to check offline with its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// Reminders sent so far.
    pub reminders: u32,
}

/// `GET /v1/admin/broadcasts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastDetail {
    pub broadcast: BroadcastInfo,
    /// By username.
    pub recipients: Vec<BroadcastRecipientInfo>,
}

/// A broadcast as the recipient's device sees it, with what to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceBroadcast {
    pub id: String,
    pub message: String,
    /// What the acknowledgement must carry as `message_hash`: base64url SHA-256 of the
    /// message's UTF-8 bytes. The device should recompute it from `message`.
    pub message_hash: String,
    /// The username the acknowledgement must carry as `user`.
    pub user: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

/// `GET /v1/device/broadcasts`: the ones waiting for an acknowledgement (oldest first), and
/// the most recent acknowledged ones (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceBroadcastList {
    pub pending: Vec<DeviceBroadcast>,
    pub acknowledged: Vec<DeviceBroadcast>,
}

/// `POST /v1/device/broadcasts/{id}/ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBroadcast {
    /// Compact JWS (ES256, `typ` assent-broadcast-ack+jws, `kid` = device id) of a broadcast
    /// acknowledgement statement.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
    )]
    pub statement: String,
}

/// Answer to an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastAcknowledged {
    pub id: String,
    /// RFC 3339.
    pub acknowledged_at: String,
}

/// `201` to `POST /v1/admin/broadcasts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BroadcastCreated {
    pub id: String,
    /// How many users it went to.
    pub recipients: u32,
}
