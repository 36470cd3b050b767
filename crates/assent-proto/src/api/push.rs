//! Bodies of push registration (a device's Web Push subscription or native token, the server's
//! VAPID key) and of users' e-mail addresses for security alerts.

use serde::{Deserialize, Serialize};

/// The keys of a Web Push subscription (RFC 8291).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `POST /v1/device/push-subscription`: the browser's `PushSubscription.toJSON()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionBody {
    pub endpoint: String,
    pub keys: PushKeys,
    #[serde(
        default,
        rename = "expirationTime",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_time: Option<f64>,
}

/// `POST /v1/device/push-token`: a native app's push token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushTokenBody {
    /// `apns` (an APNs device token, hexadecimal) or `fcm` (an FCM registration token).
    pub channel: String,
    pub token: String,
}

/// `PUT /v1/admin/users/{username}/email` and `PUT /v1/users/{username}/email`: where the
/// user's security alerts are e-mailed; `null` removes the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEmail {
    /// `name@domain.tld`: at most 254 characters, one `@`, a domain with a dot inside, no
    /// spaces or control characters, no `<`, `>`, `,` or `;`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^<>,;@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^<>,;@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^<>,;@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\.[^<>,;@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^<>,;@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$",
            max_length = 254
        )
    )]
    pub email: Option<String>,
}

/// `GET /v1/push/vapid-public-key`: the application server key for `pushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VapidPublicKey {
    /// Uncompressed P-256 point, base64url (RFC 8292).
    pub public_key: String,
}
