//! What Assent counts for its operators, exported by the server as Prometheus metrics: every
//! name and label in one place, so that the code, docs/operations.md and the example alert rules
//! agree. Recording goes through the `metrics` facade; where no recorder is installed (a test, a
//! library user) a measurement costs a branch.
//!
//! Labels take their values from closed sets (kinds, states, reasons, problem codes, channels,
//! detector names): never a user, a device, an address or anything a caller chooses, so the
//! number of series stays bounded and no metric carries personal data.

use crate::model::{Approval, EndReason, SuspensionReason};
use assent_proto::ProblemCode;
use assent_proto::states::ApprovalKind;

/// Requests created, by kind and by what the policy decided (`push` or `allow`).
pub const REQUESTS_CREATED: &str = "assent_requests_created_total";
/// Requests refused at creation, by kind and problem code.
pub const REQUESTS_REFUSED: &str = "assent_requests_refused_total";
/// Requests that reached their final state, by kind, state and reason.
pub const REQUESTS_DECIDED: &str = "assent_requests_decided_total";
/// From creation to a device's answer (approved, denied, reported), by kind and state.
pub const DECISION_SECONDS: &str = "assent_request_decision_seconds";
/// Requests pending now, read from the store when scraped (the same on every node).
pub const REQUESTS_PENDING: &str = "assent_requests_pending";
/// Pushes that reached an outcome, by channel and result.
pub const PUSHES: &str = "assent_pushes_total";
/// Push suspensions, by reason.
pub const SUSPENSIONS: &str = "assent_push_suspensions_total";
/// Admin alerts raised, by detector.
pub const DETECTOR_ALERTS: &str = "assent_detector_alerts_total";
/// HTTP requests answered, by method, route template and status.
pub const HTTP_REQUESTS: &str = "assent_http_requests_total";
/// Time to answer an HTTP request, by method and route template.
pub const HTTP_SECONDS: &str = "assent_http_request_duration_seconds";
/// Time to commit a write in the store, by backend.
pub const STORE_COMMIT_SECONDS: &str = "assent_store_commit_seconds";

/// Histogram buckets for latencies, in seconds: from a fast commit to a user's slow answer.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0, 300.0,
];

/// A request was stored: pushed to the user's devices, or allowed by the policy.
pub(crate) fn created(kind: ApprovalKind, pushed: bool) {
    let outcome = if pushed { "push" } else { "allow" };
    metrics::counter!(REQUESTS_CREATED, "kind" => kind.as_str(), "policy" => outcome).increment(1);
}

/// A request was refused before anything was stored.
pub(crate) fn refused(kind: ApprovalKind, code: ProblemCode) {
    metrics::counter!(REQUESTS_REFUSED, "kind" => kind.as_str(), "code" => code.as_str())
        .increment(1);
}

/// A request reached its final state (the one write that won).
pub(crate) fn decided(approval: &Approval) {
    let reason = approval.reason.map_or("none", EndReason::as_str);
    metrics::counter!(
        REQUESTS_DECIDED,
        "kind" => approval.kind.as_str(),
        "state" => approval.state.as_str(),
        "reason" => reason
    )
    .increment(1);
    // Only a person's answer says how long people take.
    if let (Some(_), Some(at)) = (&approval.device_id, approval.decided_at) {
        let seconds = (at - approval.created_at).as_seconds_f64().max(0.0);
        metrics::histogram!(
            DECISION_SECONDS,
            "kind" => approval.kind.as_str(),
            "state" => approval.state.as_str()
        )
        .record(seconds);
    }
}

/// A push reached an outcome on its channel (`accepted`, `failed`, `skipped`, `retry`).
pub(crate) fn push(channel: &'static str, result: &'static str) {
    metrics::counter!(PUSHES, "channel" => channel, "result" => result).increment(1);
}

pub(crate) fn suspended(reason: SuspensionReason) {
    metrics::counter!(SUSPENSIONS, "reason" => reason.as_str()).increment(1);
}

/// An admin alert; `detector` is one of the detectors' fixed names.
pub(crate) fn alert(detector: &str) {
    metrics::counter!(DETECTOR_ALERTS, "detector" => detector.to_owned()).increment(1);
}
