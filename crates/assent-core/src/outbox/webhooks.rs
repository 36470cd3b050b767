//! Webhooks: per application, signed with the Standard Webhooks scheme by the delivery side.
//! Their events are read from the audit log, which is written in the same transaction as each
//! change, so an outcome that happened is an outcome that will be delivered.

use crate::approvals::ApprovalForApp;
use crate::audit::{AuditEvent, PendingAudit};
use crate::error::CoreError;
use crate::ids::{AppId, ApprovalId, UserId};
use crate::model::{AuditRecord, Webhook, WebhookProgress};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use serde_json::{Value, json};

/// Event types an application can receive.
pub const EVENT_TYPES: &[&str] = &[
    "approval.final",
    "alert",
    "access_request.final",
    "access_grant.revoked",
];

/// Audit kinds delivered as `alert` events.
const ALERT_KINDS: &[&str] = &[
    "push_suspended",
    "device_enrolled",
    "device_revoked",
    "user_event_reported",
    "admin_alert",
];

/// Renders a final request as the webhook's `data`: the protocol surface that owns the
/// webhook's format supplies it (the v1 API's request status), so the outbox stays neutral.
pub type RenderApproval = fn(&ApprovalForApp) -> Value;

/// One message to deliver: its stable id (the same on every retry), type and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookMessage {
    pub id: String,
    pub seq: u64,
    pub body: Value,
}

/// A configured webhook with its secret opened, for the delivery side.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub app_id: AppId,
    pub url: String,
    /// `whsec_<base64>`: the Standard Webhooks secret.
    pub secret: String,
    pub events: Vec<String>,
}

fn sealing_context(app: &AppId) -> String {
    format!("webhook-secret:{app}")
}

