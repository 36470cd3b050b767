//! Mapping between rows and domain records.

use assent_core::StoreError;
use assent_core::ciba::records::{AgentProfile, CibaClient, CibaRequest, ClientAuth, DeliveryMode};
use assent_core::clock::from_millis;
use assent_core::duo::records::DuoIntegration;
use assent_core::groups::records::Group;
use assent_core::ids::{AlertId, AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    Alert, ApiKeyRecord, App, Approval, AuditRecord, Device, EndReason, Enrollment, KeyRole,
    MatchingCode, Passkey, PastApproval, Quorum, RecoveryCode, TotpSecret, User,
};
use assent_core::outbox::pushes::{
    PushAddress, PushChannel, PushJob, PushState, PushTarget, PushUrgency,
};
use assent_proto::states::{Activation, ApprovalKind, ApprovalState, DeviceState};
use rusqlite::Row;

pub(crate) fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

fn json<T: serde::de::DeserializeOwned>(text: String, what: &str) -> rusqlite::Result<T> {
    serde_json::from_str(&text).map_err(|_| corrupt(what))
}

fn time_opt(v: Option<i64>) -> Option<time::OffsetDateTime> {
    v.map(from_millis)
}

pub(crate) const APP_COLUMNS: &str = "id, name, created_at";
pub(crate) fn app(row: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        id: AppId::from_stored(row.get(0)?),
        name: row.get(1)?,
        created_at: from_millis(row.get(2)?),
    })
}

pub(crate) const KEY_COLUMNS: &str = "id, secret_hash, role, app_id, created_at, revoked_at";
pub(crate) fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let role: String = row.get(2)?;
    let app_id: Option<String> = row.get(3)?;
    let role = match (role.as_str(), app_id) {
        ("admin", None) => KeyRole::Admin,
        ("app", Some(app)) => KeyRole::App(AppId::from_stored(app)),
        _ => return Err(corrupt("api key role")),
    };
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        secret_hash: row.get(1)?,
        role,
        created_at: from_millis(row.get(4)?),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(from_millis),
    })
}

pub(crate) const USER_COLUMNS: &str = "id, username, created_at";
pub(crate) fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::from_stored(row.get(0)?),
        username: Username::from_stored(row.get(1)?),
        created_at: from_millis(row.get(2)?),
    })
}

pub(crate) const ENROLLMENT_COLUMNS: &str =
    "id, user_id, code_hash, created_at, expires_at, used_at, activation";
pub(crate) fn enrollment(row: &Row<'_>) -> rusqlite::Result<Enrollment> {
    Ok(Enrollment {
        id: EnrollmentId::from_stored(row.get(0)?),
        user_id: UserId::from_stored(row.get(1)?),
        code_hash: row.get(2)?,
        created_at: from_millis(row.get(3)?),
        expires_at: from_millis(row.get(4)?),
        used_at: time_opt(row.get(5)?),
        activation: match row.get::<_, String>(6)?.as_str() {
            "immediate" => Activation::Immediate,
            "device_approval" => Activation::DeviceApproval,
            _ => return Err(corrupt("enrollment activation")),
        },
    })
}

pub(crate) const DEVICE_COLUMNS: &str = "id, user_id, name, platform, jwk, jkt, state, created_at, revoked_at, activation_pending, \
    last_seen_at, activation_code_sealed, \
    (SELECT p.channel FROM push_subscriptions p WHERE p.device_id = devices.id), \
    EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.device_id = devices.id AND p.disabled_at IS NULL)";
pub(crate) fn device(row: &Row<'_>) -> rusqlite::Result<Device> {
    let state = match (row.get::<_, String>(6)?.as_str(), row.get::<_, bool>(9)?) {
        ("active", false) => DeviceState::Active,
        ("active", true) => DeviceState::PendingActivation,
        ("revoked", _) => DeviceState::Revoked,
        _ => return Err(corrupt("device state")),
    };
    Ok(Device {
        id: DeviceId::from_stored(row.get(0)?),
        user_id: UserId::from_stored(row.get(1)?),
        name: row.get(2)?,
        platform: row.get(3)?,
        jwk: json(row.get(4)?, "device jwk")?,
        jkt: row.get(5)?,
        state,
        created_at: from_millis(row.get(7)?),
        revoked_at: time_opt(row.get(8)?),
        last_seen_at: time_opt(row.get(10)?),
        activation_code_sealed: row.get(11)?,
        push_channel: row
            .get::<_, Option<String>>(12)?
            .map(|c| PushChannel::parse(&c).ok_or_else(|| corrupt("push channel")))
            .transpose()?,
        push_working: row.get(13)?,
    })
}

