//! Mapping between rows and domain records. Each record has a column list (a macro, so queries
//! stay `&'static str` built with `concat!`) and a function that reads a row selected with it.

use crate::error::corrupt;
use assent_core::StoreError;
use assent_core::ciba::records::{AgentProfile, CibaClient, CibaRequest, ClientAuth, DeliveryMode};
use assent_core::clock::from_millis;
use assent_core::duo::records::DuoIntegration;
use assent_core::groups::records::Group;
use assent_core::ids::{AlertId, AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    Alert, ApiKeyRecord, App, Approval, AuditRecord, Device, EndReason, Enrollment, KeyRole,
    MatchingCode, Passkey, PastApproval, Quorum, RecoveryCode, Suspension, SuspensionReason,
    TotpSecret, User, Webhook, WebhookProgress, origin_of,
};
use assent_core::outbox::pushes::{
    PushAddress, PushChannel, PushJob, PushState, PushTarget, PushUrgency,
};
use assent_proto::states::{Activation, ApprovalKind, ApprovalState, DeviceState};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

type Result<T> = std::result::Result<T, sqlx::Error>;

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what))
}

fn time(row: &PgRow, i: usize) -> Result<OffsetDateTime> {
    Ok(from_millis(row.try_get(i)?))
}

fn time_opt(row: &PgRow, i: usize) -> Result<Option<OffsetDateTime>> {
    Ok(row.try_get::<Option<i64>, _>(i)?.map(from_millis))
}

fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T> {
    T::try_from(value).map_err(|_| corrupt(what))
}

/// Serializes a value for a JSON column (kept as text: read back exactly as written).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> std::result::Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

macro_rules! app_columns {
    () => {
        "id, name, created_at"
    };
}
pub(crate) use app_columns;
pub(crate) fn app(row: PgRow) -> Result<App> {
    Ok(App {
        id: AppId::from_stored(row.try_get(0)?),
        name: row.try_get(1)?,
        created_at: time(&row, 2)?,
    })
}

macro_rules! key_columns {
    () => {
        "id, secret_hash, role, app_id, created_at, revoked_at"
    };
}
pub(crate) use key_columns;
pub(crate) fn api_key(row: PgRow) -> Result<ApiKeyRecord> {
    let role: String = row.try_get(2)?;
    let app_id: Option<String> = row.try_get(3)?;
    let role = match (role.as_str(), app_id) {
        ("admin", None) => KeyRole::Admin,
        ("app", Some(app)) => KeyRole::App(AppId::from_stored(app)),
        _ => return Err(corrupt("api key role")),
    };
    Ok(ApiKeyRecord {
        id: row.try_get(0)?,
        secret_hash: row.try_get(1)?,
        role,
        created_at: time(&row, 4)?,
        revoked_at: time_opt(&row, 5)?,
    })
}

/// The stored `(role, app_id)` pair of a key role.
pub(crate) fn key_role(role: &KeyRole) -> (&'static str, Option<&str>) {
    match role {
        KeyRole::Admin => ("admin", None),
        KeyRole::App(id) => ("app", Some(id.as_str())),
    }
}

macro_rules! user_columns {
    () => {
        "id, username, created_at"
    };
}
pub(crate) use user_columns;
pub(crate) fn user(row: PgRow) -> Result<User> {
    Ok(User {
        id: UserId::from_stored(row.try_get(0)?),
        username: Username::from_stored(row.try_get(1)?),
        created_at: time(&row, 2)?,
    })
}

macro_rules! enrollment_columns {
    () => {
        "id, user_id, code_hash, created_at, expires_at, used_at, activation"
    };
}
pub(crate) use enrollment_columns;
pub(crate) fn enrollment(row: PgRow) -> Result<Enrollment> {
    Ok(Enrollment {
        id: EnrollmentId::from_stored(row.try_get(0)?),
        user_id: UserId::from_stored(row.try_get(1)?),
        code_hash: row.try_get(2)?,
        created_at: time(&row, 3)?,
        expires_at: time(&row, 4)?,
        used_at: time_opt(&row, 5)?,
        activation: match row.try_get::<&str, _>(6)? {
            "immediate" => Activation::Immediate,
            "device_approval" => Activation::DeviceApproval,
            _ => return Err(corrupt("enrollment activation")),
        },
    })
}

