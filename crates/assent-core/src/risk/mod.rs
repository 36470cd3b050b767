//! The risk engine: scores a request 0-100 from named signals. Scoring is a pure function of the
//! request, the user's history and the network's reputation, all gathered beforehand, so each
//! signal is tested with fixed times and no I/O.

pub mod assessment;
pub mod detectors;
pub mod dry_run;
pub mod fatigue;
pub mod geoip;
pub mod lists;
pub mod memory;
pub mod policy;

use assent_proto::context::Geo;
use assent_proto::states::ApprovalState;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// Points each signal adds; the sum is capped at 100.
pub mod weights {
    pub const DENY_LISTED_IP: u8 = 60;
    pub const IMPOSSIBLE_TRAVEL: u8 = 40;
    pub const REPORTED_NETWORK: u8 = 35;
    pub const TOR_EXIT: u8 = 35;
    pub const RECENT_FRAUD: u8 = 30;
    pub const NEW_COUNTRY: u8 = 15;
    pub const RECENT_DENIALS: u8 = 15;
    pub const NEW_NETWORK: u8 = 10;
    pub const NEW_RP_DEVICE: u8 = 10;
    pub const UNUSUAL_HOUR: u8 = 10;
    pub const RECENT_UNANSWERED: u8 = 10;
    pub const PROMPT_RATE: u8 = 10;
}

/// A named reason, with the points it added and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskReason {
    pub signal: String,
    pub points: u8,
    pub detail: String,
}

/// A request's risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RiskAssessment {
    pub score: u8,
    pub reasons: Vec<RiskReason>,
}

impl RiskAssessment {
    fn add(&mut self, signal: &'static str, points: u8, detail: impl Into<String>) {
        self.score = self.score.saturating_add(points).min(100);
        self.reasons.push(RiskReason {
            signal: signal.to_owned(),
            points,
            detail: detail.into(),
        });
    }

    /// Signal names, for policy conditions and the audit log.
    pub fn signals(&self) -> Vec<String> {
        self.reasons.iter().map(|r| r.signal.clone()).collect()
    }
}

/// Where and when a request comes from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub country: Option<String>,
    pub lat_lon: Option<(f64, f64)>,
    pub rp_device: Option<String>,
}

impl Origin {
    /// From a relying party's context (the GeoIP lookup, when configured, fills the gaps).
    pub fn from_context(ip: Option<&str>, geo: Option<&Geo>, device: Option<&str>) -> Self {
        Origin {
            ip: ip.and_then(|i| i.parse().ok()),
            country: geo
                .and_then(|g| g.country.clone())
                .map(|c| c.to_ascii_uppercase()),
            lat_lon: geo.and_then(|g| Some((g.lat?, g.lon?))),
            rp_device: device.map(str::to_owned),
        }
    }
}

/// One past request of the user, as the engine needs it.
#[derive(Debug, Clone)]
pub struct PastRequest {
    pub state: ApprovalState,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub origin: Origin,
}

/// Thresholds of the engine.
#[derive(Debug, Clone)]
pub struct RiskSettings {
    /// Faster than this between the last approved location and this request is impossible.
    pub max_travel_kmh: f64,
    /// Approvals needed before "unusual hour" means anything.
    pub min_history_for_hours: usize,
    /// Prompts in the last ten minutes that count as a burst.
    pub burst_prompts: usize,
}

impl Default for RiskSettings {
    fn default() -> Self {
        RiskSettings {
            max_travel_kmh: 900.0,
            min_history_for_hours: 5,
            burst_prompts: 3,
        }
    }
}

/// Everything the engine looks at.
#[derive(Debug, Clone)]
pub struct RiskInput<'a> {
    pub now: OffsetDateTime,
    pub origin: &'a Origin,
    /// The user's recent requests, newest first.
    pub history: &'a [PastRequest],
    pub deny_listed: bool,
    pub tor_exit: bool,
    /// Fraud reports from the request's network (any user) in the last 30 days.
    pub network_reports: u64,
}

