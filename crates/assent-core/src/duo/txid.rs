//! Duo transaction ids. A `txid` carries what a later call needs and Assent does not otherwise
//! keep: the code a Verified Push preauth showed (so that `auth` asks for that code), or the
//! request and its code (so that `auth_status` can repeat the code in its `status_msg`, which
//! is how duo_unix shows it). It is sealed with the data key and bound to its integration, so a
//! client can neither read another's nor forge one.

use crate::sealed::DataKey;
use assent_proto::jose::{b64, b64_decode};
use serde::{Deserialize, Serialize};

/// Longest txid read: a sealed one is about 110 characters; duo_unix keeps 255.
const MAX_TXID_LEN: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub(crate) enum Txid {
    /// From a Verified Push preauth: the user, the code shown, and until when (Unix time).
    #[serde(rename = "p")]
    Preauth { u: String, c: String, e: i64 },
    /// From an `async=1` auth: the request and the code it asks for, if any.
    #[serde(rename = "a")]
    Auth { a: String, c: Option<String> },
}

fn context(ikey: &str) -> String {
    format!("duo-txid:{ikey}")
}

impl Txid {
    pub(crate) fn seal(&self, key: &DataKey, ikey: &str) -> Result<String, String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let sealed = key.seal(&json, &context(ikey)).map_err(|e| e.to_string())?;
        Ok(b64(&sealed))
    }

    /// The txid, or `None` for one this integration did not get from Assent.
    pub(crate) fn open(key: &DataKey, ikey: &str, text: &str) -> Option<Txid> {
        if text.len() > MAX_TXID_LEN {
            return None;
        }
        let sealed = b64_decode(text).ok()?;
        let json = key.open(&sealed, &context(ikey)).ok()?;
        serde_json::from_slice(&json).ok()
    }
}
