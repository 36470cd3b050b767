//! Domain records into v1 bodies, and v1 bodies into domain commands: the only place the v1
//! wire format of approvals meets the core.

use crate::error::ApiError;
use assent_core::approvals::{
    ApprovalForApp, ApprovalForDevice, AuthorizationDetails, BindingMessage, CreatedApproval,
    Lifetime, NewApproval,
};
use assent_core::audit::check::ChainReport;
use assent_core::clock::rfc3339;
use assent_core::devices::{EnrolledDevice, EnrollmentIssued};
use assent_core::ids::Username;
use assent_core::model::{Approval, Device};
use assent_core::outbox::pushes::{PushChannel, PushJob};
use assent_core::risk::RiskAssessment;
use assent_core::{Assent, Settings};
use assent_proto::ProblemCode;
use assent_proto::api::{
    AnsweringDevice, ApplicationRef, ApprovalCreated, ApprovalStatus, AuditReport, CreateApproval,
    Delivery, DeviceApproval, DeviceEnrolled, DeviceView, EnrollmentCreated, RiskReasonView,
    RiskView,
};
use assent_proto::exact_json::check_text;
use std::future::Future;
use std::pin::Pin;

/// `POST /v1/approvals` as the core's command, each part parsed in the order the checks are
/// documented: binding message, details (first as written in `text`, the body, then as parsed),
/// lifetime, then the user's name.
pub(crate) fn new_approval(
    body: CreateApproval,
    text: &[u8],
    settings: &Settings,
) -> Result<NewApproval, ApiError> {
    let binding_message = body
        .binding_message
        .map(BindingMessage::parse)
        .transpose()?;
    let authorization_details = new_approval_details(body.authorization_details, text)?;
    let lifetime = Lifetime::parse(body.expires_in, settings)?;
    Ok(NewApproval {
        user: Username::parse(&body.user)?,
        kind: body.kind,
        binding_message,
        authorization_details,
        context: body.context.unwrap_or_default(),
        lifetime,
        user_verification: body.user_verification,
        code_display: assent_core::approvals::CodeDisplay::Shown,
        passkey_authentication: body.passkey_authentication,
    })
}

/// The `authorization_details` of a request body, checked as parsed and as written (`text`).
pub(crate) fn new_approval_details(
    details: Vec<serde_json::Value>,
    text: &[u8],
) -> Result<AuthorizationDetails, ApiError> {
    details_survive_canonical_form(text)?;
    Ok(AuthorizationDetails::parse(details)?)
}

/// The `authorization_details` of a request body, as the relying party wrote them.
#[derive(serde::Deserialize)]
struct DetailsText<'a> {
    #[serde(borrow, default)]
    authorization_details: Option<&'a serde_json::value::RawValue>,
}

/// Refuses details whose text the canonical form would change (a number rounded, a member name
/// given twice): the device would show and sign another transaction than the one sent, and the
/// relying party's own hash of what it sent would not match the receipt's.
fn details_survive_canonical_form(text: &[u8]) -> Result<(), ApiError> {
    let details = serde_json::from_slice::<DetailsText<'_>>(text)
        .map_err(|e| ApiError::new(ProblemCode::InvalidRequest, e.to_string()))?;
    let Some(details) = details.authorization_details else {
        return Ok(());
    };
    check_text(details.get(), "/authorization_details").map_err(|inexact| {
        ApiError::new(ProblemCode::InvalidRequest, inexact.to_string())
            .with("pointer", inexact.pointer())
    })
}

/// The answer to `POST /v1/approvals`: the request as it is now, with what the relying party
/// must show (the code) and why (risk and rule).
pub(crate) fn approval_created(created: CreatedApproval) -> ApprovalCreated {
    let approval = created.approval;
    ApprovalCreated {
        id: approval.id.to_string(),
        state: approval.state,
        expires_at: rfc3339(approval.expires_at),
        user_verification: approval.user_verification,
        risk: risk_view(&approval.risk),
        policy_rule: approval.policy_rule.unwrap_or_default(),
        display_code: created.display_code,
    }
}

/// The relying party's view: the outcome and the receipt, never the nonce or device keys.
pub(crate) fn approval_status(view: &ApprovalForApp) -> ApprovalStatus {
    let approval = &view.approval;
    ApprovalStatus {
        id: approval.id.to_string(),
        state: approval.state,
        kind: approval.kind,
        user: view
            .user
            .as_ref()
            .map(|u| u.username.to_string())
            .unwrap_or_default(),
        reason: approval.reason.map(|r| r.as_str().to_owned()),
        created_at: rfc3339(approval.created_at),
        expires_at: rfc3339(approval.expires_at),
        decided_at: approval.decided_at.map(rfc3339),
        device: view.answered_by.as_ref().map(|d| AnsweringDevice {
            id: d.id.to_string(),
            name: d.name.clone(),
        }),
        receipt: approval.receipt.clone(),
        user_verification: approval.user_verification,
        risk: risk_view(&approval.risk),
        policy_rule: approval.policy_rule.clone(),
        approvals_required: approval.quorum.as_ref().map(|q| q.approvals),
        co_approval: view.co_approval.as_ref().map(ToString::to_string),
        deliveries: view.pushes.iter().filter_map(delivery).collect(),
    }
}

