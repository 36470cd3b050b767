//! The data directory: the SQLite database, the server's signing key and the local admin key,
//! each created on first start with permissions that keep them to their owner.

use assent_proto::jose::SigningKey;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// File name of the database.
pub const DATABASE_FILE: &str = "assent.db";
/// File name of the server's signing key (PKCS#8 DER, mode 0600).
pub const SIGNING_KEY_FILE: &str = "signing-key.p8";
/// File name of the VAPID key for Web Push (PKCS#8 DER, mode 0600).
pub const VAPID_KEY_FILE: &str = "vapid-key.p8";
/// File name of the data key that seals secrets stored in the database (mode 0600).
pub const DATA_KEY_FILE: &str = "data-key";
/// File name of the admin API key kept for the local CLI (mode 0600).
pub const ADMIN_KEY_FILE: &str = "admin.key";

/// Why the data directory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a valid P-256 PKCS#8 key")]
    BadKey(PathBuf),
    #[error("{0} must hold exactly 32 bytes (the data key)")]
    BadDataKey(PathBuf),
    #[error("{0} is readable by other users; run chmod 600 on it")]
    Permissions(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates the directory (mode 0700) if it does not exist.
pub fn ensure_dir(dir: &Path) -> Result<(), DataDirError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io(dir))
}

/// Writes a new file readable and writable by its owner only; refuses to overwrite.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Writes a private file, replacing any previous one atomically (a stale admin key left by a
/// deleted database must not block the start that makes a new one).
pub fn replace_private(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    let temporary = path.with_extension("new");
    let _ = fs::remove_file(&temporary);
    write_private(&temporary, bytes)?;
    fs::rename(&temporary, path).map_err(io(path))
}

/// Reads a private file, refusing one that others can read.
pub fn read_private(path: &Path) -> Result<Vec<u8>, DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path).map_err(io(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(DataDirError::Permissions(path.to_owned()));
        }
    }
    fs::read(path).map_err(io(path))
}

/// Loads the server key, or creates it; the flag says whether it was created now.
pub fn load_or_create_signing_key(dir: &Path) -> Result<(SigningKey, bool), DataDirError> {
    load_or_create_key(&dir.join(SIGNING_KEY_FILE))
}

/// Loads the VAPID key (RFC 8292) that identifies this server to push services, or creates it.
pub fn load_or_create_vapid_key(dir: &Path) -> Result<SigningKey, DataDirError> {
    Ok(load_or_create_key(&dir.join(VAPID_KEY_FILE))?.0)
}

fn load_or_create_key(path: &Path) -> Result<(SigningKey, bool), DataDirError> {
    let path = path.to_owned();
    if path.exists() {
        let der = read_private(&path)?;
        let key = SigningKey::from_pkcs8(&der).map_err(|_| DataDirError::BadKey(path.clone()))?;
        return Ok((key, false));
    }
    let key = SigningKey::generate().map_err(|_| DataDirError::BadKey(path.clone()))?;
    write_private(&path, key.pkcs8())?;
    Ok((key, true))
}

/// Loads the data key, or creates it. Back it up with the database: sealed secrets (webhook
/// secrets) cannot be opened without it.
pub fn load_or_create_data_key(dir: &Path) -> Result<assent_core::sealed::DataKey, DataDirError> {
    let path = dir.join(DATA_KEY_FILE);
    let bytes = if path.exists() {
        read_private(&path)?
    } else {
        let bytes = assent_core::sealed::DataKey::generate_bytes()
            .map_err(|_| DataDirError::BadKey(path.clone()))?;
        write_private(&path, &bytes)?;
        bytes.to_vec()
    };
    assent_core::sealed::DataKey::from_bytes(&bytes).map_err(|_| DataDirError::BadDataKey(path))
}

/// Loads the data key from a file named in the configuration, kept apart from the database
/// (another disk, a secrets mount). It is never created here: a missing file is an error, so a
/// wrong path cannot silently start a server that cannot open its sealed secrets.
pub fn load_data_key_file(path: &Path) -> Result<assent_core::sealed::DataKey, DataDirError> {
    let bytes = read_private(path)?;
    assent_core::sealed::DataKey::from_bytes(&bytes)
        .map_err(|_| DataDirError::BadDataKey(path.to_owned()))
}

/// Reads the admin key that the server stored for the local CLI.
pub fn read_admin_key(dir: &Path) -> Result<String, DataDirError> {
    let bytes = read_private(&dir.join(ADMIN_KEY_FILE))?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}
