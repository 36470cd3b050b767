//! Passkeys at a relying party's origin: Assent runs the WebAuthn server side for an
//! application (webauthn-rs), so that its own pages get a phishing-resistant check through the
//! same API as push. An admin gives the application its relying-party id and origin; the
//! application starts and finishes registration and authentication ceremonies for its users,
//! and its pages call the browser's WebAuthn API with the options. A ceremony is kept in the
//! database between start and finish (any node may finish it) and is used once, so an
//! assertion cannot be replayed; the signature counter must move forward, and a counter that
//! does not is refused and audited as a possible clone.

pub mod records;

use crate::audit::{Actor, AuditEvent};
use crate::error::{CoreError, StoreError};
use crate::ids::{AppId, Username};
use crate::model::App;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::random_token;
use records::{Ceremony, CeremonyKind, PasskeyProof, RpPasskey, RpWebauthn};
use serde_json::Value;
use time::Duration;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

/// How long a ceremony may take between its start and its finish.
const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// Most passkeys one user may register at one application.
const MAX_PASSKEYS: usize = 10;

/// How long a finished authentication may be shown by a request (`passkey_authentication`).
pub const PROOF_LIFETIME: Duration = Duration::minutes(5);

/// A passkey that verified.
#[derive(Debug, Clone)]
pub struct PasskeyCheck {
    pub user: Username,
    pub credential_id: String,
    pub counter: u32,
    pub user_verified: bool,
    /// The proof of this authentication that one request of the same user may show until
    /// `proof_expires_at` (the ceremony's id).
    pub authentication_id: String,
    pub proof_expires_at: time::OffsetDateTime,
}

fn refused(detail: impl Into<String>) -> CoreError {
    CoreError::rejected(ProblemCode::PasskeyRefused, detail)
}

fn invalid(detail: impl Into<String>) -> CoreError {
    CoreError::rejected(ProblemCode::InvalidRequest, detail)
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("webauthn: {e}"))
}

/// Whether an origin may be a relying party's: https, or http on localhost for development.
fn acceptable_origin(origin: &Url) -> bool {
    let local = matches!(origin.host_str(), Some("localhost"));
    (origin.scheme() == "https" || (origin.scheme() == "http" && local))
        && origin.path() == "/"
        && origin.query().is_none()
        && origin.fragment().is_none()
        && origin.username().is_empty()
}

impl Assent {
    /// Sets an application's WebAuthn identity: the relying-party id its passkeys are bound to,
    /// the name shown when one is created, and the origin its pages are served from.
    pub async fn set_app_webauthn(
        &self,
        by: &Principal,
        app_id: &str,
        rp_id: &str,
        rp_name: &str,
        origin: &str,
    ) -> Result<RpWebauthn, CoreError> {
        let app_id = AppId::parse(app_id)
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such application"))?;
        if self.store.app(&app_id).await?.is_none() {
            return Err(CoreError::rejected(
                ProblemCode::NotFound,
                "no such application",
            ));
        }
        let parsed = Url::parse(origin)
            .ok()
            .filter(acceptable_origin)
            .ok_or_else(|| {
                invalid("origin is an https origin (or http://localhost), without a path")
            })?;
        let rp_name = rp_name.trim();
        if rp_name.is_empty()
            || rp_name.chars().count() > 100
            || rp_name.chars().any(char::is_control)
        {
            return Err(invalid("rp_name is 1 to 100 printable characters"));
        }
        let config = RpWebauthn {
            app_id: app_id.clone(),
            rp_id: rp_id.to_ascii_lowercase(),
            rp_name: rp_name.to_owned(),
            origin: parsed.origin().ascii_serialization(),
        };
        // The relying-party id must be the origin's host or a suffix of it.
        self.webauthn_for(&config).map_err(|_| {
            invalid("rp_id must be the origin's host name or a parent domain of it")
        })?;
        let event = AuditEvent::RpWebauthnSet {
            app_id: app_id.to_string(),
            rp_id: config.rp_id.clone(),
            origin: config.origin.clone(),
        };
        self.store
            .set_app_webauthn(&config, self.audit(by.actor(), event))
            .await?;
        Ok(config)
    }

    fn webauthn_for(&self, config: &RpWebauthn) -> Result<Webauthn, CoreError> {
        let origin = Url::parse(&config.origin).map_err(internal)?;
        WebauthnBuilder::new(&config.rp_id, &origin)
            .and_then(|b| b.rp_name(&config.rp_name).build())
            .map_err(internal)
    }

    /// The application's WebAuthn, or a refusal saying an admin must set it first.
    async fn app_webauthn(&self, app: &App) -> Result<Webauthn, CoreError> {
        let config = self.store.app_webauthn(&app.id).await?.ok_or_else(|| {
            CoreError::rejected(
                ProblemCode::Forbidden,
                "this application has no WebAuthn identity: an admin sets its rp_id and origin first",
            )
        })?;
        self.webauthn_for(&config)
    }