/// The stored `(state, activation_pending)` pair of a device state (see migration 7).
pub(crate) fn device_state(state: DeviceState) -> (&'static str, bool) {
    match state {
        DeviceState::Active => ("active", false),
        DeviceState::PendingActivation => ("active", true),
        DeviceState::Revoked => ("revoked", false),
    }
}

pub(crate) fn activation(a: Activation) -> &'static str {
    a.as_str()
}

pub(crate) const TOTP_COLUMNS: &str =
    "user_id, seed_sealed, algorithm, digits, period, last_step, created_at";
pub(crate) fn totp(row: &Row<'_>) -> rusqlite::Result<TotpSecret> {
    Ok(TotpSecret {
        user_id: UserId::from_stored(row.get(0)?),
        seed_sealed: row.get(1)?,
        algorithm: row.get(2)?,
        digits: row.get(3)?,
        period: row.get(4)?,
        last_step: row
            .get::<_, Option<i64>>(5)?
            .map(|s| u64::try_from(s).map_err(|_| corrupt("totp last step")))
            .transpose()?,
        created_at: from_millis(row.get(6)?),
    })
}

pub(crate) fn recovery_code(row: &Row<'_>) -> rusqlite::Result<RecoveryCode> {
    Ok(RecoveryCode {
        user_id: UserId::from_stored(row.get(0)?),
        slot: row.get(1)?,
        hash: row.get(2)?,
        created_at: from_millis(row.get(3)?),
    })
}

pub(crate) const APPROVAL_COLUMNS: &str = "id, app_id, user_id, kind, binding_message, \
    authorization_details, context, nonce, code_digest, state, reason, created_at, expires_at, \
    decided_at, device_id, statement, receipt, user_verification, risk, policy_rule, code_length, \
    approvals_required, approver_groups";
pub(crate) fn approval(row: &Row<'_>) -> rusqlite::Result<Approval> {
    let kind: String = row.get(3)?;
    let state: String = row.get(9)?;
    Ok(Approval {
        id: ApprovalId::from_stored(row.get(0)?),
        app_id: AppId::from_stored(row.get(1)?),
        user_id: UserId::from_stored(row.get(2)?),
        kind: ApprovalKind::parse(&kind).ok_or_else(|| corrupt("approval kind"))?,
        binding_message: row.get(4)?,
        authorization_details: json(row.get(5)?, "authorization details")?,
        context: json(row.get(6)?, "context")?,
        nonce: row.get(7)?,
        code: matching_code(row.get(20)?, row.get(8)?),
        state: ApprovalState::parse(&state).ok_or_else(|| corrupt("approval state"))?,
        reason: row
            .get::<_, Option<String>>(10)?
            .map(|r| EndReason::parse(&r).ok_or_else(|| corrupt("end reason")))
            .transpose()?,
        created_at: from_millis(row.get(11)?),
        expires_at: from_millis(row.get(12)?),
        decided_at: time_opt(row.get(13)?),
        device_id: row.get::<_, Option<String>>(14)?.map(DeviceId::from_stored),
        statement: row.get(15)?,
        receipt: row.get(16)?,
        user_verification: row.get(17)?,
        risk: json(row.get(18)?, "risk")?,
        policy_rule: row.get(19)?,
        quorum: quorum(row.get(21)?, row.get(22)?)?,
    })
}

/// A quorum from its two columns: none at one approval.
fn quorum(approvals: u32, groups: Option<String>) -> rusqlite::Result<Option<Quorum>> {
    if approvals <= 1 {
        return Ok(None);
    }
    Ok(Some(Quorum {
        approvals,
        approver_groups: json(groups.unwrap_or_else(|| "[]".into()), "approver groups")?,
    }))
}

/// A number-matching code from its two columns, both set or both empty.
fn matching_code(length: Option<u8>, digest: Option<Vec<u8>>) -> Option<MatchingCode> {
    Some(MatchingCode {
        length: length?,
        digest: digest?,
    })
}

/// `state, created_at, decided_at, origin`.
pub(crate) fn past_approval(row: &Row<'_>) -> rusqlite::Result<PastApproval> {
    let state: String = row.get(0)?;
    Ok(PastApproval {
        state: ApprovalState::parse(&state).ok_or_else(|| corrupt("approval state"))?,
        created_at: from_millis(row.get(1)?),
        decided_at: time_opt(row.get(2)?),
        origin: json(row.get(3)?, "origin")?,
    })
}

