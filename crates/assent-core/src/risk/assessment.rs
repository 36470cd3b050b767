//! Risk and policy for one request: gather the user's history and the network's reputation,
//! score the request, and let the first matching policy rule decide what it needs.

use crate::approvals::NewApproval;
use crate::error::CoreError;
use crate::model::{App, Approval, User};
use crate::risk::lists::RiskLists;
use crate::risk::policy::{Policy, PolicyDecision};
use crate::risk::{
    Origin, PastRequest, RiskAssessment, RiskInput, RiskSettings, assess, network_of,
};
use crate::service::Assent;
use assent_proto::context::RequestContext;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use time::Duration;

/// What the policy is told about the request beside its content.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Asking {
    /// `request.kind` when it is not the request's own (`access_request` for an access
    /// request, decided once for all its approvers).
    pub kind: Option<&'static str>,
    /// `request.passkey`: the request shows a passkey authentication at the application's
    /// origin.
    pub passkey: bool,
}

/// History the risk engine looks at.
const HISTORY_DAYS: i64 = 90;
const HISTORY_LIMIT: u32 = 500;
/// How long a fraud report taints its network.
const NETWORK_MEMORY_DAYS: i64 = 30;

/// The largest `amount` among the authorization details, for "transactions over N" rules. An
/// amount that is present but not a plain number ("1,500.00", "lots") counts as unbounded, so an
/// odd format can never slip under a threshold.
fn amount(details: &[Value]) -> f64 {
    details
        .iter()
        .filter_map(|d| match d.get("amount")? {
            Value::String(s) => Some(
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|a| a.is_finite())
                    .unwrap_or(f64::MAX),
            ),
            Value::Number(n) => Some(n.as_f64().unwrap_or(f64::MAX)),
            _ => Some(f64::MAX),
        })
        .fold(0.0, f64::max)
}

pub(crate) fn origin_of(approval: &Approval) -> Origin {
    origin_of_context(&approval.context)
}

fn origin_of_context(c: &RequestContext) -> Origin {
    Origin::from_context(c.ip.as_deref(), c.geo.as_ref(), c.device_id.as_deref())
}

impl Assent {
    /// Replaces the running policy (already parsed and compiled, so it cannot be half valid).
    pub fn set_policy(&self, policy: Policy) {
        if let Ok(mut current) = self.policy.write() {
            *current = Arc::new(policy);
        }
    }

    /// The running policy.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Replaces the deny and Tor exit lists.
    pub fn set_risk_lists(&self, lists: RiskLists) {
        if let Ok(mut current) = self.risk_lists.write() {
            *current = Arc::new(lists);
        }
    }

    /// Replaces (or removes) the GeoIP database.
    pub fn set_geoip(&self, geoip: Option<crate::risk::geoip::GeoIp>) {
        if let Ok(mut current) = self.geoip.write() {
            *current = geoip.map(Arc::new);
        }
    }

    /// Fills what the relying party did not say (country, coordinates) from the GeoIP database.
    pub(crate) fn locate(&self, origin: &mut Origin) {
        let Some(ip) = origin.ip else { return };
        if origin.country.is_some() && origin.lat_lon.is_some() {
            return;
        }
        if let Some(place) = self.place_of(ip) {
            origin.country = origin.country.take().or(place.country);
            origin.lat_lon = origin.lat_lon.or(place.lat_lon);
        }
    }

    /// The place of an address, when a GeoIP database is configured.
    pub(crate) fn place_of(&self, ip: IpAddr) -> Option<crate::risk::geoip::Place> {
        self.geoip
            .read()
            .ok()
            .and_then(|g| g.clone())
            .and_then(|g| g.locate(ip))
    }