impl Assent {
    /// Configures an application's webhook and returns its new signing secret, shown once.
    pub async fn set_webhook(
        &self,
        by: &Principal,
        app_id: &str,
        url: &str,
        events: &[String],
    ) -> Result<String, CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let app_id = AppId::parse(app_id)
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such application"))?;
        if self.store.app(&app_id).await?.is_none() {
            return Err(CoreError::rejected(
                ProblemCode::NotFound,
                "no such application",
            ));
        }
        let ok_url = (url.starts_with("https://") || url.starts_with("http://"))
            && url.chars().count() <= 2048;
        if !ok_url {
            return Err(invalid("the webhook url must be an http(s) URL"));
        }
        if events.is_empty() || events.iter().any(|e| !EVENT_TYPES.contains(&e.as_str())) {
            return Err(invalid(
                "events are one or more of approval.final, alert, access_request.final, access_grant.revoked",
            ));
        }
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| CoreError::Crypto)?;
        let secret = format!("whsec_{}", base64_standard(&key));
        let sealed = self
            .data_key
            .seal(secret.as_bytes(), &sealing_context(&app_id))
            .map_err(|_| CoreError::Crypto)?;
        let webhook = Webhook {
            app_id: app_id.clone(),
            url: url.to_owned(),
            secret_sealed: sealed,
            events: events.to_vec(),
            created_at: self.now(),
        };
        let event = AuditEvent::WebhookConfigured {
            app_id: app_id.to_string(),
            url: url.to_owned(),
            events: events.to_vec(),
        };
        self.store
            .set_webhook(&webhook, PendingAudit::new(self.now(), by.actor(), event))
            .await?;
        Ok(secret)
    }

    /// Every configured webhook, with its secret opened.
    pub async fn webhook_targets(&self) -> Result<Vec<WebhookTarget>, CoreError> {
        let mut targets = Vec::new();
        for w in self.store.webhooks().await? {
            // One secret that does not open (a restored database with another data key) stops
            // that application's deliveries, not everyone's.
            let opened = self
                .data_key
                .open(&w.secret_sealed, &sealing_context(&w.app_id))
                .ok();
            match opened.and_then(|s| String::from_utf8(s).ok()) {
                Some(secret) => targets.push(WebhookTarget {
                    app_id: w.app_id,
                    url: w.url,
                    secret,
                    events: w.events,
                }),
                None => {
                    tracing::error!(app = %w.app_id, "webhook secret does not open with the data key; reconfigure the webhook")
                }
            }
        }
        Ok(targets)
    }

    pub async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, CoreError> {
        Ok(self.store.webhook_progress(app).await?)
    }

    pub async fn set_webhook_progress(
        &self,
        app: &AppId,
        progress: &WebhookProgress,
    ) -> Result<(), CoreError> {
        Ok(self.store.set_webhook_progress(app, progress).await?)
    }

    /// Claims (or renews) an application's deliveries for `holder` for `lease` from now; `false`
    /// while another dispatcher, on this node or another, holds them. Only the holder delivers,
    /// so nodes sharing a database send each message once.
    pub async fn claim_webhook(
        &self,
        app: &AppId,
        holder: &str,
        lease: time::Duration,
    ) -> Result<bool, CoreError> {
        let now = self.now();
        Ok(self
            .store
            .claim_webhook(app, holder, now, now + lease)
            .await?)
    }

    /// Records progress made under `holder`'s claim; `false` (nothing written) when the claim
    /// was lost (its lease ran out and another dispatcher took over).
    pub async fn advance_webhook(
        &self,
        app: &AppId,
        holder: &str,
        progress: &WebhookProgress,
    ) -> Result<bool, CoreError> {
        Ok(self.store.advance_webhook(app, holder, progress).await?)
    }

    /// Ends `holder`'s claim on an application's deliveries.
    pub async fn release_webhook(&self, app: &AppId, holder: &str) -> Result<(), CoreError> {
        Ok(self.store.release_webhook(app, holder).await?)
    }

    /// The next messages for a webhook after audit row `after`, and the last row examined (so the
    /// cursor moves past rows that concern other applications).
    pub async fn webhook_messages(
        &self,
        target: &WebhookTarget,
        after: u64,
        limit: u32,
        render: RenderApproval,
    ) -> Result<(Vec<WebhookMessage>, u64), CoreError> {
        let page = self.store.audit_page(after, limit).await?;
        let last = page.last().map_or(after, |r| r.seq);
        let mut messages = Vec::new();
        for record in &page {
            if let Some(body) = self.webhook_body(target, record, render).await? {
                messages.push(WebhookMessage {
                    id: format!("msg_{}_{}", record.seq, target.app_id.as_str()),
                    seq: record.seq,
                    body,
                });
            }
        }
        Ok((messages, last))
    }

    async fn webhook_body(
        &self,
        target: &WebhookTarget,
        record: &AuditRecord,
        render: RenderApproval,
    ) -> Result<Option<Value>, CoreError> {
        let wants = |t: &str| target.events.iter().any(|e| e == t);
        let data: Value = serde_json::from_str(&record.data).unwrap_or(Value::Null);
        let timestamp = crate::clock::rfc3339(record.at);
        if record.kind == "approval_decided" && wants("approval.final") {
            let Some(id) = data["approval_id"].as_str().and_then(ApprovalId::parse) else {
                return Ok(None);
            };
            let Some(approval) = self.records.approval(self.store.as_ref(), &id).await? else {
                return Ok(None);
            };
            if approval.app_id != target.app_id {
                return Ok(None);
            }
            let view = render(&self.for_app(approval).await?);
            return Ok(Some(
                json!({"type": "approval.final", "timestamp": timestamp, "data": view}),
            ));
        }
        let access_event = match record.kind.as_str() {
            "access_request_ended" => Some("access_request.final"),
            "access_grant_revoked" => Some("access_grant.revoked"),
            _ => None,
        };
        if let Some(event) = access_event.filter(|e| wants(e)) {
            if data["app_id"].as_str() != Some(target.app_id.as_str()) {
                return Ok(None);
            }
            return Ok(Some(json!({
                "type": event,
                "timestamp": timestamp,
                "data": self.access_event_data(&data).await?,
            })));
        }
        if ALERT_KINDS.contains(&record.kind.as_str()) && wants("alert") {
            let user = match data["user_id"].as_str().and_then(UserId::parse) {
                Some(id) => self
                    .records
                    .user(self.store.as_ref(), &id)
                    .await?
                    .map(|u| u.username.to_string()),
                None => None,
            };
            let mut details = data.clone();
            if let Some(map) = details.as_object_mut() {
                map.remove("event");
                map.remove("user_id");
            }
            return Ok(Some(json!({
                "type": "alert",
                "timestamp": timestamp,
                "data": {"kind": record.kind, "user": user, "details": details},
            })));
        }
        Ok(None)
    }
}

impl Assent {
    /// An access request's audit row as a webhook's `data`: user ids become usernames.
    async fn access_event_data(&self, data: &Value) -> Result<Value, CoreError> {
        let mut out = data.clone();
        let Some(map) = out.as_object_mut() else {
            return Ok(out);
        };
        map.remove("event");
        map.remove("app_id");
        if let Some(id) = map.remove("request_id") {
            map.insert("access_request_id".into(), id);
        }
        if let Some(id) = map.remove("requester_id") {
            let name = self.username_for(id.as_str()).await?;
            map.insert("requester".into(), name.into());
        }
        for list in ["approved_by", "denied_by"] {
            if let Some(Value::Array(ids)) = map.get(list).cloned() {
                let mut names = Vec::with_capacity(ids.len());
                for id in ids {
                    names.push(Value::from(self.username_for(id.as_str()).await?));
                }
                map.insert(list.into(), Value::Array(names));
            }
        }
        Ok(out)
    }

    async fn username_for(&self, id: Option<&str>) -> Result<Option<String>, CoreError> {
        let Some(id) = id.and_then(UserId::parse) else {
            return Ok(None);
        };
        Ok(self
            .records
            .user(self.store.as_ref(), &id)
            .await?
            .map(|u| u.username.to_string()))
    }
}

fn base64_standard(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