pub(crate) const AUDIT_COLUMNS: &str = "seq, at, kind, actor, subject, data, prev_hash, hash";
pub(crate) fn audit(row: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: u64::try_from(row.get::<_, i64>(0)?).map_err(|_| corrupt("audit seq"))?,
        at: from_millis(row.get(1)?),
        kind: row.get(2)?,
        actor: row.get(3)?,
        subject: row.get(4)?,
        data: row.get(5)?,
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) const PASSKEY_COLUMNS: &str =
    "device_id, credential_id, public_key, created_at, sign_count";
pub(crate) fn passkey(row: &Row<'_>) -> rusqlite::Result<Passkey> {
    Ok(Passkey {
        device_id: DeviceId::from_stored(row.get(0)?),
        credential_id: row.get(1)?,
        public_key: row.get(2)?,
        created_at: from_millis(row.get(3)?),
        sign_count: row.get(4)?,
    })
}

pub(crate) const ALERT_COLUMNS: &str = "id, user_id, kind, message, created_at, device_id";
pub(crate) fn alert(row: &Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: AlertId::from_stored(row.get(0)?),
        user_id: UserId::from_stored(row.get(1)?),
        kind: row.get(2)?,
        message: row.get(3)?,
        created_at: from_millis(row.get(4)?),
        device_id: row.get::<_, Option<String>>(5)?.map(DeviceId::from_stored),
    })
}

/// A stored target keeps a native token in `endpoint` (the RFC 8291 keys are then empty).
pub(crate) const PUSH_TARGET_COLUMNS: &str =
    "device_id, channel, endpoint, p256dh, auth, created_at, disabled_at, disabled_reason";
pub(crate) fn push_target(row: &Row<'_>) -> rusqlite::Result<PushTarget> {
    let endpoint: String = row.get(2)?;
    let address = match PushChannel::parse(&row.get::<_, String>(1)?) {
        Some(PushChannel::WebPush) => PushAddress::WebPush {
            endpoint,
            p256dh: row.get(3)?,
            auth: row.get(4)?,
        },
        Some(PushChannel::Apns) => PushAddress::Apns { token: endpoint },
        Some(PushChannel::Fcm) => PushAddress::Fcm { token: endpoint },
        _ => return Err(corrupt("push target channel")),
    };
    Ok(PushTarget {
        device_id: DeviceId::from_stored(row.get(0)?),
        address,
        created_at: from_millis(row.get(5)?),
        disabled_at: time_opt(row.get(6)?),
        disabled_reason: row.get(7)?,
    })
}

/// The stored `(channel, endpoint, p256dh, auth)` of a target.
pub(crate) fn push_address(a: &PushAddress) -> (&'static str, &str, &str, &str) {
    match a {
        PushAddress::WebPush {
            endpoint,
            p256dh,
            auth,
        } => ("web_push", endpoint, p256dh, auth),
        PushAddress::Apns { token } => ("apns", token, "", ""),
        PushAddress::Fcm { token } => ("fcm", token, "", ""),
    }
}

pub(crate) const PUSH_JOB_COLUMNS: &str = "id, channel, device_id, user_id, approval_id, urgency, topic, payload, state, \
    attempts, due_at, expires_at, last_error, created_at, updated_at";
pub(crate) fn push_job(row: &Row<'_>) -> rusqlite::Result<PushJob> {
    Ok(PushJob {
        id: row.get(0)?,
        channel: PushChannel::parse(&row.get::<_, String>(1)?)
            .ok_or_else(|| corrupt("push channel"))?,
        device_id: row.get::<_, Option<String>>(2)?.map(DeviceId::from_stored),
        user_id: row.get::<_, Option<String>>(3)?.map(UserId::from_stored),
        approval_id: row
            .get::<_, Option<String>>(4)?
            .map(ApprovalId::from_stored),
        urgency: PushUrgency::parse(&row.get::<_, String>(5)?)
            .ok_or_else(|| corrupt("push urgency"))?,
        topic: row.get(6)?,
        payload: row.get(7)?,
        state: PushState::parse(&row.get::<_, String>(8)?).ok_or_else(|| corrupt("push state"))?,
        attempts: row.get(9)?,
        due_at: from_millis(row.get(10)?),
        expires_at: from_millis(row.get(11)?),
        last_error: row.get(12)?,
        created_at: from_millis(row.get(13)?),
        updated_at: from_millis(row.get(14)?),
    })
}

