//! Reading the audit log out: a search by user, device, application, kind and time, resumable
//! by sequence number, and two renderings of a row for other systems: a JSON line (every field,
//! the hash included, so a copy can be checked against the chain) and an ArcSight Common Event
//! Format line for SIEMs, sent as is or inside an RFC 5424 syslog message.

use crate::ids::{AppId, DeviceId, UserId};
use crate::model::AuditRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Most rows one search or export page returns.
pub const MAX_PAGE: u32 = 1000;

/// Which rows a search returns: all of these that are set, after sequence number `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub after: u64,
    /// Rows at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Rows before this instant.
    pub until: Option<OffsetDateTime>,
    pub kind: Option<String>,
    /// Rows about the user: their subject, a `user_id` or `requester_id` in the event, or one
    /// of the user's requests as their subject.
    pub user: Option<UserId>,
    /// Rows about the device: their subject, or a `device_id` in the event.
    pub device: Option<DeviceId>,
    /// Rows about the application: their subject, an `app_id` in the event, or one of its
    /// requests as their subject.
    pub app: Option<AppId>,
}

/// A row's hash as exports and checkpoints show it: lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A row as one JSON object: `seq`, `at`, `kind`, `actor`, `subject`, `data` (the event),
/// `prev_hash` and `hash` (hex).
pub fn json_line(record: &AuditRecord) -> String {
    let data: Value = serde_json::from_str(&record.data).unwrap_or(Value::Null);
    json!({
        "seq": record.seq,
        "at": crate::clock::rfc3339(record.at),
        "kind": record.kind,
        "actor": record.actor,
        "subject": record.subject,
        "data": data,
        "prev_hash": hex(&record.prev_hash),
        "hash": hex(&record.hash),
    })
    .to_string()
}

/// A row back from its JSON line ([`json_line`]); `None` for a line that is not one.
pub fn record_from_json_line(line: &str) -> Option<AuditRecord> {
    let v: Value = serde_json::from_str(line).ok()?;
    let unhex = |s: &str| -> Option<Vec<u8>> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    };
    Some(AuditRecord {
        seq: v["seq"].as_u64()?,
        at: OffsetDateTime::parse(v["at"].as_str()?, &Rfc3339).ok()?,
        kind: v["kind"].as_str()?.to_owned(),
        actor: v["actor"].as_str()?.to_owned(),
        subject: v["subject"].as_str()?.to_owned(),
        data: assent_proto::canonical::to_canonical_string(&v["data"]).ok()?,
        prev_hash: unhex(v["prev_hash"].as_str()?)?,
        hash: unhex(v["hash"].as_str()?)?,
    })
}

/// How serious a kind of event is, on CEF's 0 to 10 scale.
fn severity(record: &AuditRecord) -> u8 {
    match record.kind.as_str() {
        "admin_alert" | "rp_passkey_clone_suspected" | "passkey_clone_suspected" => 8,
        "push_suspended"
        | "approval_refused"
        | "factor_refused"
        | "factor_rate_limited"
        | "break_glass_refused"
        | "rp_passkey_refused"
        | "device_activation_refused"
        | "device_revoked"
        | "access_grant_revoked"
        | "access_token_revoked" => 6,
        "approval_decided" if record.data.contains("\"state\":\"fraud\"") => 9,
        "approval_decided" if record.data.contains("\"state\":\"denied\"") => 5,
        _ => 3,
    }
}

