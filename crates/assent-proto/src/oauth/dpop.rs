//! RFC 9449 DPoP proofs: a client proves on each request that it holds the private key an
//! access token is bound to, so a stolen token is useless without the key. Proofs are ES256
//! with a P-256 key only, like every JWS Assent accepts from a device (`crate::jose`); a proof
//! with another algorithm is refused, and the metadata says so
//! (`dpop_signing_alg_values_supported`).

use super::claims;
use super::error::{OAuthError, OAuthErrorCode};
use crate::jose::{JoseError, Parsed, SigningKey, sha256_b64};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";

/// What a proof must match: the request it came with, and the token it presents.
#[derive(Debug, Clone, Copy)]
pub struct DpopCheck<'a> {
    /// The request's HTTP method.
    pub method: &'a str,
    /// The request's URL as the server is reached (its public URL), query and fragment ignored.
    pub url: &'a str,
    /// Unix seconds.
    pub now: i64,
    /// Oldest `iat` accepted, in seconds before now.
    pub max_age: i64,
    /// How far `iat` may be ahead of now, for the client's clock.
    pub leeway: i64,
    /// The access token presented with the proof, at a resource; `None` at the token endpoint.
    pub access_token: Option<&'a str>,
}

/// A proof that passed every check but single use: the caller stores (`jkt`, `jti`) for
/// `max_age` past `iat` and refuses the pair a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDpop {
    /// The RFC 7638 thumbprint of the proof's key: what a token's `cnf.jkt` binds to.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

/// Verifies a DPoP proof; every failure is `invalid_dpop_proof`. The checks follow RFC 9449
/// §4.3: `typ` keeps another kind of JWT from passing as a proof; the signature by the key in
/// the header proves possession (and a private member in that key is refused: such a key is
/// leaked); `htm` and `htu` stop a proof made for one request being used for another; `iat`
/// bounds its life; `jti` lets the caller refuse a replay; `ath` ties a proof to the one
/// access token it presents, so a proof captured with one token cannot go with another.
pub fn verify_dpop_proof(proof: &str, check: &DpopCheck<'_>) -> Result<VerifiedDpop, OAuthError> {
    let refuse = |defect: String| {
        OAuthError::new(
            OAuthErrorCode::InvalidDpopProof,
            format!("DPoP proof: {defect}"),
        )
    };
    let parsed = Parsed::parse(proof).map_err(|e| refuse(e.to_string()))?;
    if !parsed
        .header
        .typ
        .as_deref()
        .is_some_and(|typ| typ.eq_ignore_ascii_case(DPOP_TYP))
    {
        return Err(refuse(format!("typ must be {DPOP_TYP}")));
    }
    let jwk = parsed
        .header
        .jwk
        .as_ref()
        .ok_or_else(|| refuse("the header has no jwk".into()))?;
    let claims: Map<String, Value> = parsed.verify(jwk).map_err(|e| refuse(e.to_string()))?;
    if claims::string(&claims, "htm").map_err(refuse)? != Some(check.method) {
        return Err(refuse(format!("htm must be {}", check.method)));
    }
    let htu = claims::string(&claims, "htu")
        .map_err(refuse)?
        .ok_or_else(|| refuse("htu is required".into()))?;
    if !same_target(htu, check.url) {
        return Err(refuse("htu is not this request's URL".into()));
    }
    let iat = claims::required_time(&claims, "iat").map_err(refuse)?;
    if iat < check.now.saturating_sub(check.max_age) || iat > check.now.saturating_add(check.leeway)
    {
        return Err(refuse("iat is outside the accepted window".into()));
    }
    let jti = claims::jti(&claims).map_err(refuse)?;
    if let Some(token) = check.access_token {
        let ath = claims::string(&claims, "ath")
            .map_err(refuse)?
            .ok_or_else(|| refuse("ath is required with an access token".into()))?;
        let expected = sha256_b64(token);
        if !bool::from(ath.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(refuse("ath is not the hash of this access token".into()));
        }
    }
    Ok(VerifiedDpop {
        jkt: jwk.thumbprint(),
        jti,
        iat,
    })
}

/// Whether two URLs designate the same resource for DPoP (RFC 9449 §4.3 point 9, RFC 3986
/// §6.2.2 and §6.2.3): scheme and host compared without case, default ports made explicit, the
/// path compared after normalization, query and fragment ignored.
fn same_target(htu: &str, expected: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(htu), url::Url::parse(expected)) else {
        return false;
    };
    !a.cannot_be_a_base()
        && a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// Makes a DPoP proof for `method` on `url` (query and fragment left out of `htu`), with `ath`
/// when it presents `access_token`. For clients, tests, the MCP server and the bench.
pub fn dpop_proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    now: i64,
    jti: &str,
    access_token: Option<&str>,
) -> Result<String, JoseError> {
    let htu = url.split(['?', '#']).next().unwrap_or(url);
    let mut claims = json!({"jti": jti, "htm": method, "htu": htu, "iat": now});
    if let (Some(token), Value::Object(map)) = (access_token, &mut claims) {
        map.insert("ath".into(), sha256_b64(token).into());
    }
    key.sign(DPOP_TYP, None, true, &claims)
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
