//! What the Auth API answers: Duo's envelope (`{"stat": "OK", "response": ...}`), its error
//! codes, and the shapes of the responses Assent gives, so that Duo's clients read them as they
//! read Duo's own.

use serde::Serialize;
use std::collections::BTreeMap;

/// Every error code the Auth API answers with. The HTTP status is the code's first three digits,
/// as in Duo's own answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuoErrorCode {
    /// A parameter is missing, repeated, or not of its form (`message_detail` names it).
    InvalidParameters,
    /// No `Authorization` header, or no date header.
    MissingCredentials,
    /// The integration key names no integration.
    InvalidIntegrationKey,
    /// The signature does not verify, or it was used already.
    InvalidSignature,
    /// The request's date is too far from the server's clock.
    DateOutOfWindow,
    /// The integration may not do this (a policy Assent will not bypass).
    Forbidden,
    /// No such resource (`logo` without a logo, an unknown `txid`).
    NotFound,
    /// The fatigue budget refuses another prompt for now (`Retry-After` says when to retry).
    TooManyRequests,
    /// Something failed inside Assent; the log has the details, the answer does not.
    Internal,
}

impl DuoErrorCode {
    pub const ALL: [DuoErrorCode; 9] = [
        DuoErrorCode::InvalidParameters,
        DuoErrorCode::MissingCredentials,
        DuoErrorCode::InvalidIntegrationKey,
        DuoErrorCode::InvalidSignature,
        DuoErrorCode::DateOutOfWindow,
        DuoErrorCode::Forbidden,
        DuoErrorCode::NotFound,
        DuoErrorCode::TooManyRequests,
        DuoErrorCode::Internal,
    ];

    /// The five-digit code on the wire.
    pub fn code(self) -> u32 {
        match self {
            DuoErrorCode::InvalidParameters => 40002,
            DuoErrorCode::MissingCredentials => 40101,
            DuoErrorCode::InvalidIntegrationKey => 40102,
            DuoErrorCode::InvalidSignature => 40103,
            DuoErrorCode::DateOutOfWindow => 40105,
            DuoErrorCode::Forbidden => 40301,
            DuoErrorCode::NotFound => 40401,
            DuoErrorCode::TooManyRequests => 42901,
            DuoErrorCode::Internal => 50001,
        }
    }

    /// The HTTP status: the code's first three digits.
    pub fn status(self) -> u16 {
        u16::try_from(self.code() / 100).unwrap_or(500)
    }

    /// Duo's `message` for the code.
    pub fn message(self) -> &'static str {
        match self {
            DuoErrorCode::InvalidParameters => "Invalid request parameters",
            DuoErrorCode::MissingCredentials => "Missing request credentials",
            DuoErrorCode::InvalidIntegrationKey => "Invalid integration key in request credentials",
            DuoErrorCode::InvalidSignature => "Invalid signature in request credentials",
            DuoErrorCode::DateOutOfWindow => "Request date is too far from the server's time",
            DuoErrorCode::Forbidden => "Access forbidden",
            DuoErrorCode::NotFound => "Resource not found",
            DuoErrorCode::TooManyRequests => "Too many requests",
            DuoErrorCode::Internal => "Internal server error",
        }
    }
}

/// `{"stat": "OK", "response": ...}`.
#[derive(Debug, Serialize)]
pub struct Ok<T> {
    pub stat: &'static str,
    pub response: T,
}

impl<T> Ok<T> {
    pub fn new(response: T) -> Self {
        Ok {
            stat: "OK",
            response,
        }
    }
}

/// `{"stat": "FAIL", "code": 40002, "message": ..., "message_detail": ...}`.
#[derive(Debug, Serialize)]
pub struct Fail {
    pub stat: &'static str,
    pub code: u32,
    pub message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_detail: Option<String>,
}

impl Fail {
    pub fn new(code: DuoErrorCode, detail: Option<String>) -> Self {
        Fail {
            stat: "FAIL",
            code: code.code(),
            message: code.message(),
            message_detail: detail,
        }
    }
}

/// `ping` and `check`: the server's time, which duo_unix uses to correct its clock.
#[derive(Debug, Serialize)]
pub struct Time {
    pub time: i64,
}

/// One of the user's devices as `preauth` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    /// The device's id, which `auth` takes as `device`.
    pub device: String,
    /// Always `phone`: Duo's name for a device that takes pushes.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub display_name: String,
    /// `auto` and `push`; `mobile_otp` when the user has a TOTP authenticator.
    pub capabilities: Vec<&'static str>,
}

/// The text prompt duo_unix shows (`text_prompt=1`): the lines, and what each answer means.
#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    pub text: String,
    pub factors: BTreeMap<String, String>,
}

/// `preauth`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Preauth {
    /// `auth`, `allow`, `deny` or `enroll`.
    pub result: &'static str,
    pub status_msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<Device>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

/// A finished `auth` (synchronous) or `auth_status`.
#[derive(Debug, Clone, Serialize)]
pub struct AuthResult {
    /// `allow`, `deny` or (for `auth_status` only) `waiting`.
    pub result: &'static str,
    /// Duo's machine-readable status: `allow`, `deny`, `fraud`, `timeout`, `locked_out`,
    /// `pushed`, `bypass`.
    pub status: &'static str,
    pub status_msg: String,
    /// The request's id at Assent, once it ended: with the application's API key,
    /// `GET /v1/approvals/{id}` reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// The request's receipt once it ended (a compact JWS anyone can verify with Assent's
    /// published key: docs/protocol.md, "Receipts").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// The code the client shows and the user types on the device (Verified Push).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_push_code: Option<String>,
}

/// An `async=1` push: the transaction id to poll with `auth_status`.
#[derive(Debug, Clone, Serialize)]
pub struct AuthStarted {
    pub txid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_push_code: Option<String>,
}

/// `enroll`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Enrollment {
    /// An image of the activation link (a `data:` URL of an SVG QR code).
    pub activation_barcode: String,
    /// The activation link, which Assent's authenticators take.
    pub activation_code: String,
    pub activation_url: String,
    /// When the link expires (Unix time).
    pub expiration: i64,
    pub user_id: String,
    pub username: String,
    pub valid_secs: i64,
}
