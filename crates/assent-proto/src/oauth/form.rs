//! `application/x-www-form-urlencoded` request bodies as OAuth reads them (RFC 6749 §3.1 and
//! appendix B), and the client credentials a body and an `Authorization` header carry
//! (RFC 6749 §2.3, RFC 7523 §2.2).

use super::assertion::CLIENT_ASSERTION_TYPE;
use super::error::{OAuthError, OAuthErrorCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Most parameters in one body; a CIBA request has about a dozen.
pub const MAX_PARAMS: usize = 64;
/// Largest body parsed: room for a signed request object and authorization details.
pub const MAX_FORM_LEN: usize = 64 * 1024;
/// Longest `Authorization` header read for HTTP Basic.
pub const MAX_BASIC_LEN: usize = 2048;

/// The parameters of a form body: each name at most once, none with an empty value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Names only: values include client secrets and assertions, which must not reach a log.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequest, description)
}

impl Params {
    /// Parses a form body. Refused with `invalid_request`: a body over [`MAX_FORM_LEN`] bytes
    /// or with more than [`MAX_PARAMS`] parameters, a malformed `%` escape, text that is not
    /// UTF-8 once decoded, and a name given twice (RFC 6749 §3.1: "Request and response
    /// parameters MUST NOT be included more than once", so that no two parts of a server can
    /// read two different values). A parameter with an empty value is absent (same section).
    pub fn parse(body: &[u8]) -> Result<Params, OAuthError> {
        if body.len() > MAX_FORM_LEN {
            return Err(invalid_request(format!(
                "the body is larger than {MAX_FORM_LEN} bytes"
            )));
        }
        let mut params = Params::default();
        let segments = body.split(|b| *b == b'&').filter(|s| !s.is_empty());
        for (count, segment) in segments.enumerate() {
            if count >= MAX_PARAMS {
                return Err(invalid_request(format!(
                    "more than {MAX_PARAMS} parameters"
                )));
            }
            let (name, value) = match segment.iter().position(|b| *b == b'=') {
                Some(at) => (&segment[..at], &segment[at + 1..]),
                None => (segment, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if value.is_empty() || name.is_empty() {
                continue;
            }
            if params.get(&name).is_some() {
                return Err(invalid_request(format!(
                    "the parameter {} is given more than once",
                    shown(&name)
                )));
            }
            params.pairs.push((name, value));
        }
        Ok(params)
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Removes a parameter and returns its value.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let at = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(at).1)
    }

    /// The parameters' names, in the order they came.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(n, _)| n.as_str())
    }

    /// Sets a parameter, replacing its value if present; an empty value removes it, as an
    /// empty value in a body would be absent. Returns the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let name = name.into();
        let value = value.into();
        let previous = self.take(&name);
        if !value.is_empty() {
            self.pairs.push((name, value));
        }
        previous
    }

    /// Whether no parameter is present.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// How many parameters are present.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }
}

/// A parameter name as shown in an error: names are the client's input, so cut short.
fn shown(name: &str) -> String {
    name.chars().take(40).collect()
}

/// Decodes one form-urlencoded name or value: `+` is a space, `%XX` a byte, and the bytes must
/// be UTF-8. A `%` not followed by two hex digits is refused rather than kept, so two parsers
/// cannot read the same body differently.
fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut at = 0;
    while let Some(&byte) = raw.get(at) {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = raw.get(at + 1).and_then(|b| (*b as char).to_digit(16));
                let low = raw.get(at + 2).and_then(|b| (*b as char).to_digit(16));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(invalid_request(
                        "a % escape is not followed by two hex digits",
                    ));
                };
                // Two hex digits make at most 255.
                bytes.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
                at += 2;
            }
            _ => bytes.push(byte),
        }
        at += 1;
    }
    String::from_utf8(bytes).map_err(|_| invalid_request("the body is not UTF-8 once decoded"))
}

/// How a client authenticated to an endpoint. The secret and assertion are not checked here:
/// the caller compares the secret in constant time with the registered one, or verifies the
/// assertion with [`super::assertion::verify_client_assertion`].
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// `client_secret_basic` (`basic` true) or `client_secret_post`.
    Secret {
        client_id: String,
        secret: String,
        basic: bool,
    },
    /// `private_key_jwt`: the client is the assertion's `iss`; `client_id` if the body gave one
    /// (it must then equal `iss`, which the caller checks).
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
    /// Only a `client_id`: a client that does not authenticate. Whether that is enough is the
    /// endpoint's decision.
    IdOnly { client_id: String },
}