/// CEF's header fields escape `\` and `|`.
fn header(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// CEF's extension values escape `\`, `=` and line breaks.
fn extension(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// A row as one CEF line: `CEF:0|Assent|Assent|<version>|<kind>|<kind>|<severity>|` then
/// `rt` (Unix milliseconds), `externalId` (the sequence number), `act` (the kind), `suser`
/// (the actor), `duser` (the user the event is about, when there is one), `cs1` (the subject),
/// `cs2` (the row's hash, hex) and `cs3` (the event's JSON).
pub fn cef_line(record: &AuditRecord, version: &str) -> String {
    let data: Value = serde_json::from_str(&record.data).unwrap_or(Value::Null);
    let about = data["user_id"]
        .as_str()
        .or_else(|| data["requester_id"].as_str())
        .unwrap_or("");
    let millis = record.at.unix_timestamp_nanos() / 1_000_000;
    let mut fields = vec![
        format!("rt={millis}"),
        format!("externalId={}", record.seq),
        format!("act={}", extension(&record.kind)),
        format!("suser={}", extension(&record.actor)),
    ];
    if !about.is_empty() {
        fields.push(format!("duser={}", extension(about)));
    }
    fields.extend([
        "cs1Label=subject".to_owned(),
        format!("cs1={}", extension(&record.subject)),
        "cs2Label=hash".to_owned(),
        format!("cs2={}", hex(&record.hash)),
        "cs3Label=event".to_owned(),
        format!("cs3={}", extension(&record.data)),
    ]);
    format!(
        "CEF:0|Assent|Assent|{}|{}|{}|{}|{}",
        header(version),
        header(&record.kind),
        header(&record.kind),
        severity(record),
        fields.join(" ")
    )
}

/// An RFC 5424 syslog message carrying `payload` (a CEF line): facility `authpriv` (10),
/// severity from the row, the row's time, `hostname`, app-name `assent`, procid `-`, msgid the
/// event's kind, no structured data.
pub fn syslog_message(record: &AuditRecord, hostname: &str, payload: &str) -> String {
    // Syslog severities run the other way: CEF 8 and up is `alert`-ish, below 5 `info`.
    let level = match severity(record) {
        8.. => 1,
        6..=7 => 4,
        5 => 5,
        _ => 6,
    };
    let priority = 10 * 8 + level;
    let at = record
        .at
        .format(&Rfc3339)
        .unwrap_or_else(|_| "-".to_owned());
    let name = |s: &str, max: usize| -> String {
        let printable: String = s
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(max)
            .collect();
        if printable.is_empty() {
            "-".to_owned()
        } else {
            printable
        }
    };
    format!(
        "<{priority}>1 {at} {} assent - {} - {payload}",
        name(hostname, 255),
        name(&record.kind, 32)
    )
}

/// A search as an admin asks for it: the user by name.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub after: u64,
    pub limit: Option<u32>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub kind: Option<String>,
    pub user: Option<crate::ids::Username>,
    pub device: Option<String>,
    pub app: Option<String>,
}

impl crate::service::Assent {
    /// The sequence number of the newest audit row, 0 while the log is empty.
    pub async fn audit_head_seq(&self) -> Result<u64, crate::error::CoreError> {
        Ok(self.store.audit_head().await?.unwrap_or(0))
    }

    /// The rows an admin's search selects, at most [`MAX_PAGE`] (100 unless `limit` says).
    /// An unknown user is `unknown_user`; an id that names no device or application selects
    /// nothing.
    pub async fn search_audit(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<AuditRecord>, crate::error::CoreError> {
        let limit = query.limit.unwrap_or(100);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(crate::error::CoreError::rejected(
                assent_proto::ProblemCode::InvalidRequest,
                format!("limit is 1 to {MAX_PAGE}"),
            ));
        }
        let user = match &query.user {
            Some(name) => Some(self.user_called(name).await?.id),
            None => None,
        };
        let filter = AuditFilter {
            after: query.after,
            since: query.since,
            until: query.until,
            kind: query.kind.clone(),
            user,
            device: query.device.clone().map(DeviceId::from_stored),
            app: query.app.clone().map(AppId::from_stored),
        };
        Ok(self.store.audit_search(&filter, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, data: &str) -> AuditRecord {
        AuditRecord {
            seq: 42,
            at: OffsetDateTime::from_unix_timestamp(1_764_900_000).unwrap(),
            kind: kind.into(),
            actor: "app:a|b".into(),
            subject: "user:u=1".into(),
            data: data.into(),
            prev_hash: vec![0; 4],
            hash: vec![0xab, 0xcd],
        }
    }

    #[test]
    fn cef_escapes_header_and_extension_characters() {
        let r = record(
            "approval_decided",
            r#"{"state":"fraud","user_id":"u=1","note":"a\\b\nc"}"#,
        );
        let line = cef_line(&r, "0.1|x");
        assert!(
            line.starts_with("CEF:0|Assent|Assent|0.1\\|x|approval_decided|approval_decided|9|"),
            "{line}"
        );
        assert!(line.contains("rt=1764900000000 externalId=42 act=approval_decided"));
        assert!(line.contains("suser=app:a|b"), "extensions keep |: {line}");
        assert!(line.contains("duser=u\\=1"), "{line}");
        assert!(line.contains("cs1=user:u\\=1"), "{line}");
        assert!(line.contains("cs2=abcd"));
        assert!(!line.contains('\n'), "one line: {line}");
    }

    #[test]
    fn json_lines_keep_every_field_and_syslog_frames_them() {
        let r = record("push_suspended", r#"{"user_id":"u1"}"#);
        let line: Value = serde_json::from_str(&json_line(&r)).unwrap();
        assert_eq!(line["seq"], 42);
        assert_eq!(line["data"]["user_id"], "u1");
        assert_eq!(line["hash"], "abcd");
        assert_eq!(line["at"], "2025-12-05T02:00:00Z");
        assert_eq!(record_from_json_line(&json_line(&r)), Some(r.clone()));
        assert_eq!(record_from_json_line("{\"seq\": 1}"), None);
        let message = syslog_message(&r, "host one", "CEF:0|x");
        assert_eq!(
            message,
            "<84>1 2025-12-05T02:00:00Z hostone assent - push_suspended - CEF:0|x"
        );
    }
}
