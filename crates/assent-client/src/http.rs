//! The HTTP plumbing and the relying-party and admin clients.

use crate::error::ClientError;
use assent_proto::api::{
    AppCreated, ApprovalCreated, ApprovalStatus, AuditReport, CodeVerified, CreateApp,
    CreateApproval, CreateEnrollment, CreateUser, DeviceList, DeviceView, EnrollTotp,
    EnrollmentCreated, RecoveryCodes, ReportEvent, SetWebhook, TotpEnrolled, UserEmail,
    UserFactors, UserList, UserView, VerifyCode, WebhookCreated, WebhookStatus,
};
use assent_proto::jose::JwkSet;
use assent_proto::problem::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

mod access;
mod audit;
pub use audit::AuditExport;
mod broadcasts;
mod passkeys;

/// A reqwest client with TLS through rustls and ring (no OpenSSL, no aws-lc).
pub(crate) fn http_client(timeout: Option<Duration>) -> Result<reqwest::Client, ClientError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("assent-client/", env!("CARGO_PKG_VERSION")));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    Ok(builder.build()?)
}

/// Turns a response into a value, or into the server's problem document.
pub(crate) async fn decode<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await?;
    // "No content" reads as JSON null, which is what `()` deserializes from.
    let bytes = if status == reqwest::StatusCode::NO_CONTENT {
        bytes::Bytes::from_static(b"null")
    } else {
        bytes
    };
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
            status: status.as_u16(),
            body: format!("{e}: {}", String::from_utf8_lossy(&bytes)),
        });
    }
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(problem) => Err(ClientError::Problem(Box::new(problem))),
        Err(_) => Err(ClientError::Unexpected {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
        }),
    }
}

/// A server address and an API key.
#[derive(Debug, Clone)]
struct Keyed {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Keyed {
    fn new(base: &str, key: &str) -> Result<Self, ClientError> {
        Ok(Keyed {
            http: http_client(Some(Duration::from_secs(120)))?,
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        decode(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .send()
                .await?,
        )
        .await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    /// A JSON body sent with the key, and the answer decoded.
    async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body);
        decode(request.send().await?).await
    }

    async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        decode(
            self.http
                .delete(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .send()
                .await?,
        )
        .await
    }
}

/// A relying party's client.
#[derive(Debug, Clone)]
pub struct RpClient(Keyed);

impl RpClient {
    pub fn new(base: &str, api_key: &str) -> Result<Self, ClientError> {
        Ok(RpClient(Keyed::new(base, api_key)?))
    }

    /// Asks for an approval; show `display_code` to the user.
    pub async fn create_approval(
        &self,
        request: &CreateApproval,
    ) -> Result<ApprovalCreated, ClientError> {
        self.0.post("/v1/approvals", request).await
    }

    /// The request's state; with `wait`, waits up to that many seconds for a final state.
    pub async fn approval(
        &self,
        id: &str,
        wait: Option<u64>,
    ) -> Result<ApprovalStatus, ClientError> {
        match wait {
            Some(seconds) => {
                self.0
                    .get(&format!("/v1/approvals/{id}?wait={seconds}"))
                    .await
            }
            None => self.0.get(&format!("/v1/approvals/{id}")).await,
        }
    }

    /// Cancels a pending request.
    pub async fn cancel(&self, id: &str) -> Result<ApprovalStatus, ClientError> {
        self.0.delete(&format!("/v1/approvals/{id}")).await
    }

    /// Reports an account event (`password_changed`, `email_changed`, `mfa_reset`, or `custom`
    /// with a message); the user's devices show it as an alert.
    pub async fn report_event(
        &self,
        user: &str,
        event_type: &str,
        message: Option<&str>,
    ) -> Result<(), ClientError> {
        let body = ReportEvent {
            user: user.to_owned(),
            type_: event_type.to_owned(),
            message: message.map(str::to_owned),
        };
        self.0.post("/v1/events", &body).await
    }

    /// Creates an enrollment link for one of the application's users.
    pub async fn create_enrollment(&self, user: &str) -> Result<EnrollmentCreated, ClientError> {
        self.enrollment(user, None).await
    }

    /// An enrollment for a user who already has a device, proven with a recovery code (active
    /// at once) or without one (held until an existing device approves it, when the policy
    /// accepts that).
    pub async fn enrollment(
        &self,
        user: &str,
        recovery_code: Option<&str>,
    ) -> Result<EnrollmentCreated, ClientError> {
        let body = CreateEnrollment {
            user: user.to_owned(),
            recovery_code: recovery_code.map(str::to_owned),
        };
        self.0.post("/v1/enrollments", &body).await
    }

    /// Enrolls TOTP for a user; the answer holds the seed, once.
    pub async fn enroll_totp(
        &self,
        user: &str,
        params: &EnrollTotp,
    ) -> Result<TotpEnrolled, ClientError> {
        self.0
            .post(&format!("/v1/users/{}/totp", segment(user)), params)
            .await
    }

