//! Creating Duo integrations and authenticating the calls made with their keys: the signature
//! checked exactly as Duo's clients make it, the date within the window, and each signature
//! accepted once.

use super::error::{DuoError, refuse};
use super::records::DuoIntegration;
use crate::audit::AuditEvent;
use crate::error::CoreError;
use crate::ids::AppId;
use crate::model::App;
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::duo::api::DuoErrorCode;
use assent_proto::duo::canonical::{canonical_v1, canonical_v2, canonical_v5};
use assent_proto::duo::signature::{
    DEFAULT_DATE_WINDOW, SigVersion, date_is_fresh, parse_authorization, parse_date, verify,
};
use time::Duration;

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct NewDuoIntegration {
    pub app_id: String,
    /// The host name clients are told to use; the public URL's host (and port) by default.
    pub api_host: Option<String>,
    pub allow_unmatched_push: bool,
    pub allow_legacy_v1: bool,
}

/// An integration just created, with its secret key: shown this once.
#[derive(Debug, Clone)]
pub struct CreatedIntegration {
    pub integration: DuoIntegration,
    pub skey: String,
}

/// The parts of a received request that its signature covers, as the HTTP edge read them.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub authorization: Option<&'a str>,
    /// `X-Duo-Date` when sent (duo_unix), else `Date` (duo_client).
    pub date: Option<&'a str>,
    pub method: &'a str,
    /// The host names the client may have signed: the `Host` header as sent, and without its
    /// port (duo_unix signs the name alone, duo_client what it was given).
    pub hosts: &'a [String],
    pub path: &'a str,
    /// The query's or the form body's pairs; none for a JSON body.
    pub params: &'a [(String, String)],
    /// The body of a version 5 `POST` (JSON).
    pub json_body: Option<&'a [u8]>,
    /// Every `X-Duo-*` header.
    pub duo_headers: &'a [(String, String)],
    /// A call of the legacy Auth API v1 (`/rest/v1/*.bson`): signed without a date.
    pub legacy_v1: bool,
}

/// An integration whose signature verified for this request; only
/// [`Assent::authenticate_duo`] makes one.
#[derive(Debug, Clone)]
pub struct DuoCaller {
    pub(crate) integration: DuoIntegration,
    pub(crate) app: App,
}