/// One push of a request as its relying party sees it (an e-mail is never one).
fn delivery(push: &PushJob) -> Option<Delivery> {
    Some(Delivery {
        device_id: push.device_id.as_ref()?.to_string(),
        channel: push.channel.as_str().to_owned(),
        state: push.state.as_str().to_owned(),
        attempts: push.attempts,
        at: rfc3339(push.updated_at),
        error: push.last_error.clone(),
    })
}

/// [`approval_status`] of a request read just now. Boxed: a long poll or a stream holds its
/// future while it waits, and would otherwise reserve room for this step (a request moved
/// through two calls) all that time.
pub(crate) fn status_of(
    assent: &Assent,
    approval: Approval,
) -> Pin<Box<dyn Future<Output = Result<ApprovalStatus, ApiError>> + Send + '_>> {
    Box::pin(async move { Ok(approval_status(&assent.for_app(approval).await?)) })
}

/// The `data` of an `approval.final` webhook event.
pub(crate) fn webhook_data(view: &ApprovalForApp) -> serde_json::Value {
    serde_json::to_value(approval_status(view)).unwrap_or_default()
}

/// The device's view: the full context and what to sign, never the code to type.
pub(crate) fn device_approval(view: ApprovalForDevice) -> DeviceApproval {
    let approval = view.approval;
    DeviceApproval {
        id: approval.id.to_string(),
        state: approval.state,
        application: ApplicationRef {
            id: approval.app_id.to_string(),
            name: view.app_name,
        },
        kind: approval.kind,
        details_hash: view.details_hash,
        code_required: approval.code.is_some(),
        code_length: approval.code.as_ref().map(|c| c.length),
        user_verification_required: approval.user_verification,
        created_at: rfc3339(approval.created_at),
        expires_at: rfc3339(approval.expires_at),
        binding_message: approval.binding_message,
        authorization_details: approval.authorization_details,
        context: approval.context,
        nonce: approval.nonce,
        access_request: view.access.as_ref().map(super::access::progress),
    }
}

/// [`device_approval`] of a request read just now.
pub(crate) async fn device_approval_of(
    assent: &Assent,
    approval: Approval,
) -> Result<DeviceApproval, ApiError> {
    Ok(device_approval(assent.for_device(approval).await?))
}

/// The answer to creating an enrollment link.
pub(crate) fn enrollment_created(issued: EnrollmentIssued) -> EnrollmentCreated {
    EnrollmentCreated {
        link: issued.link,
        expires_at: rfc3339(issued.expires_at),
        activation: issued.activation,
        qr_svg: issued.qr_svg,
    }
}

/// The answer to a device's enrollment.
pub(crate) fn device_enrolled(enrolled: EnrolledDevice) -> DeviceEnrolled {
    DeviceEnrolled {
        device_id: enrolled.device.id.to_string(),
        user: enrolled.username.to_string(),
        registration: enrolled.registration,
        state: enrolled.device.state,
        activation_code: enrolled.activation_code,
    }
}

/// The answer to `POST /v1/admin/audit/verify`.
pub fn audit_report(report: ChainReport) -> AuditReport {
    AuditReport {
        intact: report.intact,
        rows: report.rows,
        head_seq: report.head_seq,
        head_hash: report.head_hash,
        first_bad_seq: report.first_bad_seq,
        problem: report.problem,
    }
}

/// The wire form of a risk assessment.
pub(crate) fn risk_view(risk: &RiskAssessment) -> RiskView {
    RiskView {
        score: risk.score,
        reasons: risk
            .reasons
            .iter()
            .map(|r| RiskReasonView {
                signal: r.signal.clone(),
                points: r.points,
                detail: r.detail.clone(),
            })
            .collect(),
    }
}

/// A device as admins and the user's devices see it.
pub(crate) fn device_view(device: &Device, username: &str) -> DeviceView {
    DeviceView {
        id: device.id.to_string(),
        user: username.to_owned(),
        name: device.name.clone(),
        platform: device.platform.clone(),
        state: device.state,
        jwk: device.jwk.clone(),
        created_at: rfc3339(device.created_at),
        revoked_at: device.revoked_at.map(rfc3339),
        last_seen_at: device.last_seen_at.map(rfc3339),
        push_channel: device
            .push_channel
            .map_or("stream", PushChannel::as_str)
            .to_owned(),
        push_working: device.push_channel.is_some() && device.push_working,
    }
}
