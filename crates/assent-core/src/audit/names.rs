//! Each event's name and the object it is about: the two columns stored beside the event, by
//! which the log is searched.

use super::AuditEvent;

impl AuditEvent {
    /// The event's name, stored in its own column for querying.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditEvent::ServerKeyCreated { .. } => "server_key_created",
            AuditEvent::AdminKeyCreated { .. } => "admin_key_created",
            AuditEvent::AppCreated { .. } => "app_created",
            AuditEvent::UserCreated { .. } => "user_created",
            AuditEvent::EnrollmentCreated { .. } => "enrollment_created",
            AuditEvent::DeviceEnrolled { .. } => "device_enrolled",
            AuditEvent::DeviceRevoked { .. } => "device_revoked",
            AuditEvent::DeviceRenamed { .. } => "device_renamed",
            AuditEvent::PasskeyRegistered { .. } => "passkey_registered",
            AuditEvent::PushSubscribed { .. } => "push_subscribed",
            AuditEvent::PushAccepted { .. } => "push_accepted",
            AuditEvent::PushFailed { .. } => "push_failed",
            AuditEvent::PushTargetDisabled { .. } => "push_target_disabled",
            AuditEvent::UserEmailSet { .. } => "user_email_set",
            AuditEvent::ApprovalCreated { .. } => "approval_created",
            AuditEvent::ApprovalRefused { .. } => "approval_refused",
            AuditEvent::AdminAlert { .. } => "admin_alert",
            AuditEvent::ApprovalDelivered { .. } => "approval_delivered",
            AuditEvent::PushSuspended { .. } => "push_suspended",
            AuditEvent::WebhookConfigured { .. } => "webhook_configured",
            AuditEvent::UserEventReported { .. } => "user_event_reported",
            AuditEvent::ApprovalDecided { .. } => "approval_decided",
            AuditEvent::DeviceActivated { .. } => "device_activated",
            AuditEvent::DeviceActivationRefused { .. } => "device_activation_refused",
            AuditEvent::TotpEnrolled { .. } => "totp_enrolled",
            AuditEvent::TotpRemoved { .. } => "totp_removed",
            AuditEvent::RecoveryCodesGenerated { .. } => "recovery_codes_generated",
            AuditEvent::FactorUsed { .. } => "factor_used",
            AuditEvent::FactorRefused { .. } => "factor_refused",
            AuditEvent::FactorRateLimited { .. } => "factor_rate_limited",
            AuditEvent::PasskeyCloneSuspected { .. } => "passkey_clone_suspected",
            AuditEvent::CibaClientRegistered { .. } => "ciba_client_registered",
            AuditEvent::CibaTokensIssued { .. } => "ciba_tokens_issued",
            AuditEvent::DuoIntegrationCreated { .. } => "duo_integration_created",
            AuditEvent::GroupCreated { .. } => "group_created",
            AuditEvent::GroupMemberAdded { .. } => "group_member_added",
            AuditEvent::GroupMemberRemoved { .. } => "group_member_removed",
            AuditEvent::AppScopeSet { .. } => "app_scope_set",
            AuditEvent::AccessTokenRevoked { .. } => "access_token_revoked",
            AuditEvent::AccessRequestCreated { .. } => "access_request_created",
            AuditEvent::AccessRequestEnded { .. } => "access_request_ended",
            AuditEvent::AccessGrantRevoked { .. } => "access_grant_revoked",
            AuditEvent::BreakGlassCodeSet {} => "break_glass_code_set",
            AuditEvent::BreakGlassRefused { .. } => "break_glass_refused",
            AuditEvent::BreakGlassReviewed { .. } => "break_glass_reviewed",
            AuditEvent::RpWebauthnSet { .. } => "rp_webauthn_set",
            AuditEvent::RpPasskeyRegistered { .. } => "rp_passkey_registered",
            AuditEvent::RpPasskeyUsed { .. } => "rp_passkey_used",
            AuditEvent::RpPasskeyRefused { .. } => "rp_passkey_refused",
            AuditEvent::RpPasskeyCloneSuspected { .. } => "rp_passkey_clone_suspected",
            AuditEvent::ApiKeyRotated { .. } => "api_key_rotated",
            AuditEvent::ApiKeyRevoked { .. } => "api_key_revoked",
            AuditEvent::ConsoleSignedIn { .. } => "console_signed_in",
            AuditEvent::ConsoleSignedOut { .. } => "console_signed_out",
            AuditEvent::PushSuspensionLifted { .. } => "push_suspension_lifted",
            AuditEvent::BroadcastCreated(_) => "broadcast_created",
            AuditEvent::BroadcastAcknowledged(_) => "broadcast_acknowledged",
            AuditEvent::BroadcastReminded(_) => "broadcast_reminded",
        }
    }

    /// The object the event is about, for querying by user, device or request.
    pub fn subject(&self) -> String {
        match self {
            AuditEvent::ServerKeyCreated { kid } => format!("key:{kid}"),
            AuditEvent::AdminKeyCreated { key_id } => format!("key:{key_id}"),
            AuditEvent::AppCreated { app_id, .. } => format!("app:{app_id}"),
            AuditEvent::ApprovalRefused { user_id, .. }
            | AuditEvent::AdminAlert { user_id, .. } => {
                format!("user:{user_id}")
            }
            AuditEvent::PushSuspended { user_id, .. }
            | AuditEvent::UserEventReported { user_id, .. }
            | AuditEvent::TotpEnrolled { user_id, .. }
            | AuditEvent::TotpRemoved { user_id }
            | AuditEvent::RecoveryCodesGenerated { user_id, .. }
            | AuditEvent::FactorUsed { user_id, .. }
            | AuditEvent::FactorRefused { user_id, .. }
            | AuditEvent::FactorRateLimited { user_id, .. }
            | AuditEvent::UserEmailSet { user_id, .. } => format!("user:{user_id}"),
            AuditEvent::PushAccepted { push_id, .. } | AuditEvent::PushFailed { push_id, .. } => {
                format!("push:{push_id}")
            }
            AuditEvent::WebhookConfigured { app_id, .. } => format!("app:{app_id}"),
            AuditEvent::UserCreated { user_id, .. }
            | AuditEvent::EnrollmentCreated { user_id, .. } => format!("user:{user_id}"),
            AuditEvent::DeviceEnrolled { device_id, .. }
            | AuditEvent::DeviceRevoked { device_id, .. }
            | AuditEvent::DeviceRenamed { device_id, .. }
            | AuditEvent::PasskeyRegistered { device_id, .. }
            | AuditEvent::PushSubscribed { device_id, .. }
            | AuditEvent::PushTargetDisabled { device_id, .. }
            | AuditEvent::DeviceActivated { device_id, .. }
            | AuditEvent::DeviceActivationRefused { device_id, .. }
            | AuditEvent::PasskeyCloneSuspected { device_id, .. } => {
                format!("device:{device_id}")
            }
            AuditEvent::ApprovalCreated { approval_id, .. }
            | AuditEvent::ApprovalDelivered { approval_id, .. }
            | AuditEvent::ApprovalDecided { approval_id, .. }
            | AuditEvent::CibaTokensIssued { approval_id, .. } => format!("approval:{approval_id}"),
            AuditEvent::CibaClientRegistered { client_id, .. }
            | AuditEvent::AccessTokenRevoked { client_id, .. } => format!("client:{client_id}"),
            AuditEvent::DuoIntegrationCreated { ikey, .. } => format!("duo:{ikey}"),
            AuditEvent::GroupCreated { name } => format!("group:{name}"),
            AuditEvent::GroupMemberAdded { user_id, .. }
            | AuditEvent::GroupMemberRemoved { user_id, .. } => format!("user:{user_id}"),
            AuditEvent::AppScopeSet { app_id, .. } => format!("app:{app_id}"),
            AuditEvent::AccessRequestCreated { request_id, .. }
            | AuditEvent::AccessRequestEnded { request_id, .. }
            | AuditEvent::AccessGrantRevoked { request_id, .. }
            | AuditEvent::BreakGlassRefused { request_id, .. }
            | AuditEvent::BreakGlassReviewed { request_id, .. } => format!("access:{request_id}"),
            AuditEvent::BreakGlassCodeSet {} => "break_glass".to_owned(),
            AuditEvent::RpWebauthnSet { app_id, .. } => format!("app:{app_id}"),
            AuditEvent::RpPasskeyRegistered { user_id, .. }
            | AuditEvent::RpPasskeyUsed { user_id, .. }
            | AuditEvent::RpPasskeyRefused { user_id, .. }
            | AuditEvent::RpPasskeyCloneSuspected { user_id, .. }
            | AuditEvent::ConsoleSignedIn { user_id, .. }
            | AuditEvent::ConsoleSignedOut { user_id, .. }
            | AuditEvent::PushSuspensionLifted { user_id } => format!("user:{user_id}"),
            AuditEvent::ApiKeyRotated { app_id, .. } | AuditEvent::ApiKeyRevoked { app_id, .. } => {
                format!("app:{app_id}")
            }
            AuditEvent::BroadcastCreated(e) => format!("broadcast:{}", e.broadcast_id),
            AuditEvent::BroadcastAcknowledged(e) => format!("user:{}", e.user_id),
            AuditEvent::BroadcastReminded(e) => format!("user:{}", e.user_id),
        }
    }
}