impl DuoCaller {
    pub fn integration(&self) -> &DuoIntegration {
        &self.integration
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

/// What a secret key is sealed to: its integration.
fn skey_context(ikey: &str) -> String {
    format!("duo-skey:{ikey}")
}

fn host_of(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

impl Assent {
    /// Creates an integration for an existing application: a new integration key, and a
    /// secret key returned this once and kept sealed with the data key.
    pub async fn create_duo_integration(
        &self,
        by: &Principal,
        new: NewDuoIntegration,
    ) -> Result<CreatedIntegration, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such application");
        let app_id = AppId::parse(&new.app_id).ok_or_else(not_found)?;
        self.records
            .app(self.store.as_ref(), &app_id)
            .await?
            .ok_or_else(not_found)?;
        let api_host = match new.api_host {
            Some(host) => {
                let ok = !host.is_empty()
                    && host.len() <= 253
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
                if !ok {
                    return Err(CoreError::rejected(
                        ProblemCode::InvalidRequest,
                        "api_host is a host name, optionally with :port",
                    ));
                }
                host.to_ascii_lowercase()
            }
            None => host_of(&self.settings.public_url),
        };
        let ikey = format!("DI{}", secrets::random_chars(18, UPPER_DIGITS)?);
        let skey = secrets::random_chars(40, ALPHANUMERIC)?;
        let skey_sealed = self
            .data_key
            .seal(skey.as_bytes(), &skey_context(&ikey))
            .map_err(|e| CoreError::Internal(format!("sealing a Duo secret key: {e}")))?;
        let integration = DuoIntegration {
            ikey,
            app_id,
            skey_sealed,
            api_host,
            allow_unmatched_push: new.allow_unmatched_push,
            allow_legacy_v1: new.allow_legacy_v1,
            created_at: self.now(),
        };
        let event = AuditEvent::DuoIntegrationCreated {
            ikey: integration.ikey.clone(),
            app_id: integration.app_id.to_string(),
            api_host: integration.api_host.clone(),
            allow_unmatched_push: integration.allow_unmatched_push,
            allow_legacy_v1: integration.allow_legacy_v1,
        };
        self.store
            .insert_duo_integration(&integration, self.audit(by.actor(), event))
            .await?;
        Ok(CreatedIntegration { integration, skey })
    }

    /// Every integration, oldest first (without secrets).
    pub async fn list_duo_integrations(&self) -> Result<Vec<DuoIntegration>, CoreError> {
        Ok(self.store.list_duo_integrations().await?)
    }

    /// Authenticates an Auth API call: the `Authorization` header names an integration, whose
    /// secret key must have signed this request (version 5 for a JSON body, version 2 for a
    /// form body, either for a query), dated within [`DEFAULT_DATE_WINDOW`] seconds of the
    /// server's clock, and not seen before: a captured request cannot be sent again.
    pub async fn authenticate_duo(
        &self,
        request: &SignedRequest<'_>,
    ) -> Result<DuoCaller, DuoError> {
        let missing = |detail: &str| refuse(DuoErrorCode::MissingCredentials, detail);
        let header = request
            .authorization
            .ok_or_else(|| missing("no Authorization header"))?;
        let presented = parse_authorization(header).map_err(|e| missing(&e.to_string()))?;
        let dated = if request.legacy_v1 {
            None
        } else {
            let text = request
                .date
                .ok_or_else(|| missing("no Date or X-Duo-Date header"))?;
            let date = parse_date(text).ok_or_else(|| {
                missing("the date header is not an RFC 2822 date (Tue, 21 Aug 2012 17:29:18 -0000)")
            })?;
            let now = self.now().unix_timestamp();
            if !date_is_fresh(date, now, DEFAULT_DATE_WINDOW) {
                return Err(refuse(
                    DuoErrorCode::DateOutOfWindow,
                    format!(
                        "the request is dated more than {DEFAULT_DATE_WINDOW} seconds from the server's time"
                    ),
                ));
            }
            Some((text, date))
        };
        let integration = self
            .store
            .duo_integration(&presented.ikey)
            .await?
            .ok_or_else(|| {
                refuse(
                    DuoErrorCode::InvalidIntegrationKey,
                    "no integration has this key",
                )
            })?;
        if request.legacy_v1 && !integration.allow_legacy_v1 {
            return Err(refuse(
                DuoErrorCode::Forbidden,
                "this integration does not accept the legacy Auth API v1 (signatures without a date); use a client of the Auth API v2, or an admin allows v1 for it",
            ));
        }
        let skey = self
            .data_key
            .open(&integration.skey_sealed, &skey_context(&integration.ikey))
            .map_err(|e| {
                CoreError::Internal(format!("Duo secret key of {}: {e}", integration.ikey))
            })?;
        let date_text = dated.map_or("", |(text, _)| text);
        let versions: &[SigVersion] = if request.legacy_v1 {
            &[SigVersion::V1]
        } else if request.json_body.is_some() {
            &[SigVersion::V5]
        } else if request.method.eq_ignore_ascii_case("GET") {
            &[SigVersion::V5, SigVersion::V2]
        } else {
            &[SigVersion::V2]
        };
        let signed = request.hosts.iter().any(|host| {
            versions.iter().any(|&version| {
                let canonical = match version {
                    SigVersion::V1 => {
                        canonical_v1(request.method, host, request.path, request.params)
                    }
                    SigVersion::V2 => canonical_v2(
                        date_text,
                        request.method,
                        host,
                        request.path,
                        request.params,
                    ),
                    SigVersion::V5 => canonical_v5(
                        date_text,
                        request.method,
                        host,
                        request.path,
                        request.params,
                        request.json_body.unwrap_or_default(),
                        request.duo_headers,
                    ),
                };
                verify(&skey, version, &canonical, &presented.signature_hex)
            })
        });
        if !signed {
            return Err(refuse(
                DuoErrorCode::InvalidSignature,
                "the signature does not match this request under the integration's secret key",
            ));
        }
        // A v1 signature has no date: nothing tells a replay from a repeated call (duo_unix
        // polls with identical requests), which is why v1 is the integration's explicit choice.
        let Some((_, date)) = dated else {
            return self.duo_caller(integration).await;
        };
        // The date has one-second resolution, so the window bounds how long a signature must
        // be remembered: past it the date check refuses the request anyway.
        let forget_after = time::OffsetDateTime::from_unix_timestamp(date)
            .map_err(|_| CoreError::Internal("a checked Duo date out of range".into()))?
            + Duration::seconds(DEFAULT_DATE_WINDOW + 1);
        let fingerprint =
            assent_proto::jose::b64(secrets::sha256(presented.signature_hex.as_bytes()));
        if !self
            .store
            .consume_proof(
                &format!("duo:{}", integration.ikey),
                &fingerprint,
                forget_after,
            )
            .await?
        {
            return Err(refuse(
                DuoErrorCode::InvalidSignature,
                "this signature was used already: every request is signed anew",
            ));
        }
        self.duo_caller(integration).await
    }

    async fn duo_caller(&self, integration: DuoIntegration) -> Result<DuoCaller, DuoError> {
        let app = self
            .records
            .app(self.store.as_ref(), &integration.app_id)
            .await?
            .ok_or_else(|| {
                CoreError::Internal(format!("the application of {}", integration.ikey))
            })?;
        Ok(DuoCaller { integration, app })
    }
}