pub(crate) const CIBA_CLIENT_COLUMNS: &str = "client_id, app_id, name, mode, notification_endpoint, \
    auth_kind, secret_hash, jwks, requires_user_code, agent_owner, agent_allowed_types, created_at";
pub(crate) fn ciba_client(row: &Row<'_>) -> rusqlite::Result<CibaClient> {
    let mode: String = row.get(3)?;
    let auth_kind: String = row.get(5)?;
    let auth = match (
        auth_kind.as_str(),
        row.get::<_, Option<Vec<u8>>>(6)?,
        row.get::<_, Option<String>>(7)?,
    ) {
        ("secret", Some(secret_hash), None) => ClientAuth::Secret { secret_hash },
        ("private_key_jwt", None, Some(jwks)) => ClientAuth::PrivateKeyJwt { jwks },
        _ => return Err(corrupt("ciba client auth")),
    };
    let agent = match (
        row.get::<_, Option<String>>(9)?,
        row.get::<_, Option<String>>(10)?,
    ) {
        (Some(owner), Some(types)) => Some(AgentProfile {
            owner: UserId::from_stored(owner),
            allowed_types: json(types, "agent allowed types")?,
        }),
        (None, None) => None,
        _ => return Err(corrupt("ciba agent profile")),
    };
    Ok(CibaClient {
        client_id: row.get(0)?,
        app_id: AppId::from_stored(row.get(1)?),
        name: row.get(2)?,
        mode: DeliveryMode::parse(&mode).ok_or_else(|| corrupt("ciba delivery mode"))?,
        notification_endpoint: row.get(4)?,
        auth,
        requires_user_code: row.get(8)?,
        agent,
        created_at: from_millis(row.get(11)?),
    })
}

/// The stored `(auth_kind, secret_hash, jwks)` of a client's authentication.
pub(crate) fn ciba_auth(auth: &ClientAuth) -> (&'static str, Option<&[u8]>, Option<&str>) {
    match auth {
        ClientAuth::Secret { secret_hash } => ("secret", Some(secret_hash), None),
        ClientAuth::PrivateKeyJwt { jwks } => ("private_key_jwt", None, Some(jwks)),
    }
}

/// Scopes are stored space-joined, as OAuth writes them (a scope never contains a space).
pub(crate) fn scope_text(scope: &[String]) -> String {
    scope.join(" ")
}

fn scope_list(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) const CIBA_REQUEST_COLUMNS: &str = "id_hash, client_id, approval_id, user_id, scope, acr, \
    notification_token_sealed, poll_interval, next_poll_at, token_lifetime, created_at, expires_at, \
    tokens_issued_at";
pub(crate) fn ciba_request(row: &Row<'_>) -> rusqlite::Result<CibaRequest> {
    Ok(CibaRequest {
        id_hash: row.get(0)?,
        client_id: row.get(1)?,
        approval_id: ApprovalId::from_stored(row.get(2)?),
        user_id: UserId::from_stored(row.get(3)?),
        scope: scope_list(&row.get::<_, String>(4)?),
        acr: row.get(5)?,
        notification_token_sealed: row.get(6)?,
        interval: row.get(7)?,
        next_poll_at: from_millis(row.get(8)?),
        token_lifetime: row.get(9)?,
        created_at: from_millis(row.get(10)?),
        expires_at: from_millis(row.get(11)?),
        tokens_issued_at: time_opt(row.get(12)?),
    })
}

pub(crate) const DUO_INTEGRATION_COLUMNS: &str =
    "ikey, app_id, skey_sealed, api_host, allow_unmatched_push, allow_legacy_v1, created_at";
pub(crate) fn duo_integration(row: &Row<'_>) -> rusqlite::Result<DuoIntegration> {
    Ok(DuoIntegration {
        ikey: row.get(0)?,
        app_id: AppId::from_stored(row.get(1)?),
        skey_sealed: row.get(2)?,
        api_host: row.get(3)?,
        allow_unmatched_push: row.get(4)?,
        allow_legacy_v1: row.get(5)?,
        created_at: from_millis(row.get(6)?),
    })
}

pub(crate) const GROUP_COLUMNS: &str = "name, created_at";
pub(crate) fn group(row: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        name: row.get(0)?,
        created_at: from_millis(row.get(1)?),
    })
}