    /// Scores a request and decides what it needs. `asking` says what the policy sees the
    /// request as (`request.kind`, and whether it shows a passkey authentication).
    pub(crate) async fn assess_request(
        &self,
        app: &App,
        user: &User,
        request: &NewApproval,
        active_devices: usize,
        asking: Asking,
    ) -> Result<(RiskAssessment, PolicyDecision, Value), CoreError> {
        let now = self.now();
        let context = request.context.clone();
        let mut origin = Origin::from_context(
            context.ip.as_deref(),
            context.geo.as_ref(),
            context.device_id.as_deref(),
        );
        self.locate(&mut origin);
        let history: Vec<PastRequest> = self
            .store
            .request_history(&user.id, now - Duration::days(HISTORY_DAYS), HISTORY_LIMIT)
            .await?
            .iter()
            .map(|a| {
                let mut origin = origin_of_context(&a.origin);
                self.locate(&mut origin);
                PastRequest {
                    state: a.state,
                    created_at: a.created_at,
                    decided_at: a.decided_at,
                    origin,
                }
            })
            .collect();
        let network_reports = match origin.ip {
            Some(ip) => {
                self.store
                    .network_reports_since(
                        &network_of(ip),
                        now - Duration::days(NETWORK_MEMORY_DAYS),
                    )
                    .await?
            }
            None => 0,
        };
        let lists = self
            .risk_lists
            .read()
            .map(|l| l.clone())
            .unwrap_or_default();
        let input = RiskInput {
            now,
            origin: &origin,
            history: &history,
            deny_listed: origin.ip.is_some_and(|ip| lists.deny_listed(ip)),
            tor_exit: origin.ip.is_some_and(|ip| lists.tor.contains(&ip)),
            network_reports,
        };
        let settings = RiskSettings {
            max_travel_kmh: self.settings.max_travel_kmh,
            ..RiskSettings::default()
        };
        let risk = assess(&input, &settings);
        let groups = self.store.groups_of(&user.id).await?;
        let count = |state| history.iter().filter(|p| p.state == state).count();
        use assent_proto::states::ApprovalState::{Approved, Denied, Fraud};
        let facts = json!({
            "request": {
                "kind": asking.kind.unwrap_or(request.kind.as_str()),
                "passkey": asking.passkey,
                "application": app.name,
                "user": user.username.as_str(),
                "binding_message": request.binding_message.as_ref().map_or("", |m| m.as_str()),
                "authorization_details": request.authorization_details.as_slice(),
                "amount": amount(request.authorization_details.as_slice()),
            },
            "context": {
                "ip": context.ip.clone().unwrap_or_default(),
                "user_agent": context.user_agent.clone().unwrap_or_default(),
                "device_id": context.device_id.clone().unwrap_or_default(),
                "country": origin.country.clone().unwrap_or_default(),
                "city": context
                    .geo
                    .as_ref()
                    .and_then(|g| g.city.clone())
                    .or_else(|| origin.ip.and_then(|ip| self.place_of(ip)).and_then(|p| p.city))
                    .unwrap_or_default(),
            },
            "risk": {"score": risk.score, "reasons": risk.signals()},
            "user": {
                "devices": active_devices,
                "groups": groups,
                "approvals": count(Approved),
                "denials": count(Denied),
                "frauds": count(Fraud),
            },
        });
        let decision = self.policy().decide(&facts);
        Ok((risk, decision, facts))
    }

    /// The network a fraud report on `approval` taints for every user: the `/24` (or `/48`)
    /// the request came from, if its relying party gave an address.
    pub(crate) fn reported_network(approval: &Approval) -> Option<String> {
        approval
            .context
            .ip
            .as_deref()
            .and_then(|i| i.parse::<IpAddr>().ok())
            .map(network_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_amount_counts() {
        let details = vec![
            json!({"type": "p", "amount": "12.50"}),
            json!({"type": "p", "amount": 1500}),
            json!({"type": "x"}),
        ];
        assert_eq!(amount(&details), 1500.0);
        assert_eq!(amount(&[]), 0.0);
        // Present but not a plain number: unbounded, never zero.
        assert_eq!(
            amount(&[json!({"type": "p", "amount": "1,500.00"})]),
            f64::MAX
        );
        assert_eq!(
            amount(&[json!({"type": "p", "amount": {"value": 5}})]),
            f64::MAX
        );
        assert_eq!(amount(&[json!({"type": "p", "amount": "NaN"})]), f64::MAX);
    }
}