/// The client id only: the secret and the assertion must not reach a log.
impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientCredentials::Secret {
                client_id, basic, ..
            } => f
                .debug_struct("Secret")
                .field("client_id", client_id)
                .field("basic", basic)
                .finish_non_exhaustive(),
            ClientCredentials::Assertion { client_id, .. } => f
                .debug_struct("Assertion")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            ClientCredentials::IdOnly { client_id } => f
                .debug_struct("IdOnly")
                .field("client_id", client_id)
                .finish(),
        }
    }
}

/// Reads the client's credentials from the `Authorization` header (HTTP Basic only) and the
/// body, and removes the credential parameters from `params` so that nothing downstream sees a
/// secret. Refusals: a header of another scheme or a malformed Basic value, a
/// `client_assertion_type` other than the JWT bearer type, or no credentials at all are
/// `invalid_client`; two methods at once (RFC 6749 §2.3: "MUST NOT use more than one
/// authentication method in each request"), a body `client_id` other than the Basic one, a
/// `client_secret` without a `client_id` and a type without an assertion are `invalid_request`.
pub fn client_credentials(
    authorization: Option<&str>,
    params: &mut Params,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.take("client_id");
    let body_secret = params.take("client_secret");
    let assertion = params.take("client_assertion");
    let assertion_type = params.take("client_assertion_type");
    let basic = authorization.map(basic_credentials).transpose()?;

    let methods = usize::from(basic.is_some())
        + usize::from(body_secret.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(invalid_request(
            "use exactly one client authentication method per request",
        ));
    }
    if let Some((client_id, secret)) = basic {
        if assertion_type.is_some() {
            return Err(invalid_request(
                "client_assertion_type without client_assertion",
            ));
        }
        if body_id.as_ref().is_some_and(|id| *id != client_id) {
            return Err(invalid_request(
                "the client_id in the body differs from the one in the Authorization header",
            ));
        }
        return Ok(ClientCredentials::Secret {
            client_id,
            secret,
            basic: true,
        });
    }
    if let Some(secret) = body_secret {
        if assertion_type.is_some() {
            return Err(invalid_request(
                "client_assertion_type without client_assertion",
            ));
        }
        let client_id =
            body_id.ok_or_else(|| invalid_request("client_secret needs a client_id"))?;
        return Ok(ClientCredentials::Secret {
            client_id,
            secret,
            basic: false,
        });
    }
    if let Some(assertion) = assertion {
        if assertion_type.as_deref() != Some(CLIENT_ASSERTION_TYPE) {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidClient,
                format!("client_assertion_type must be {CLIENT_ASSERTION_TYPE}"),
            ));
        }
        return Ok(ClientCredentials::Assertion {
            client_id: body_id,
            assertion,
        });
    }
    if assertion_type.is_some() {
        return Err(invalid_request(
            "client_assertion_type without client_assertion",
        ));
    }
    match body_id {
        Some(client_id) => Ok(ClientCredentials::IdOnly { client_id }),
        None => Err(OAuthError::new(
            OAuthErrorCode::InvalidClient,
            "the client did not authenticate",
        )),
    }
}

/// The client id and secret of an HTTP Basic header: base64 of the form-urlencoded id, a colon
/// and the form-urlencoded secret (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Result<(String, String), OAuthError> {
    let refuse = |description: &str| OAuthError::new(OAuthErrorCode::InvalidClient, description);
    if header.len() > MAX_BASIC_LEN {
        return Err(refuse("the Authorization header is too long"));
    }
    let (scheme, encoded) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(refuse(
            "clients authenticate here with HTTP Basic, a client secret or a client assertion",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| refuse("the Basic credentials are not base64"))?;
    let at = decoded
        .iter()
        .position(|b| *b == b':')
        .ok_or_else(|| refuse("the Basic credentials have no colon"))?;
    let client_id =
        decode(&decoded[..at]).map_err(|_| refuse("the Basic client id is not valid"))?;
    let secret =
        decode(&decoded[at + 1..]).map_err(|_| refuse("the Basic client secret is not valid"))?;
    if client_id.is_empty() {
        return Err(refuse("the Basic credentials have no client id"));
    }
    Ok((client_id, secret))
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