macro_rules! device_columns {
    () => {
        "id, user_id, name, platform, jwk, jkt, state, created_at, revoked_at, last_seen_at, \
         activation_code_sealed, \
         (SELECT p.channel FROM push_subscriptions p WHERE p.device_id = devices.id), \
         EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.device_id = devices.id \
                 AND p.disabled_at IS NULL)"
    };
}
pub(crate) use device_columns;
pub(crate) fn device(row: PgRow) -> Result<Device> {
    let state = match row.try_get::<&str, _>(6)? {
        "active" => DeviceState::Active,
        "pending_activation" => DeviceState::PendingActivation,
        "revoked" => DeviceState::Revoked,
        _ => return Err(corrupt("device state")),
    };
    Ok(Device {
        id: DeviceId::from_stored(row.try_get(0)?),
        user_id: UserId::from_stored(row.try_get(1)?),
        name: row.try_get(2)?,
        platform: row.try_get(3)?,
        jwk: json(row.try_get(4)?, "device jwk")?,
        jkt: row.try_get(5)?,
        state,
        created_at: time(&row, 7)?,
        revoked_at: time_opt(&row, 8)?,
        last_seen_at: time_opt(&row, 9)?,
        activation_code_sealed: row.try_get(10)?,
        push_channel: row
            .try_get::<Option<&str>, _>(11)?
            .map(|c| PushChannel::parse(c).ok_or_else(|| corrupt("push channel")))
            .transpose()?,
        push_working: row.try_get(12)?,
    })
}

macro_rules! totp_columns {
    () => {
        "user_id, seed_sealed, algorithm, digits, period, last_step, created_at"
    };
}
pub(crate) use totp_columns;
pub(crate) fn totp(row: PgRow) -> Result<TotpSecret> {
    Ok(TotpSecret {
        user_id: UserId::from_stored(row.try_get(0)?),
        seed_sealed: row.try_get(1)?,
        algorithm: row.try_get(2)?,
        digits: unsigned(row.try_get::<i16, _>(3)?.into(), "totp digits")?,
        period: unsigned(row.try_get(4)?, "totp period")?,
        last_step: row
            .try_get::<Option<i64>, _>(5)?
            .map(|s| unsigned(s, "totp last step"))
            .transpose()?,
        created_at: time(&row, 6)?,
    })
}

pub(crate) fn recovery_code(row: PgRow) -> Result<RecoveryCode> {
    Ok(RecoveryCode {
        user_id: UserId::from_stored(row.try_get(0)?),
        slot: unsigned(row.try_get(1)?, "recovery code slot")?,
        hash: row.try_get(2)?,
        created_at: time(&row, 3)?,
    })
}

macro_rules! approval_columns {
    () => {
        "id, app_id, user_id, kind, binding_message, authorization_details, context, nonce, \
         code_digest, state, reason, created_at, expires_at, decided_at, device_id, statement, \
         receipt, user_verification, risk, policy_rule, code_length, approvals_required, \
         approver_groups"
    };
}
pub(crate) use approval_columns;
pub(crate) fn approval(row: PgRow) -> Result<Approval> {
    Ok(Approval {
        id: ApprovalId::from_stored(row.try_get(0)?),
        app_id: AppId::from_stored(row.try_get(1)?),
        user_id: UserId::from_stored(row.try_get(2)?),
        kind: ApprovalKind::parse(row.try_get(3)?).ok_or_else(|| corrupt("approval kind"))?,
        binding_message: row.try_get(4)?,
        authorization_details: json(row.try_get(5)?, "authorization details")?,
        context: json(row.try_get(6)?, "context")?,
        nonce: row.try_get(7)?,
        code: matching_code(row.try_get(20)?, row.try_get(8)?)?,
        state: ApprovalState::parse(row.try_get(9)?).ok_or_else(|| corrupt("approval state"))?,
        reason: row
            .try_get::<Option<&str>, _>(10)?
            .map(|r| EndReason::parse(r).ok_or_else(|| corrupt("end reason")))
            .transpose()?,
        created_at: time(&row, 11)?,
        expires_at: time(&row, 12)?,
        decided_at: time_opt(&row, 13)?,
        device_id: row
            .try_get::<Option<String>, _>(14)?
            .map(DeviceId::from_stored),
        statement: row.try_get(15)?,
        receipt: row.try_get(16)?,
        user_verification: row.try_get(17)?,
        risk: json(row.try_get(18)?, "risk")?,
        policy_rule: row.try_get(19)?,
        quorum: quorum(row.try_get(21)?, row.try_get(22)?)?,
    })
}

