//! What this machine's CPU does for the work every flow must do whatever the server's design:
//! the protocol's P-256 signatures and checks, timed on one core with the same functions the
//! server and the devices use. Runs differ from one machine (and one day) to the next by more
//! than most changes gain, so every result records these figures beside its own, and a flow rate
//! can be read against the machine it was measured on.

use crate::error::BenchResult;
use assent_proto::jose::{Parsed, SigningKey};
use serde::Serialize;
use std::time::{Duration, Instant};

/// P-256 operations per complete flow, as the protocol has them: the server checks the device's
/// proof on the fetch and its signed statement, and signs the receipt; the device signs the
/// proof and the statement. (A device stream's own proof is checked once per stream, not per flow.)
const SERVER_VERIFIES: f64 = 2.0;
const SERVER_SIGNS: f64 = 1.0;
const DEVICE_SIGNS: f64 = 2.0;

/// Operations per timed batch, and batches; the median batch is kept, so a batch slowed by
/// another process does not move the figure.
const BATCH: u32 = 50;
const BATCHES: usize = 9;

/// The machine's figures for the protocol's fixed work.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// One ES256 signature of a device-proof-sized payload, in microseconds (median batch).
    pub p256_sign_us: f64,
    /// One ES256 check of the same (parse, verify, decode), in microseconds (median batch).
    pub p256_verify_us: f64,
    /// The server's P-256 work per flow (2 checks, 1 signature), in milliseconds of CPU.
    pub server_p256_ms_per_flow: f64,
    /// The load generator's P-256 work per flow (2 signatures), in milliseconds of CPU.
    pub device_p256_ms_per_flow: f64,
}

#[derive(Serialize, serde::Deserialize)]
struct Sample {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
}

/// Times `op` in batches and returns the median batch's microseconds per operation.
fn median_us(mut op: impl FnMut() -> BenchResult<()>) -> BenchResult<f64> {
    for _ in 0..BATCH {
        op()?;
    }
    let mut batches = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let started = Instant::now();
        for _ in 0..BATCH {
            op()?;
        }
        batches.push(started.elapsed());
    }
    batches.sort();
    let median = batches.get(BATCHES / 2).copied().unwrap_or(Duration::ZERO);
    Ok(crate::stats::round3(
        median.as_secs_f64() * 1e6 / f64::from(BATCH),
    ))
}

impl Calibration {
    /// Measures the figures (about a tenth of a second on one core).
    pub fn measure() -> BenchResult<Self> {
        let key = SigningKey::generate()?;
        let claims = Sample {
            jti: "Zm9yLWNhbGlicmF0aW9uLW9ubHk".into(),
            htm: "GET".into(),
            htu: "http://127.0.0.1:8080/v1/device/approvals/0194f3a2-7c1e-7b2a-9a51-3c2d1e0f9a8b"
                .into(),
            iat: 1_700_000_000,
        };
        let typ = assent_proto::statement::DEVICE_PROOF_TYP;
        let p256_sign_us = median_us(|| {
            std::hint::black_box(key.sign(typ, None, true, &claims)?);
            Ok(())
        })?;
        let jws = key.sign(typ, None, true, &claims)?;
        let p256_verify_us = median_us(|| {
            let parsed = Parsed::parse(std::hint::black_box(&jws))?;
            std::hint::black_box(parsed.verify::<Sample>(key.jwk())?);
            Ok(())
        })?;
        let ms = |us: f64| crate::stats::round3(us / 1000.0);
        Ok(Calibration {
            p256_sign_us,
            p256_verify_us,
            server_p256_ms_per_flow: ms(
                SERVER_VERIFIES * p256_verify_us + SERVER_SIGNS * p256_sign_us
            ),
            device_p256_ms_per_flow: ms(DEVICE_SIGNS * p256_sign_us),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_are_measured_and_add_up() {
        let c = Calibration::measure().unwrap();
        assert!(c.p256_sign_us > 0.0 && c.p256_verify_us > 0.0, "{c:?}");
        let server = (2.0 * c.p256_verify_us + c.p256_sign_us) / 1000.0;
        assert!((c.server_p256_ms_per_flow - server).abs() < 0.002, "{c:?}");
        assert!((c.device_p256_ms_per_flow - 2.0 * c.p256_sign_us / 1000.0).abs() < 0.002);
    }
}
