//! Detectors of suspicious patterns. Each raises an admin alert (an `admin_alert` audit event,
//! delivered to `alert` webhooks) with its evidence: bursts of prompts, runs of denials or
//! unanswered prompts, approvals faster than a person can read, approvals outside the user's
//! usual hours. A request from a new country also alerts the user.
//!
//! The pattern detectors (bursts, runs of denials or unanswered prompts) raise one alert per
//! user and pattern in [`PATTERN_QUIET`](crate::risk::memory::PATTERN_QUIET): during a prompt-bombing attack every new request
//! matches the pattern again, and an alert for each one would bury the first under copies of it
//! (and send each to the `alert` webhooks). The store decides which request raises it (a
//! conditional write), so a burst spread over several nodes raises one alert too. Every request
//! still records its own risk reasons.

use crate::audit::{Actor, AuditEvent};
use crate::model::{Approval, Device};
use crate::service::Assent;
use time::OffsetDateTime;

/// Detector names, as they appear in `admin_alert` events.
pub mod names {
    pub const BURST_OF_PROMPTS: &str = "burst_of_prompts";
    pub const RUN_OF_DENIALS: &str = "run_of_denials";
    pub const RUN_OF_UNANSWERED: &str = "run_of_unanswered";
    pub const REFLEX_APPROVAL: &str = "reflex_approval";
    pub const OUTSIDE_USUAL_HOURS: &str = "approval_outside_usual_hours";
    pub const FAR_FROM_DEVICE: &str = "requester_far_from_device";
}

/// Farther than this between requester and device, an approval is suspicious.
const FAR_KM: f64 = 1000.0;

impl Assent {
    /// Looks at a request just created (its risk reasons carry the evidence).
    pub(crate) async fn detect_on_create(&self, approval: &Approval) {
        for reason in &approval.risk.reasons {
            let detector = match reason.signal.as_str() {
                "prompt_rate" => names::BURST_OF_PROMPTS,
                "recent_denials" => names::RUN_OF_DENIALS,
                "recent_unanswered" => names::RUN_OF_UNANSWERED,
                "new_country" => {
                    let message = format!(
                        "A request from a new location ({}) was sent to your devices. If it wasn't you, deny it and report it.",
                        reason.detail.trim_start_matches("first request from ")
                    );
                    self.alert(&approval.user_id, "new_location", message).await;
                    continue;
                }
                _ => continue,
            };
            let now = self.now();
            let quiet_since = now - crate::risk::memory::PATTERN_QUIET;
            match self
                .store
                .claim_pattern_alert(detector, &approval.user_id, now, quiet_since)
                .await
            {
                Ok(true) => {
                    self.admin_alert(detector, approval, reason.detail.clone())
                        .await;
                }
                Ok(false) => {}
                Err(e) => tracing::error!(detector, error = %e, "pattern alert not claimed"),
            }
        }
    }

    /// Looks at an approval just accepted.
    pub(crate) async fn detect_on_approval(
        &self,
        approval: &Approval,
        device: &Device,
        decided_at: OffsetDateTime,
        device_ip: Option<std::net::IpAddr>,
    ) {
        match self.store.first_delivery_at(&approval.id).await {
            Ok(Some(delivered)) if decided_at - delivered < self.settings.reflex_threshold => {
                let ms = (decided_at - delivered).whole_milliseconds();
                let evidence = format!(
                    "approved on {} {ms} ms after the device received the request",
                    device.name
                );
                self.admin_alert(names::REFLEX_APPROVAL, approval, evidence)
                    .await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "reflex detector could not read the delivery time")
            }
        }
        // Where the requester is against where the approving device is (its answer's address,
        // located with the GeoIP database when one is configured).
        let mut requester = super::assessment::origin_of(approval);
        self.locate(&mut requester);
        let device_place = device_ip.and_then(|ip| self.place_of(ip));
        if let (Some(here), Some(there)) = (
            requester.lat_lon,
            device_place.as_ref().and_then(|p| p.lat_lon),
        ) {
            let km = crate::risk::distance_km(here, there);
            if km > FAR_KM {
                let place = device_place.as_ref().map(|p| {
                    [p.city.clone(), p.country.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                let evidence = format!(
                    "the requester is in {} and the approving device in {}: {km:.0} km apart",
                    requester.country.as_deref().unwrap_or("an unknown country"),
                    place.unwrap_or_default()
                );
                self.admin_alert(names::FAR_FROM_DEVICE, approval, evidence)
                    .await;
            }
        }
        if let Some(reason) = approval
            .risk
            .reasons
            .iter()
            .find(|r| r.signal == "unusual_hour")
        {
            self.admin_alert(names::OUTSIDE_USUAL_HOURS, approval, reason.detail.clone())
                .await;
        }
    }

    /// Records an admin alert; the change it concerns is already committed, so a failure is
    /// logged rather than returned.
    pub(crate) async fn admin_alert(&self, detector: &str, approval: &Approval, evidence: String) {
        let event = AuditEvent::AdminAlert {
            detector: detector.to_owned(),
            user_id: approval.user_id.to_string(),
            approval_id: Some(approval.id.to_string()),
            evidence: evidence.clone(),
        };
        tracing::warn!(detector, user = %approval.user_id, approval = %approval.id, %evidence, "admin alert");
        crate::measures::alert(detector);
        if let Err(e) = self
            .store
            .append_audit(self.audit(Actor::System, event))
            .await
        {
            tracing::error!(detector, error = %e, "admin alert not recorded");
        }
        let username = self.username_of(&approval.user_id).await;
        let subject = format!("Assent admin alert: {detector} for {username}");
        let text = format!(
            "Detector: {detector}\nUser: {username}\nRequest: {}\nEvidence: {evidence}\n\nReview it in the audit log (admin_alert events).\n",
            approval.id
        );
        self.email_admins(&subject, &text).await;
    }
}