/// The network a request comes from: its /24 (IPv4) or /48 (IPv6), how Assent names networks.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Scores a request.
pub fn assess(input: &RiskInput<'_>, settings: &RiskSettings) -> RiskAssessment {
    let mut risk = RiskAssessment::default();
    let origin = input.origin;
    let approved: Vec<&PastRequest> = input
        .history
        .iter()
        .filter(|p| p.state == ApprovalState::Approved)
        .collect();

    if input.deny_listed {
        risk.add(
            "deny_listed_ip",
            weights::DENY_LISTED_IP,
            "the address is on the deny list",
        );
    }
    if input.tor_exit {
        risk.add(
            "tor_exit",
            weights::TOR_EXIT,
            "the address is a Tor exit node",
        );
    }
    if input.network_reports > 0 {
        let network = origin.ip.map(network_of).unwrap_or_default();
        let detail = format!(
            "{} fraud report(s) from {network} in the last 30 days",
            input.network_reports
        );
        risk.add("reported_network", weights::REPORTED_NETWORK, detail);
    }
    if !approved.is_empty() {
        if let Some(ip) = origin.ip {
            let network = network_of(ip);
            if !approved
                .iter()
                .any(|p| p.origin.ip.map(network_of).as_deref() == Some(network.as_str()))
            {
                risk.add(
                    "new_network",
                    weights::NEW_NETWORK,
                    format!("first request from {network}"),
                );
            }
        }
        if let Some(country) = &origin.country
            && !approved
                .iter()
                .any(|p| p.origin.country.as_ref() == Some(country))
        {
            risk.add(
                "new_country",
                weights::NEW_COUNTRY,
                format!("first request from {country}"),
            );
        }
        if let Some(device) = &origin.rp_device
            && !approved
                .iter()
                .any(|p| p.origin.rp_device.as_ref() == Some(device))
        {
            risk.add(
                "new_rp_device",
                weights::NEW_RP_DEVICE,
                "a device the relying party has not seen approve before",
            );
        }
    }
    if let (Some(here), Some(last)) = (
        origin.lat_lon,
        approved.iter().find(|p| p.origin.lat_lon.is_some()),
    ) {
        let (there, when) = (
            last.origin.lat_lon.unwrap_or(here),
            last.decided_at.unwrap_or(last.created_at),
        );
        let km = distance_km(there, here);
        let hours = ((input.now - when).whole_seconds().max(60) as f64) / 3600.0;
        let speed = km / hours;
        if km > 100.0 && speed > settings.max_travel_kmh {
            let detail = format!(
                "{km:.0} km from the last approved location in {:.0} min ({speed:.0} km/h)",
                hours * 60.0
            );
            risk.add("impossible_travel", weights::IMPOSSIBLE_TRAVEL, detail);
        }
    }
    if approved.len() >= settings.min_history_for_hours {
        let hour = i16::from(input.now.hour());
        let usual = approved.iter().any(|p| {
            let h = i16::from(p.decided_at.unwrap_or(p.created_at).hour());
            (h - hour).rem_euclid(24) <= 1 || (hour - h).rem_euclid(24) <= 1
        });
        if !usual {
            risk.add(
                "unusual_hour",
                weights::UNUSUAL_HOUR,
                format!("no approval near {hour:02}:00 UTC before"),
            );
        }
    }
    let day = input.now - Duration::days(1);
    let recent = |state: ApprovalState, since: OffsetDateTime| {
        input
            .history
            .iter()
            .filter(|p| p.state == state && p.created_at >= since)
            .count()
    };
    let denials = recent(ApprovalState::Denied, day);
    if denials >= 2 {
        risk.add(
            "recent_denials",
            weights::RECENT_DENIALS,
            format!("{denials} denials in the last 24 h"),
        );
    }
    let unanswered = recent(ApprovalState::Expired, day);
    if unanswered >= 2 {
        risk.add(
            "recent_unanswered",
            weights::RECENT_UNANSWERED,
            format!("{unanswered} unanswered requests in the last 24 h"),
        );
    }
    let frauds = recent(ApprovalState::Fraud, input.now - Duration::days(7));
    if frauds >= 1 {
        risk.add(
            "recent_fraud",
            weights::RECENT_FRAUD,
            format!("{frauds} fraud report(s) by the user in the last 7 days"),
        );
    }
    let burst = input
        .history
        .iter()
        .filter(|p| p.created_at >= input.now - Duration::minutes(10))
        .count();
    if burst >= settings.burst_prompts {
        risk.add(
            "prompt_rate",
            weights::PROMPT_RATE,
            format!("{burst} requests in the last 10 min"),
        );
    }
    risk
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const PARIS: (f64, f64) = (48.8566, 2.3522);
    const SYDNEY: (f64, f64) = (-33.8688, 151.2093);
    const LYON: (f64, f64) = (45.764, 4.8357);
    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn at(ip: &str, country: &str, lat_lon: (f64, f64)) -> Origin {
        Origin {
            ip: ip.parse().ok(),
            country: Some(country.into()),
            lat_lon: Some(lat_lon),
            rp_device: Some("d1".into()),
        }
    }

    fn past(state: ApprovalState, ago: Duration, origin: Origin) -> PastRequest {
        PastRequest {
            state,
            created_at: NOW - ago,
            decided_at: Some(NOW - ago),
            origin,
        }
    }

    fn score(origin: &Origin, history: &[PastRequest]) -> RiskAssessment {
        let input = RiskInput {
            now: NOW,
            origin,
            history,
            deny_listed: false,
            tor_exit: false,
            network_reports: 0,
        };
        assess(&input, &RiskSettings::default())
    }

    fn signals(r: &RiskAssessment) -> Vec<&str> {
        r.reasons.iter().map(|x| x.signal.as_str()).collect()
    }

    #[test]
    fn a_familiar_request_scores_zero() {
        let home = at("203.0.113.7", "FR", PARIS);
        let history = [past(
            ApprovalState::Approved,
            Duration::days(1),
            home.clone(),
        )];
        assert_eq!(score(&home, &history), RiskAssessment::default());
        // No history: nothing to compare with, nothing new.
        assert_eq!(score(&home, &[]).score, 0);
    }

    #[test]
    fn impossible_travel_paris_to_sydney_in_ten_minutes() {
        let history = [past(
            ApprovalState::Approved,
            Duration::minutes(10),
            at("203.0.113.7", "FR", PARIS),
        )];
        let risk = score(&at("198.51.100.9", "AU", SYDNEY), &history);
        assert_eq!(
            signals(&risk),
            ["new_network", "new_country", "impossible_travel"]
        );
        assert_eq!(risk.score, 65);
        let detail = &risk.reasons[2].detail;
        assert!(
            detail.starts_with("169")
                && detail.contains("km from the last approved location in 10 min"),
            "{detail}"
        );
    }

    #[test]
    fn plausible_travel_is_not_flagged() {
        let history = [past(
            ApprovalState::Approved,
            Duration::hours(3),
            at("203.0.113.7", "FR", PARIS),
        )];
        let risk = score(&at("203.0.113.8", "FR", LYON), &history);
        assert!(!signals(&risk).contains(&"impossible_travel"), "{risk:?}");
        assert!((distance_km(PARIS, LYON) - 392.0).abs() < 5.0);
    }

    #[test]
    fn new_network_and_new_relying_party_device() {
        let history = [past(
            ApprovalState::Approved,
            Duration::days(2),
            at("203.0.113.7", "FR", PARIS),
        )];
        let mut origin = at("192.0.2.1", "FR", PARIS);
        origin.rp_device = Some("d2".into());
        assert_eq!(
            signals(&score(&origin, &history)),
            ["new_network", "new_rp_device"]
        );
        assert_eq!(
            network_of("2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
    }

    #[test]
    fn unusual_hour_needs_enough_history() {
        let home = at("203.0.113.7", "FR", PARIS);
        let evening = |days: i64| {
            past(
                ApprovalState::Approved,
                Duration::days(days) - Duration::hours(10),
                home.clone(),
            )
        };
        let four: Vec<_> = (1..=4).map(evening).collect();
        assert!(!signals(&score(&home, &four)).contains(&"unusual_hour"));
        let five: Vec<_> = (1..=5).map(evening).collect();
        assert_eq!(signals(&score(&home, &five)), ["unusual_hour"]);
    }

    #[test]
    fn recent_denials_unanswered_fraud_and_bursts() {
        let home = at("203.0.113.7", "FR", PARIS);
        let history = [
            past(ApprovalState::Denied, Duration::hours(1), home.clone()),
            past(ApprovalState::Denied, Duration::hours(2), home.clone()),
            past(ApprovalState::Expired, Duration::hours(3), home.clone()),
            past(ApprovalState::Expired, Duration::hours(30), home.clone()),
            past(ApprovalState::Fraud, Duration::days(6), home.clone()),
        ];
        assert_eq!(
            signals(&score(&home, &history)),
            ["recent_denials", "recent_fraud"]
        );
        let burst: Vec<_> = (0..3)
            .map(|i| {
                past(
                    ApprovalState::Cancelled,
                    Duration::minutes(i * 2),
                    home.clone(),
                )
            })
            .collect();
        assert_eq!(signals(&score(&home, &burst)), ["prompt_rate"]);
    }

    #[test]
    fn lists_and_network_reports_and_the_cap() {
        let origin = at("203.0.113.7", "FR", PARIS);
        let input = RiskInput {
            now: NOW,
            origin: &origin,
            history: &[],
            deny_listed: true,
            tor_exit: true,
            network_reports: 2,
        };
        let risk = assess(&input, &RiskSettings::default());
        assert_eq!(
            signals(&risk),
            ["deny_listed_ip", "tor_exit", "reported_network"]
        );
        assert_eq!(risk.score, 100, "capped");
        assert!(risk.reasons[2].detail.contains("203.0.113.0/24"));
    }
}