    /// Checks a TOTP code.
    pub async fn verify_totp(&self, user: &str, code: &str) -> Result<CodeVerified, ClientError> {
        let body = VerifyCode {
            user: user.to_owned(),
            code: code.to_owned(),
        };
        self.0.post("/v1/verify/totp", &body).await
    }

    /// Checks and consumes a recovery code.
    pub async fn verify_recovery_code(
        &self,
        user: &str,
        code: &str,
    ) -> Result<CodeVerified, ClientError> {
        let body = VerifyCode {
            user: user.to_owned(),
            code: code.to_owned(),
        };
        self.0.post("/v1/verify/recovery-code", &body).await
    }

    /// A new set of recovery codes for a user (earlier codes stop working).
    pub async fn recovery_codes(&self, user: &str) -> Result<RecoveryCodes, ClientError> {
        self.0
            .post(
                &format!("/v1/users/{}/recovery-codes", segment(user)),
                &serde_json::json!({}),
            )
            .await
    }

    /// What the user can use right now.
    pub async fn factors(&self, user: &str) -> Result<UserFactors, ClientError> {
        self.0
            .get(&format!("/v1/users/{}/factors", segment(user)))
            .await
    }

    /// Sets (or with `None` removes) the address where one of the application's users' security
    /// alerts are e-mailed.
    pub async fn set_user_email(
        &self,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), ClientError> {
        let body = UserEmail {
            email: email.map(str::to_owned),
        };
        self.0
            .put(&format!("/v1/users/{}/email", segment(username)), &body)
            .await
    }
}

/// A path segment with the few characters usernames may hold that URLs treat specially escaped.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An administrator's client.
#[derive(Debug, Clone)]
pub struct AdminClient(Keyed);

impl AdminClient {
    pub fn new(base: &str, admin_key: &str) -> Result<Self, ClientError> {
        Ok(AdminClient(Keyed::new(base, admin_key)?))
    }

    pub async fn create_app(&self, name: &str) -> Result<AppCreated, ClientError> {
        self.0
            .post(
                "/v1/admin/apps",
                &CreateApp {
                    name: name.to_owned(),
                },
            )
            .await
    }

    /// The applications with their API keys (ids and dates, never a secret).
    pub async fn list_apps(&self) -> Result<assent_proto::api::AppList, ClientError> {
        self.0.get("/v1/admin/apps").await
    }

    /// A new key for an application; its earlier keys are revoked at the same moment.
    pub async fn rotate_app_key(
        &self,
        app_id: &str,
    ) -> Result<assent_proto::api::KeyRotated, ClientError> {
        self.0
            .post(
                &format!("/v1/admin/apps/{app_id}/keys"),
                &serde_json::json!({}),
            )
            .await
    }

    /// Revokes one application key.
    pub async fn revoke_api_key(
        &self,
        key_id: &str,
    ) -> Result<assent_proto::api::ApiKeyView, ClientError> {
        self.0
            .post(
                &format!("/v1/admin/keys/{key_id}/revoke"),
                &serde_json::json!({}),
            )
            .await
    }

    pub async fn create_user(&self, username: &str) -> Result<UserView, ClientError> {
        self.0
            .post(
                "/v1/admin/users",
                &CreateUser {
                    username: username.to_owned(),
                },
            )
            .await
    }

    pub async fn list_users(&self) -> Result<UserList, ClientError> {
        self.0.get("/v1/admin/users").await
    }

    /// Sets (or with `None` removes) the address where a user's security alerts are e-mailed.
    pub async fn set_user_email(
        &self,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), ClientError> {
        let body = UserEmail {
            email: email.map(str::to_owned),
        };
        self.0
            .put(
                &format!("/v1/admin/users/{}/email", segment(username)),
                &body,
            )
            .await
    }

    pub async fn create_enrollment(&self, user: &str) -> Result<EnrollmentCreated, ClientError> {
        let body = CreateEnrollment {
            user: user.to_owned(),
            recovery_code: None,
        };
        self.0.post("/v1/admin/enrollments", &body).await
    }

    /// What the user can use right now (push devices, TOTP, recovery codes left).
    pub async fn factors(&self, user: &str) -> Result<UserFactors, ClientError> {
        self.0
            .get(&format!("/v1/admin/users/{}/factors", segment(user)))
            .await
    }

    /// A new set of recovery codes for a user (earlier codes stop working).
    pub async fn recovery_codes(&self, user: &str) -> Result<RecoveryCodes, ClientError> {
        self.0
            .post(
                &format!("/v1/admin/users/{}/recovery-codes", segment(user)),
                &serde_json::json!({}),
            )
            .await
    }

    /// Removes a user's TOTP factor, so a new one can be enrolled.
    pub async fn remove_totp(&self, user: &str) -> Result<(), ClientError> {
        self.0
            .delete(&format!("/v1/admin/users/{}/totp", segment(user)))
            .await
    }