/// A quorum from its two columns: none at one approval.
fn quorum(approvals: i32, groups: Option<&str>) -> Result<Option<Quorum>> {
    if approvals <= 1 {
        return Ok(None);
    }
    Ok(Some(Quorum {
        approvals: unsigned(approvals.into(), "approvals required")?,
        approver_groups: json(groups.unwrap_or("[]"), "approver groups")?,
    }))
}

/// A number-matching code from its two columns, both set or both empty.
fn matching_code(length: Option<i16>, digest: Option<Vec<u8>>) -> Result<Option<MatchingCode>> {
    let (Some(length), Some(digest)) = (length, digest) else {
        return Ok(None);
    };
    Ok(Some(MatchingCode {
        length: u8::try_from(length).map_err(|_| corrupt("code length"))?,
        digest,
    }))
}

/// `state, created_at, decided_at, context`.
pub(crate) fn past_approval(row: PgRow) -> Result<PastApproval> {
    Ok(PastApproval {
        state: ApprovalState::parse(row.try_get(0)?).ok_or_else(|| corrupt("approval state"))?,
        created_at: time(&row, 1)?,
        decided_at: time_opt(&row, 2)?,
        origin: origin_of(&json(row.try_get(3)?, "context")?),
    })
}

macro_rules! audit_columns {
    () => {
        "seq, at, kind, actor, subject, data, prev_hash, hash"
    };
}
pub(crate) use audit_columns;
pub(crate) fn audit(row: PgRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: unsigned(row.try_get(0)?, "audit seq")?,
        at: time(&row, 1)?,
        kind: row.try_get(2)?,
        actor: row.try_get(3)?,
        subject: row.try_get(4)?,
        data: row.try_get(5)?,
        prev_hash: row.try_get(6)?,
        hash: row.try_get(7)?,
    })
}

macro_rules! passkey_columns {
    () => {
        "device_id, credential_id, public_key, created_at, sign_count"
    };
}
pub(crate) use passkey_columns;
pub(crate) fn passkey(row: PgRow) -> Result<Passkey> {
    Ok(Passkey {
        device_id: DeviceId::from_stored(row.try_get(0)?),
        credential_id: row.try_get(1)?,
        public_key: row.try_get(2)?,
        created_at: time(&row, 3)?,
        sign_count: u32::try_from(row.try_get::<i64, _>(4)?)
            .map_err(|_| corrupt("passkey sign count"))?,
    })
}

macro_rules! alert_columns {
    () => {
        "id, user_id, kind, message, created_at, device_id"
    };
}
pub(crate) use alert_columns;
pub(crate) fn alert(row: PgRow) -> Result<Alert> {
    Ok(Alert {
        id: AlertId::from_stored(row.try_get(0)?),
        user_id: UserId::from_stored(row.try_get(1)?),
        kind: row.try_get(2)?,
        message: row.try_get(3)?,
        created_at: time(&row, 4)?,
        device_id: row
            .try_get::<Option<String>, _>(5)?
            .map(DeviceId::from_stored),
    })
}

macro_rules! push_target_columns {
    () => {
        "device_id, channel, endpoint, p256dh, auth, created_at, disabled_at, disabled_reason"
    };
}
pub(crate) use push_target_columns;
/// A stored target keeps a native token in `endpoint` (the RFC 8291 keys are then empty).
pub(crate) fn push_target(row: PgRow) -> Result<PushTarget> {
    let endpoint: String = row.try_get(2)?;
    let address = match PushChannel::parse(row.try_get(1)?) {
        Some(PushChannel::WebPush) => PushAddress::WebPush {
            endpoint,
            p256dh: row.try_get(3)?,
            auth: row.try_get(4)?,
        },
        Some(PushChannel::Apns) => PushAddress::Apns { token: endpoint },
        Some(PushChannel::Fcm) => PushAddress::Fcm { token: endpoint },
        _ => return Err(corrupt("push target channel")),
    };
    Ok(PushTarget {
        device_id: DeviceId::from_stored(row.try_get(0)?),
        address,
        created_at: time(&row, 5)?,
        disabled_at: time_opt(&row, 6)?,
        disabled_reason: row.try_get(7)?,
    })
}

