//! Request and response bodies of the fallback factors: TOTP enrollment, code checks, recovery
//! codes, and the summary of the factors a user can use.

use crate::states::DeviceState;
use serde::{Deserialize, Serialize};

/// `POST /v1/users/{username}/totp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollTotp {
    /// `SHA1` (default, what every authenticator app supports), `SHA256` or `SHA512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(SHA1|SHA256|SHA512)$"))]
    pub algorithm: Option<String>,
    /// 6 (default) to 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 6, maximum = 8))]
    #[serde(deserialize_with = "super::whole::optional")]
    pub digits: Option<u8>,
    /// Seconds per code: 30 (default), 15 to 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 15, maximum = 120))]
    #[serde(deserialize_with = "super::whole::optional")]
    pub period: Option<u32>,
}

/// Answer to a TOTP enrollment: the seed is shown here once, inside the URI and the QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrolled {
    /// `otpauth://totp/...` (Key Uri Format), for authenticator apps.
    pub otpauth_uri: String,
    /// The same URI as a QR code (SVG).
    pub qr_svg: String,
    pub algorithm: String,
    pub digits: u8,
    pub period: u32,
}

/// `POST /v1/verify/totp` and `POST /v1/verify/recovery-code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub user: String,
    pub code: String,
}

/// A code that verified (a wrong one is a problem document, never `valid: false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeVerified {
    pub valid: bool,
    /// For a recovery code: how many unused codes the user has left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
}

/// A new set of recovery codes, shown once; every earlier code stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// How many unused recovery codes a user has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodeCount {
    pub remaining: u32,
}

/// A device as a relying party sees it in a user's factors: enough to offer a choice, nothing
/// about its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorDevice {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub state: DeviceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
}

/// Push as a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushFactor {
    /// Whether a push request can be sent now: an active device and no suspension.
    pub available: bool,
    /// Active devices, and devices waiting for activation.
    pub devices: Vec<FactorDevice>,
    pub suspended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<String>,
}

/// TOTP as a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpFactor {
    pub enrolled: bool,
    /// Verification is refused until this time (too many wrong codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
}

/// Recovery codes as a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryFactor {
    pub remaining: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
}

/// `GET /v1/users/{username}/factors`: what the user can use right now, so a login page can
/// offer the right way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserFactors {
    pub user: String,
    /// The factors usable now, best first: `push`, `totp`, `recovery_code`. Empty: the user
    /// must enroll (or wait out a lock).
    pub available: Vec<String>,
    pub push: PushFactor,
    pub totp: TotpFactor,
    pub recovery_codes: RecoveryFactor,
}
