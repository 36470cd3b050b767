//! A CLI device's profile: a directory with the device's identity (`device.json`) and its
//! private key (`device-key.p8`, PKCS#8, readable by its owner only).

use crate::error::ClientError;
use assent_proto::jose::{Jwk, SigningKey};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

const IDENTITY_FILE: &str = "device.json";
const KEY_FILE: &str = "device-key.p8";

/// What a device knows about itself and its server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceProfile {
    pub server: String,
    pub device_id: String,
    pub user: String,
    pub name: String,
    /// The server key this device pinned at enrollment (from the link's fingerprint).
    pub server_jwk: Jwk,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DeviceProfile {
    /// Writes the profile and the key into `dir`, which must not hold a profile already.
    pub fn save(&self, dir: &Path, key: &SigningKey) -> Result<(), ClientError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io(dir))?;
        let key_path = dir.join(KEY_FILE);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&key_path).map_err(io(&key_path))?;
        file.write_all(key.pkcs8()).map_err(io(&key_path))?;
        file.sync_all().map_err(io(&key_path))?;
        let identity = dir.join(IDENTITY_FILE);
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| ClientError::Protocol(e.to_string()))?;
        fs::write(&identity, json).map_err(io(&identity))
    }

    /// Whether `dir` already holds a device key.
    pub fn exists(dir: &Path) -> bool {
        dir.join(KEY_FILE).exists()
    }

    /// Loads a profile and its key, refusing a key file that others can read.
    pub fn load(dir: &Path) -> Result<(Self, SigningKey), ClientError> {
        let identity: PathBuf = dir.join(IDENTITY_FILE);
        let bytes = fs::read(&identity).map_err(io(&identity))?;
        let profile: DeviceProfile = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Protocol(format!("{}: {e}", identity.display())))?;
        let key_path = dir.join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&key_path)
                .map_err(io(&key_path))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(ClientError::Protocol(format!(
                    "{} is readable by other users; run chmod 600 on it",
                    key_path.display()
                )));
            }
        }
        let der = fs::read(&key_path).map_err(io(&key_path))?;
        let key = SigningKey::from_pkcs8(&der).map_err(|_| {
            ClientError::Protocol(format!("{} is not a P-256 key", key_path.display()))
        })?;
        Ok((profile, key))
    }
}
