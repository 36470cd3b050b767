//! Where the policy and the risk lists come from: files named in the configuration, read at
//! start, on SIGHUP and on `POST /v1/admin/policy/reload`. A file that does not parse is
//! refused with its line and reason, and the running policy stays in force.

use assent_core::Assent;
use assent_core::risk::geoip::GeoIp;
use assent_core::risk::lists::RiskLists;
use assent_core::risk::policy::{DEFAULT_POLICY, Policy};
use std::path::PathBuf;

/// The files, as configured (`None`: the built-in default policy, empty lists).
#[derive(Debug, Clone, Default)]
pub struct PolicySources {
    pub policy_file: Option<PathBuf>,
    pub deny_list_file: Option<PathBuf>,
    pub tor_exit_file: Option<PathBuf>,
    pub geoip_file: Option<PathBuf>,
}

/// Why the files were refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyLoadError(pub String);

fn read(path: &Option<PathBuf>) -> Result<String, PolicyLoadError> {
    match path {
        Some(p) => {
            std::fs::read_to_string(p).map_err(|e| PolicyLoadError(format!("{}: {e}", p.display())))
        }
        None => Ok(String::new()),
    }
}

impl PolicySources {
    /// Reads and compiles everything, or nothing.
    pub fn load(&self) -> Result<(Policy, RiskLists, Option<GeoIp>), PolicyLoadError> {
        let text = match &self.policy_file {
            Some(_) => read(&self.policy_file)?,
            None => DEFAULT_POLICY.to_owned(),
        };
        let source = self
            .policy_file
            .as_ref()
            .map_or("the built-in policy".into(), |p| p.display().to_string());
        let policy = Policy::parse(&text).map_err(|e| PolicyLoadError(format!("{source}: {e}")))?;
        let lists = RiskLists::parse(&read(&self.deny_list_file)?, &read(&self.tor_exit_file)?)
            .map_err(PolicyLoadError)?;
        let geoip = match &self.geoip_file {
            Some(path) => Some(GeoIp::open(path).map_err(PolicyLoadError)?),
            None => None,
        };
        Ok((policy, lists, geoip))
    }

    /// Loads and swaps in the new policy and lists; on error the running ones stay.
    pub fn apply(&self, assent: &Assent) -> Result<usize, PolicyLoadError> {
        let (policy, lists, geoip) = self.load()?;
        let rules = policy.rules().len();
        assent.set_policy(policy);
        assent.set_risk_lists(lists);
        assent.set_geoip(geoip);
        tracing::info!(rules, "policy loaded");
        Ok(rules)
    }
}
