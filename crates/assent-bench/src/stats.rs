//! Latency samples and their summary. Every sample is kept (a few hundred thousand per level at
//! most), so percentiles are exact rather than estimated from buckets.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies of one measured quantity, in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<u64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Percentiles by the nearest-rank method, in milliseconds.
    pub fn summary(&self) -> Latency {
        let mut v = self.0.clone();
        v.sort_unstable();
        let ms = |us: u64| (us as f64) / 1000.0;
        let rank = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
            ms(v[i.clamp(1, v.len()) - 1])
        };
        let mean = if v.is_empty() {
            0.0
        } else {
            ms(v.iter().sum::<u64>()) / v.len() as f64
        };
        Latency {
            count: v.len() as u64,
            mean_ms: round3(mean),
            p50_ms: round3(rank(50.0)),
            p95_ms: round3(rank(95.0)),
            p99_ms: round3(rank(99.0)),
            max_ms: round3(v.last().copied().map(ms).unwrap_or(0.0)),
        }
    }
}

/// Rounds to microseconds, so the JSON stays readable.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Latency {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The four latencies of a flow.
#[derive(Debug, Clone, Default)]
pub struct FlowSamples {
    /// (a) `POST /v1/approvals` until its answer.
    pub create: Samples,
    /// (b) the start of the create until the device's stream announced the request.
    pub notify: Samples,
    /// (c) the device sending its signed answer until the relying party's wait returned.
    pub answer_to_result: Samples,
    /// (d) the whole flow: create start until the relying party has the final state.
    pub flow: Samples,
}

impl FlowSamples {
    pub fn extend(&mut self, other: FlowSamples) {
        self.create.extend(other.create);
        self.notify.extend(other.notify);
        self.answer_to_result.extend(other.answer_to_result);
        self.flow.extend(other.flow);
    }
}

/// Counts by kind (errors, risk signals), sorted for stable output.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Counts(pub BTreeMap<String, u64>);

impl Counts {
    pub fn add(&mut self, kind: &str) {
        *self.0.entry(kind.to_owned()).or_default() += 1;
    }

    pub fn merge(&mut self, other: Counts) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_default() += v;
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        let l = s.summary();
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p95_ms, 95.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(l.mean_ms, 50.5);
        assert_eq!(Samples::default().summary().count, 0);
    }
}