    pub async fn list_devices(&self, user: Option<&str>) -> Result<DeviceList, ClientError> {
        match user {
            Some(user) => {
                let user: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
                self.0.get(&format!("/v1/admin/devices?user={user}")).await
            }
            None => self.0.get("/v1/admin/devices").await,
        }
    }

    pub async fn revoke_device(&self, id: &str) -> Result<DeviceView, ClientError> {
        self.0
            .post(
                &format!("/v1/admin/devices/{id}/revoke"),
                &serde_json::json!({}),
            )
            .await
    }

    /// Configures an application's webhook; the answer holds its secret, once.
    pub async fn set_webhook(
        &self,
        app_id: &str,
        url: &str,
        events: &[&str],
    ) -> Result<WebhookCreated, ClientError> {
        let body = SetWebhook {
            url: url.to_owned(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
        };
        self.0
            .post(&format!("/v1/admin/apps/{app_id}/webhook"), &body)
            .await
    }

    /// Registers an OpenID CIBA client for an application.
    pub async fn create_ciba_client(
        &self,
        app_id: &str,
        body: &assent_proto::api::CreateCibaClient,
    ) -> Result<assent_proto::api::CibaClientCreated, ClientError> {
        self.0
            .post(&format!("/v1/admin/apps/{app_id}/ciba-clients"), body)
            .await
    }

    /// Creates a group of users.
    pub async fn create_group(
        &self,
        name: &str,
    ) -> Result<assent_proto::api::GroupInfo, ClientError> {
        let body = assent_proto::api::CreateGroup {
            name: name.to_owned(),
        };
        self.0.post("/v1/admin/groups", &body).await
    }

    /// Every group with its members.
    pub async fn list_groups(&self) -> Result<assent_proto::api::GroupList, ClientError> {
        self.0.get("/v1/admin/groups").await
    }

    /// Adds a user to a group.
    pub async fn add_group_member(&self, group: &str, username: &str) -> Result<(), ClientError> {
        let path = format!(
            "/v1/admin/groups/{}/members/{}",
            segment(group),
            segment(username)
        );
        self.0.put(&path, &serde_json::Value::Null).await
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(
        &self,
        group: &str,
        username: &str,
    ) -> Result<(), ClientError> {
        let path = format!(
            "/v1/admin/groups/{}/members/{}",
            segment(group),
            segment(username)
        );
        self.0.delete(&path).await
    }

    /// Limits an application to the members of `groups` (none: any user).
    pub async fn set_app_scope(
        &self,
        app_id: &str,
        groups: Vec<String>,
    ) -> Result<assent_proto::api::AppScopeInfo, ClientError> {
        let body = assent_proto::api::AppScope { groups };
        self.0
            .put(&format!("/v1/admin/apps/{}/scope", segment(app_id)), &body)
            .await
    }

    /// Creates a Duo Auth API integration for an application; its secret key is in the answer,
    /// once.
    pub async fn create_duo_integration(
        &self,
        app_id: &str,
        body: &assent_proto::api::CreateDuoIntegration,
    ) -> Result<assent_proto::api::DuoIntegrationCreated, ClientError> {
        self.0
            .post(&format!("/v1/admin/apps/{app_id}/duo-integrations"), body)
            .await
    }

    /// Registers an agent (its application and its `private_key_jwt` CIBA client).
    pub async fn create_agent(
        &self,
        body: &assent_proto::api::CreateAgent,
    ) -> Result<assent_proto::api::CibaClientCreated, ClientError> {
        self.0.post("/v1/admin/agents", body).await
    }

    /// How an application's webhook deliveries are doing.
    pub async fn webhook_status(&self, app_id: &str) -> Result<WebhookStatus, ClientError> {
        self.0
            .get(&format!("/v1/admin/apps/{app_id}/webhook"))
            .await
    }

    /// Reloads the policy and risk lists from their files; a bad file comes back as a problem.
    pub async fn reload_policy(&self) -> Result<serde_json::Value, ClientError> {
        self.0
            .post("/v1/admin/policy/reload", &serde_json::json!({}))
            .await
    }

    /// The running policy's rules.
    pub async fn policy(&self) -> Result<serde_json::Value, ClientError> {
        self.0.get("/v1/admin/policy").await
    }

    pub async fn verify_audit(&self) -> Result<AuditReport, ClientError> {
        self.0.get("/v1/audit/verify").await
    }
}

/// Fetches a server's JWKS.
pub async fn fetch_jwks(base_or_url: &str) -> Result<JwkSet, ClientError> {
    let url = if base_or_url.ends_with(".json") {
        base_or_url.to_owned()
    } else {
        format!(
            "{}/.well-known/jwks.json",
            base_or_url.trim_end_matches('/')
        )
    };
    let http = http_client(Some(Duration::from_secs(30)))?;
    decode(http.get(url).send().await?).await
}
