//! The population: one application, and users each with one enrolled simulated device, made
//! through the admin API and the device enrollment endpoint as an operator and a phone would;
//! with `--web-push`, each device also registers a Web Push subscription at the bench's endpoint.

use crate::device::SimDevice;
use crate::error::{BenchError, BenchResult};
use crate::push_endpoint::PushEndpoint;
use crate::rp::Rp;
use crate::server::Target;
use futures_util::{StreamExt as _, TryStreamExt as _};
use std::time::Instant;

/// Requests in flight while enrolling.
const SETUP_CONCURRENCY: usize = 32;

/// Who takes part in a run.
#[derive(Debug)]
pub struct Population {
    pub rp: Rp,
    /// Device `i` belongs to user `i`.
    pub devices: Vec<SimDevice>,
    pub seconds: f64,
    /// With `--ciba`: the application's CIBA client, which the flows use instead of `rp`.
    pub ciba: Option<crate::ciba::CibaClient>,
}

/// A prefix that keeps this run's users apart from earlier runs on the same database.
pub fn run_prefix() -> BenchResult<String> {
    let token = assent_proto::jose::random_token(4)?;
    Ok(format!(
        "bench-{}",
        token.to_ascii_lowercase().replace(['-', '_'], "x")
    ))
}

/// Creates the application and `users` users with one device each, subscribed for Web Push at
/// `push` when given.
pub async fn populate(
    target: &Target,
    http: &reqwest::Client,
    users: usize,
    push: Option<&PushEndpoint>,
    ciba: bool,
    quiet: bool,
) -> BenchResult<Population> {
    let started = Instant::now();
    let admin = assent_client::AdminClient::new(&target.base, &target.admin_key)?;
    let prefix = run_prefix()?;
    let app = admin.create_app(&format!("{prefix} Acme")).await?;
    let rp = Rp {
        base: target.base.clone(),
        api_key: app.api_key,
    };
    let ciba = match ciba {
        false => None,
        true => {
            let body = assent_proto::api::CreateCibaClient {
                mode: "poll".into(),
                notification_endpoint: None,
                jwks: None,
                requires_user_code: false,
            };
            let created = admin.create_ciba_client(&app.app_id, &body).await?;
            Some(crate::ciba::CibaClient {
                base: target.base.clone(),
                client_id: created.client_id,
                secret: created
                    .client_secret
                    .ok_or("a CIBA client without a secret")?,
            })
        }
    };
    let jwks = assent_client::fetch_jwks(&target.base).await?;
    let bar = crate::progress::bar(users as u64, "enrolling", quiet);
    let devices: Vec<SimDevice> = futures_util::stream::iter(0..users)
        .map(|i| {
            let (admin, jwks, bar, prefix) = (&admin, &jwks, &bar, &prefix);
            async move {
                let name = format!("{prefix}-u{i}");
                admin.create_user(&name).await?;
                let enrollment = admin.create_enrollment(&name).await?;
                let device = SimDevice::enroll(http, &target.base, &enrollment.link, jwks).await?;
                if let Some(push) = push {
                    let subscription = push.subscription(i)?;
                    device
                        .subscribe_push(http, &target.base, &subscription)
                        .await
                        .map_err(refused_subscription)?;
                }
                bar.inc(1);
                Ok::<_, BenchError>(device)
            }
        })
        .buffered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    bar.finish_and_clear();
    Ok(Population {
        rp,
        devices,
        seconds: started.elapsed().as_secs_f64(),
        ciba,
    })
}

/// A subscription at the bench's loopback endpoint is refused unless the server allows private
/// endpoints: say so.
fn refused_subscription(e: crate::error::CallError) -> BenchError {
    format!(
        "{e}: --web-push needs a server on this machine with push.allow_private_endpoints = true \
         (ASSENT_PUSH__ALLOW_PRIVATE_ENDPOINTS=true); the server the bench starts has it"
    )
    .into()
}