    /// Stores a new ceremony with webauthn-rs's `state` and returns its id with the browser's
    /// `options`.
    async fn begin(
        &self,
        app: &App,
        user: &crate::model::User,
        kind: CeremonyKind,
        state: &impl serde::Serialize,
        options: &impl serde::Serialize,
    ) -> Result<(String, Value), CoreError> {
        let ceremony = Ceremony {
            id: random_token(24)?,
            app_id: app.id.clone(),
            user_id: user.id.clone(),
            kind,
            state: serde_json::to_string(state).map_err(internal)?,
            expires_at: self.now() + CEREMONY_LIFETIME,
        };
        self.store.insert_ceremony(&ceremony).await?;
        Ok((
            ceremony.id,
            serde_json::to_value(options).map_err(internal)?,
        ))
    }

    /// The application's ceremony `id` of `kind`, taken (it is used once).
    async fn take(&self, app: &App, id: &str, kind: CeremonyKind) -> Result<Ceremony, CoreError> {
        let gone = || {
            CoreError::rejected(
                ProblemCode::NotFound,
                "no such ceremony: unknown, used already, or expired",
            )
        };
        let ceremony = self
            .store
            .take_ceremony(id, &app.id, self.now())
            .await?
            .ok_or_else(gone)?;
        if ceremony.kind != kind {
            return Err(gone());
        }
        Ok(ceremony)
    }