/// The stored `(channel, endpoint, p256dh, auth)` of a target.
pub(crate) fn push_address(a: &PushAddress) -> (&'static str, String, String, String) {
    match a {
        PushAddress::WebPush {
            endpoint,
            p256dh,
            auth,
        } => ("web_push", endpoint.clone(), p256dh.clone(), auth.clone()),
        PushAddress::Apns { token } => ("apns", token.clone(), String::new(), String::new()),
        PushAddress::Fcm { token } => ("fcm", token.clone(), String::new(), String::new()),
    }
}

macro_rules! push_job_columns {
    () => {
        "id, channel, device_id, user_id, approval_id, urgency, topic, payload, state, \
         attempts, due_at, expires_at, last_error, created_at, updated_at"
    };
}
pub(crate) use push_job_columns;
pub(crate) fn push_job(row: PgRow) -> Result<PushJob> {
    Ok(PushJob {
        id: row.try_get(0)?,
        channel: PushChannel::parse(row.try_get(1)?).ok_or_else(|| corrupt("push channel"))?,
        device_id: row
            .try_get::<Option<String>, _>(2)?
            .map(DeviceId::from_stored),
        user_id: row
            .try_get::<Option<String>, _>(3)?
            .map(UserId::from_stored),
        approval_id: row
            .try_get::<Option<String>, _>(4)?
            .map(ApprovalId::from_stored),
        urgency: PushUrgency::parse(row.try_get(5)?).ok_or_else(|| corrupt("push urgency"))?,
        topic: row.try_get(6)?,
        payload: row.try_get(7)?,
        state: PushState::parse(row.try_get(8)?).ok_or_else(|| corrupt("push state"))?,
        attempts: u32::try_from(row.try_get::<i32, _>(9)?).map_err(|_| corrupt("push attempts"))?,
        due_at: time(&row, 10)?,
        expires_at: time(&row, 11)?,
        last_error: row.try_get(12)?,
        created_at: time(&row, 13)?,
        updated_at: time(&row, 14)?,
    })
}

pub(crate) fn suspension(row: PgRow) -> Result<Suspension> {
    Ok(Suspension {
        user_id: UserId::from_stored(row.try_get(0)?),
        until: time(&row, 1)?,
        reason: SuspensionReason::parse(row.try_get(2)?)
            .ok_or_else(|| corrupt("suspension reason"))?,
        created_at: time(&row, 3)?,
    })
}

pub(crate) fn webhook(row: PgRow) -> Result<Webhook> {
    Ok(Webhook {
        app_id: AppId::from_stored(row.try_get(0)?),
        url: row.try_get(1)?,
        secret_sealed: row.try_get(2)?,
        events: json(row.try_get(3)?, "webhook events")?,
        created_at: time(&row, 4)?,
    })
}

pub(crate) fn webhook_progress(row: PgRow) -> Result<WebhookProgress> {
    Ok(WebhookProgress {
        cursor: unsigned(row.try_get(0)?, "webhook cursor")?,
        last_error: row.try_get(1)?,
        failed: unsigned(row.try_get(2)?, "webhook failures")?,
    })
}

