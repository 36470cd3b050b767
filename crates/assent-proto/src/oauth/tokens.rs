//! What the token endpoint issues and the other endpoints answer: ID token and access token
//! claims (OpenID Connect Core §2, RFC 9068), the token and backchannel responses (CIBA §7.3,
//! §11), and introspection (RFC 7662).

use crate::jose::b64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The claim of an ID token that names the CIBA request it answers (CIBA §10.1.1 for push mode;
/// Assent sets it in every mode).
pub const AUTH_REQ_ID_CLAIM: &str = "urn:openid:params:jwt:claim:auth_req_id";
/// The `typ` of a JWT access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// `token_type` of a bearer token.
pub const TOKEN_TYPE_BEARER: &str = "Bearer";
/// `token_type` of a DPoP-bound token (RFC 9449 §5).
pub const TOKEN_TYPE_DPOP: &str = "DPoP";

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of SHA-256 of the access token,
/// base64url, so an ID token commits to the access token issued with it.
pub fn at_hash(access_token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes());
    b64(&digest.as_ref()[..16])
}

/// The claims of an ID token Assent issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(
        rename = "urn:openid:params:jwt:claim:auth_req_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_req_id: Option<String>,
}

/// RFC 7800 confirmation: the thumbprint of the DPoP key a token is bound to (RFC 9449 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    pub jkt: String,
}

/// The claims of an access token (RFC 9068 §2.2), with the approval it was issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: String,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// What the user approved (RFC 9396 §9.1): a resource server acts on these, not on scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_details: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// Assent's approval this token stands for, to find its receipt and audit trail.
    pub approval_id: String,
}

/// A successful token response (RFC 6749 §5.1, CIBA §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// [`TOKEN_TYPE_BEARER`] or [`TOKEN_TYPE_DPOP`].
    pub token_type: String,
    pub expires_in: u64,
    pub id_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Assent's extension: the approval's signed receipt, verifiable offline.
    pub receipt: String,
}

/// A successful backchannel authentication response (CIBA §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackchannelResponse {
    pub auth_req_id: String,
    pub expires_in: u64,
    /// Seconds a polling client waits between token requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// Assent's extension: the code the client shows, which the user types on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_code: Option<String>,
}

/// An introspection response (RFC 7662 §2.2). An inactive token says nothing else
/// (`{"active":false}`): a caller must not learn about tokens it cannot use.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub authorization_details: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

impl IntrospectionResponse {
    /// The answer for a token that is unknown, expired, revoked or not the caller's to see.
    pub fn inactive() -> Self {
        IntrospectionResponse::default()
    }

    /// The answer for an active access token, from its claims.
    pub fn active(claims: &AccessTokenClaims, token_type: &str) -> Self {
        IntrospectionResponse {
            active: true,
            scope: Some(claims.scope.clone()),
            client_id: Some(claims.client_id.clone()),
            sub: Some(claims.sub.clone()),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            iss: Some(claims.iss.clone()),
            aud: Some(claims.aud.clone()),
            jti: Some(claims.jti.clone()),
            token_type: Some(token_type.to_owned()),
            authorization_details: (!claims.authorization_details.is_empty())
                .then(|| claims.authorization_details.clone()),
            cnf: claims.cnf.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_hash_known_answers() {
        // Computed independently with Python's hashlib:
        // base64.urlsafe_b64encode(sha256(token).digest()[:16]).rstrip(b"=")
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNOc3lbZmYVCimNeDbM8"),
            "eHJCNvWEcp1TjOZIl_aGOw"
        );
        assert_eq!(
            at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA"),
            "wfgvmE9VxjAudsl9lc6TqA"
        );
        assert_eq!(at_hash("").len(), 22);
    }

    #[test]
    fn id_token_names_the_auth_req_id_claim_and_skips_absent_members() {
        let claims = IdTokenClaims {
            iss: "https://assent.example".into(),
            sub: "alice".into(),
            aud: "agent-1".into(),
            iat: 10,
            exp: 20,
            auth_time: 9,
            acr: None,
            amr: vec![],
            at_hash: Some("h".into()),
            auth_req_id: Some("r1".into()),
        };
        let value = serde_json::to_value(&claims).unwrap();
        assert_eq!(value[AUTH_REQ_ID_CLAIM], "r1");
        assert!(value.get("acr").is_none());
        assert!(value.get("amr").is_none());
        let back: IdTokenClaims = serde_json::from_value(value).unwrap();
        assert_eq!(back, claims);
        let bare = IdTokenClaims {
            auth_req_id: None,
            at_hash: None,
            ..claims
        };
        let value = serde_json::to_value(&bare).unwrap();
        assert!(value.get(AUTH_REQ_ID_CLAIM).is_none());
        assert!(value.get("at_hash").is_none());
    }

    #[test]
    fn access_token_claims_follow_rfc9068() {
        let claims = AccessTokenClaims {
            iss: "https://assent.example".into(),
            sub: "alice".into(),
            aud: "https://api.example".into(),
            client_id: "agent-1".into(),
            iat: 10,
            exp: 310,
            jti: "t1".into(),
            scope: "openid".into(),
            auth_time: 9,
            acr: Some("urn:assent:acr:device".into()),
            authorization_details: vec![],
            cnf: Some(Confirmation {
                jkt: "thumb".into(),
            }),
            approval_id: "a1".into(),
        };
        let value = serde_json::to_value(&claims).unwrap();
        assert!(value.get("authorization_details").is_none());
        assert_eq!(value["cnf"], json!({"jkt": "thumb"}));
        let with_details = AccessTokenClaims {
            authorization_details: vec![json!({"type": "t"})],
            cnf: None,
            ..claims.clone()
        };
        let value = serde_json::to_value(&with_details).unwrap();
        assert_eq!(value["authorization_details"], json!([{"type": "t"}]));
        assert!(value.get("cnf").is_none());

        let active =
            serde_json::to_value(IntrospectionResponse::active(&claims, TOKEN_TYPE_DPOP)).unwrap();
        assert_eq!(active["active"], true);
        assert_eq!(active["token_type"], "DPoP");
        assert_eq!(active["cnf"]["jkt"], "thumb");
        assert!(active.get("authorization_details").is_none());
    }

    #[test]
    fn inactive_introspection_says_nothing_else() {
        assert_eq!(
            serde_json::to_string(&IntrospectionResponse::inactive()).unwrap(),
            r#"{"active":false}"#
        );
    }

    #[test]
    fn responses_skip_absent_members() {
        let response = BackchannelResponse {
            auth_req_id: "r".into(),
            expires_in: 120,
            interval: None,
            display_code: None,
        };
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"auth_req_id":"r","expires_in":120}"#
        );
        let token = TokenResponse {
            access_token: "a".into(),
            token_type: TOKEN_TYPE_BEARER.into(),
            expires_in: 300,
            id_token: "i".into(),
            scope: None,
            receipt: "r".into(),
        };
        let value = serde_json::to_value(&token).unwrap();
        assert!(value.get("scope").is_none());
        assert_eq!(value["token_type"], "Bearer");
    }
}