    /// Starts registering a passkey for `username`: the options for the browser's
    /// `navigator.credentials.create`, and the ceremony to finish.
    pub async fn start_rp_passkey_registration(
        &self,
        app: &App,
        username: &str,
    ) -> Result<(String, Value), CoreError> {
        let webauthn = self.app_webauthn(app).await?;
        let user = self
            .user_for(&Principal::App(app.clone()), username)
            .await?;
        let existing = self.store.rp_passkeys(&app.id, &user.id).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(invalid(format!("at most {MAX_PASSKEYS} passkeys per user")));
        }
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let handle = Uuid::parse_str(user.id.as_str()).map_err(internal)?;
        let name = user.username.as_str();
        let (options, state) = webauthn
            .start_passkey_registration(handle, name, name, Some(exclude))
            .map_err(internal)?;
        self.begin(app, &user, CeremonyKind::Registration, &state, &options)
            .await
    }

    /// Finishes a registration with the browser's answer.
    pub async fn finish_rp_passkey_registration(
        &self,
        app: &App,
        ceremony: &str,
        credential: Value,
    ) -> Result<RpPasskey, CoreError> {
        let webauthn = self.app_webauthn(app).await?;
        let ceremony = self.take(app, ceremony, CeremonyKind::Registration).await?;
        let state: PasskeyRegistration = serde_json::from_str(&ceremony.state).map_err(internal)?;
        let answer: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| invalid(format!("credential: {e}")))?;
        let passkey = match webauthn.finish_passkey_registration(&answer, &state) {
            Ok(passkey) => passkey,
            Err(e) => return Err(self.passkey_refused(app, &ceremony, &e).await),
        };
        let record = RpPasskey {
            id: assent_proto::jose::b64(passkey.cred_id().as_slice()),
            app_id: app.id.clone(),
            user_id: ceremony.user_id.clone(),
            passkey: serde_json::to_string(&passkey).map_err(internal)?,
            counter: 0,
            created_at: self.now(),
            last_used_at: None,
        };
        let event = AuditEvent::RpPasskeyRegistered {
            app_id: app.id.to_string(),
            user_id: ceremony.user_id.to_string(),
            credential_id: record.id.clone(),
        };
        match self
            .store
            .insert_rp_passkey(&record, self.audit(Actor::App(app.id.clone()), event))
            .await
        {
            Ok(()) => Ok(record),
            Err(StoreError::Conflict(_)) => Err(CoreError::rejected(
                ProblemCode::AlreadyExists,
                "this passkey is registered already",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts authenticating `username` with one of their passkeys at this application: the
    /// options for `navigator.credentials.get`, and the ceremony to finish.
    pub async fn start_rp_passkey_authentication(
        &self,
        app: &App,
        username: &str,
    ) -> Result<(String, Value), CoreError> {
        let webauthn = self.app_webauthn(app).await?;
        let user = self
            .user_for(&Principal::App(app.clone()), username)
            .await?;
        let passkeys = self
            .store
            .rp_passkeys(&app.id, &user.id)
            .await?
            .iter()
            .map(|p| serde_json::from_str::<Passkey>(&p.passkey).map_err(internal))
            .collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(CoreError::rejected(
                ProblemCode::FactorNotEnrolled,
                format!("{} has no passkey at this application", user.username),
            ));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(internal)?;
        self.begin(app, &user, CeremonyKind::Authentication, &state, &options)
            .await
    }

    /// Finishes an authentication with the browser's assertion.
    pub async fn finish_rp_passkey_authentication(
        &self,
        app: &App,
        ceremony: &str,
        credential: Value,
    ) -> Result<PasskeyCheck, CoreError> {
        let webauthn = self.app_webauthn(app).await?;
        let ceremony = self
            .take(app, ceremony, CeremonyKind::Authentication)
            .await?;
        let state: PasskeyAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal)?;
        let answer: PublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| invalid(format!("credential: {e}")))?;
        // Looked up by the raw id, which is what webauthn-rs verifies; an `id` that says
        // otherwise is refused.
        let credential_id = assent_proto::jose::b64(answer.raw_id.as_slice());
        if answer.id != credential_id {
            return Err(invalid("credential: id and rawId differ"));
        }
        let stored = self
            .store
            .rp_passkeys(&app.id, &ceremony.user_id)
            .await?
            .into_iter()
            .find(|p| p.id == credential_id)
            .ok_or_else(|| refused("this passkey is not registered for the user"))?;
        let result = match webauthn.finish_passkey_authentication(&answer, &state) {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                let counter = self.asserted_counter(&answer);
                return Err(self.clone_suspected(app, &stored, counter).await);
            }
            Err(e) => return Err(self.passkey_refused(app, &ceremony, &e).await),
        };
        // Against the stored counter as it is now (the ceremony's copy may be older).
        let seen = stored.counter;
        if (result.counter() != 0 || seen != 0) && result.counter() <= seen {
            return Err(self.clone_suspected(app, &stored, result.counter()).await);
        }
        let mut passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(internal)?;
        passkey.update_credential(&result);
        let used = RpPasskey {
            passkey: serde_json::to_string(&passkey).map_err(internal)?,
            counter: result.counter(),
            last_used_at: Some(self.now()),
            ..stored.clone()
        };
        let event = AuditEvent::RpPasskeyUsed {
            app_id: app.id.to_string(),
            user_id: stored.user_id.to_string(),
            credential_id: stored.id.clone(),
            counter: result.counter(),
            user_verified: result.user_verified(),
        };
        let won = self
            .store
            .use_rp_passkey(&used, seen, self.audit(Actor::App(app.id.clone()), event))
            .await?;
        if !won {
            return Err(refused(
                "another assertion of this passkey was accepted first; start again",
            ));
        }
        let now = self.now();
        let proof = PasskeyProof {
            id: ceremony.id.clone(),
            app_id: app.id.clone(),
            user_id: stored.user_id.clone(),
            credential_id: stored.id.clone(),
            user_verified: result.user_verified(),
            verified_at: now,
            expires_at: now + PROOF_LIFETIME,
        };
        self.store.insert_passkey_proof(&proof).await?;
        Ok(PasskeyCheck {
            user: self.username_for_id(&stored.user_id).await?,
            credential_id: stored.id,
            counter: result.counter(),
            user_verified: result.user_verified(),
            authentication_id: proof.id,
            proof_expires_at: proof.expires_at,
        })
    }

    /// Takes the passkey proof a request shows: it must be this application's, for `user`,
    /// unexpired and unused (it is used by this call). A proof that is none of these is
    /// refused, never ignored.
    pub(crate) async fn take_passkey_proof(
        &self,
        app: &App,
        user: &crate::model::User,
        id: &str,
    ) -> Result<PasskeyProof, CoreError> {
        // Matched on the user too: naming another user's proof does not use it up.
        self.store
            .take_passkey_proof(id, &app.id, &user.id, self.now())
            .await?
            .ok_or_else(|| {
                refused("passkey_authentication names no unused authentication of this user at this application from the last 5 minutes")
            })
    }

    /// The counter an assertion carries (authenticator data bytes 33..37), for the audit row.
    fn asserted_counter(&self, answer: &PublicKeyCredential) -> u32 {
        let data: &[u8] = answer.response.authenticator_data.as_ref();
        data.get(33..37)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    }

    async fn clone_suspected(&self, app: &App, stored: &RpPasskey, counter: u32) -> CoreError {
        let event = AuditEvent::RpPasskeyCloneSuspected {
            app_id: app.id.to_string(),
            user_id: stored.user_id.to_string(),
            credential_id: stored.id.clone(),
            counter,
            stored_counter: stored.counter,
        };
        if let Err(e) = self
            .store
            .append_audit(self.audit(Actor::App(app.id.clone()), event))
            .await
        {
            return e.into();
        }
        tracing::warn!(app = %app.id, user = %stored.user_id, counter, stored = stored.counter, "passkey counter did not move forward: possible clone");
        self.alert(
            &stored.user_id,
            "passkey_clone_suspected",
            format!(
                "A passkey of yours at {} was used with a signature counter that went backwards. Someone may have copied it; the sign-in was refused.",
                app.name
            ),
        )
        .await;
        refused("the passkey's signature counter did not move forward: it may have been cloned")
    }

    async fn passkey_refused(
        &self,
        app: &App,
        ceremony: &Ceremony,
        e: &WebauthnError,
    ) -> CoreError {
        let event = AuditEvent::RpPasskeyRefused {
            app_id: app.id.to_string(),
            user_id: ceremony.user_id.to_string(),
            reason: e.to_string(),
        };
        if let Err(e) = self
            .store
            .append_audit(self.audit(Actor::App(app.id.clone()), event))
            .await
        {
            return e.into();
        }
        refused(format!("the passkey did not verify: {e}"))
    }
}