macro_rules! ciba_client_columns {
    () => {
        "client_id, app_id, name, mode, notification_endpoint, auth_kind, secret_hash, jwks, \
         requires_user_code, agent_owner, agent_allowed_types, created_at"
    };
}
pub(crate) use ciba_client_columns;
pub(crate) fn ciba_client(row: PgRow) -> Result<CibaClient> {
    let auth_kind: &str = row.try_get(5)?;
    let auth = match (
        auth_kind,
        row.try_get::<Option<Vec<u8>>, _>(6)?,
        row.try_get::<Option<String>, _>(7)?,
    ) {
        ("secret", Some(secret_hash), None) => ClientAuth::Secret { secret_hash },
        ("private_key_jwt", None, Some(jwks)) => ClientAuth::PrivateKeyJwt { jwks },
        _ => return Err(corrupt("ciba client auth")),
    };
    let agent = match (
        row.try_get::<Option<String>, _>(9)?,
        row.try_get::<Option<&str>, _>(10)?,
    ) {
        (Some(owner), Some(types)) => Some(AgentProfile {
            owner: UserId::from_stored(owner),
            allowed_types: json(types, "agent allowed types")?,
        }),
        (None, None) => None,
        _ => return Err(corrupt("ciba agent profile")),
    };
    Ok(CibaClient {
        client_id: row.try_get(0)?,
        app_id: AppId::from_stored(row.try_get(1)?),
        name: row.try_get(2)?,
        mode: DeliveryMode::parse(row.try_get(3)?).ok_or_else(|| corrupt("ciba delivery mode"))?,
        notification_endpoint: row.try_get(4)?,
        auth,
        requires_user_code: row.try_get(8)?,
        agent,
        created_at: time(&row, 11)?,
    })
}

/// The stored `(auth_kind, secret_hash, jwks)` of a client's authentication.
pub(crate) fn ciba_auth(auth: &ClientAuth) -> (&'static str, Option<Vec<u8>>, Option<String>) {
    match auth {
        ClientAuth::Secret { secret_hash } => ("secret", Some(secret_hash.clone()), None),
        ClientAuth::PrivateKeyJwt { jwks } => ("private_key_jwt", None, Some(jwks.clone())),
    }
}

/// Scopes are stored space-joined, as OAuth writes them (a scope never contains a space).
pub(crate) fn scope_text(scope: &[String]) -> String {
    scope.join(" ")
}

macro_rules! ciba_request_columns {
    () => {
        "id_hash, client_id, approval_id, user_id, scope, acr, notification_token_sealed, \
         poll_interval, next_poll_at, token_lifetime, created_at, expires_at, tokens_issued_at"
    };
}
pub(crate) use ciba_request_columns;
pub(crate) fn ciba_request(row: PgRow) -> Result<CibaRequest> {
    let scope: &str = row.try_get(4)?;
    Ok(CibaRequest {
        id_hash: row.try_get(0)?,
        client_id: row.try_get(1)?,
        approval_id: ApprovalId::from_stored(row.try_get(2)?),
        user_id: UserId::from_stored(row.try_get(3)?),
        scope: scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        acr: row.try_get(5)?,
        notification_token_sealed: row.try_get(6)?,
        interval: unsigned(row.try_get(7)?, "ciba poll interval")?,
        next_poll_at: time(&row, 8)?,
        token_lifetime: row
            .try_get::<Option<i64>, _>(9)?
            .map(|t| unsigned(t, "ciba token lifetime"))
            .transpose()?,
        created_at: time(&row, 10)?,
        expires_at: time(&row, 11)?,
        tokens_issued_at: time_opt(&row, 12)?,
    })
}

macro_rules! duo_integration_columns {
    () => {
        "ikey, app_id, skey_sealed, api_host, allow_unmatched_push, allow_legacy_v1, created_at"
    };
}
pub(crate) use duo_integration_columns;
pub(crate) fn duo_integration(row: PgRow) -> Result<DuoIntegration> {
    Ok(DuoIntegration {
        ikey: row.try_get(0)?,
        app_id: AppId::from_stored(row.try_get(1)?),
        skey_sealed: row.try_get(2)?,
        api_host: row.try_get(3)?,
        allow_unmatched_push: row.try_get(4)?,
        allow_legacy_v1: row.try_get(5)?,
        created_at: time(&row, 6)?,
    })
}

macro_rules! group_columns {
    () => {
        "name, created_at"
    };
}
pub(crate) use group_columns;
pub(crate) fn group(row: PgRow) -> Result<Group> {
    Ok(Group {
        name: row.try_get(0)?,
        created_at: time(&row, 1)?,
    })
}
