//! The OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414) that Assent serves at
//! `/.well-known/openid-configuration`, with the CIBA, DPoP and RFC 9396 members: a certified
//! client configures itself from it.

use super::tokens::AUTH_REQ_ID_CLAIM;
use serde::Serialize;

/// The CIBA grant type (CIBA §4).
pub const CIBA_GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";
/// The `acr` of an approval made on an enrolled device.
pub const ACR_DEVICE: &str = "urn:assent:acr:device";
/// The `acr` of an approval that also verified the user (a passkey with user verification).
pub const ACR_USER_VERIFICATION: &str = "urn:assent:acr:uv";

/// What the provider supports, as its discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub backchannel_authentication_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub backchannel_token_delivery_modes_supported: Vec<String>,
    pub backchannel_user_code_parameter_supported: bool,
    pub backchannel_authentication_request_signing_alg_values_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub authorization_details_types_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// Empty: Assent has no front-channel authorization endpoint.
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub acr_values_supported: Vec<String>,
    /// Assent's extension: the backchannel response carries a `display_code`.
    pub backchannel_display_code_supported: bool,
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

impl ProviderMetadata {
    /// The metadata of the provider at `issuer`. The issuer is published exactly as given (it
    /// must equal the `iss` of every token); endpoint URLs are built on it without a doubled
    /// slash when it ends with one.
    pub fn new(issuer: &str, authorization_details_types: Vec<String>) -> Self {
        let base = issuer.trim_end_matches('/');
        let auth_methods = strings(&[
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ]);
        let client_algs = strings(&["ES256", "PS256"]);
        ProviderMetadata {
            issuer: issuer.to_owned(),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            backchannel_authentication_endpoint: format!("{base}/oauth2/bc-authorize"),
            token_endpoint: format!("{base}/oauth2/token"),
            revocation_endpoint: format!("{base}/oauth2/revoke"),
            introspection_endpoint: format!("{base}/oauth2/introspect"),
            backchannel_token_delivery_modes_supported: strings(&["poll", "ping", "push"]),
            backchannel_user_code_parameter_supported: true,
            backchannel_authentication_request_signing_alg_values_supported: client_algs.clone(),
            grant_types_supported: strings(&[CIBA_GRANT_TYPE]),
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            token_endpoint_auth_signing_alg_values_supported: client_algs.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_signing_alg_values_supported: client_algs.clone(),
            introspection_endpoint_auth_methods_supported: auth_methods,
            introspection_endpoint_auth_signing_alg_values_supported: client_algs,
            authorization_details_types_supported: authorization_details_types,
            scopes_supported: strings(&["openid"]),
            response_types_supported: Vec::new(),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&["ES256"]),
            dpop_signing_alg_values_supported: strings(&["ES256"]),
            claims_supported: strings(&[
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "amr",
                "at_hash",
                AUTH_REQ_ID_CLAIM,
            ]),
            acr_values_supported: strings(&[ACR_DEVICE, ACR_USER_VERIFICATION]),
            backchannel_display_code_supported: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_hang_off_the_issuer() {
        for issuer in ["https://assent.example", "https://assent.example/"] {
            let metadata = ProviderMetadata::new(issuer, vec!["payment_initiation".into()]);
            assert_eq!(metadata.issuer, issuer);
            assert_eq!(
                metadata.jwks_uri,
                "https://assent.example/.well-known/jwks.json"
            );
            assert_eq!(
                metadata.backchannel_authentication_endpoint,
                "https://assent.example/oauth2/bc-authorize"
            );
            assert_eq!(
                metadata.token_endpoint,
                "https://assent.example/oauth2/token"
            );
            assert_eq!(
                metadata.revocation_endpoint,
                "https://assent.example/oauth2/revoke"
            );
            assert_eq!(
                metadata.introspection_endpoint,
                "https://assent.example/oauth2/introspect"
            );
        }
        let nested = ProviderMetadata::new("https://example.com/assent/", vec![]);
        assert_eq!(
            nested.token_endpoint,
            "https://example.com/assent/oauth2/token"
        );
    }

    #[test]
    fn serializes_the_ciba_and_dpop_members() {
        let value = serde_json::to_value(ProviderMetadata::new(
            "https://assent.example",
            vec!["deploy".into()],
        ))
        .unwrap();
        assert_eq!(value["grant_types_supported"], json!([CIBA_GRANT_TYPE]));
        assert_eq!(
            value["backchannel_token_delivery_modes_supported"],
            json!(["poll", "ping", "push"])
        );
        assert_eq!(value["backchannel_user_code_parameter_supported"], true);
        assert_eq!(
            value["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ])
        );
        assert_eq!(
            value["backchannel_authentication_request_signing_alg_values_supported"],
            json!(["ES256", "PS256"])
        );
        assert_eq!(value["dpop_signing_alg_values_supported"], json!(["ES256"]));
        assert_eq!(
            value["authorization_details_types_supported"],
            json!(["deploy"])
        );
        assert_eq!(value["response_types_supported"], json!([]));
        assert_eq!(
            value["acr_values_supported"],
            json!(["urn:assent:acr:device", "urn:assent:acr:uv"])
        );
        assert_eq!(value["backchannel_display_code_supported"], true);
        assert!(
            value["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(AUTH_REQ_ID_CLAIM))
        );
    }
}
