//! Waiting for the owner's answer: the CIBA poll loop (its `interval`, `slow_down` adding five
//! seconds), the requests this server started and has not finished, and the shape of each
//! outcome as a tool result. A denial, an expiry or the end of the wait is a tool error the
//! agent reads (`isError: true`), never a protocol error.

use assent_client::{AgentClient, AgentError};
use assent_proto::oauth::tokens::TokenResponse;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// What `slow_down` adds to the interval (RFC 8628 §3.5, which CIBA follows).
const SLOW_DOWN_STEP: u64 = 5;
/// Requests open at once per server: an agent that asks more is asking too much of its owner.
pub const MAX_OPEN: usize = 64;

/// A request that was started and has no outcome yet.
#[derive(Debug, Clone)]
pub struct Open {
    pub auth_req_id: String,
    pub user: String,
    pub display_code: Option<String>,
    /// Seconds between token requests, as Assent last said.
    pub interval: u64,
    pub next_poll: Instant,
    pub expires_at: Instant,
}

impl Open {
    fn seconds_left(&self, now: Instant) -> u64 {
        self.expires_at.saturating_duration_since(now).as_secs()
    }

    /// The note for the owner: the code to type on the device (number matching).
    pub fn note(&self) -> String {
        match &self.display_code {
            Some(code) => format!(
                "Waiting for {} to answer on their Assent device. Tell them to type the code {code}.",
                self.user
            ),
            None => format!(
                "Waiting for {} to answer on their Assent device.",
                self.user
            ),
        }
    }

    /// The pending request as the agent sees it.
    pub fn as_json(&self, now: Instant) -> Value {
        json!({
            "status": "pending",
            "request_id": self.auth_req_id,
            "display_code": self.display_code,
            "expires_in": self.seconds_left(now),
            "message": self.note(),
        })
    }
}

/// The open requests, by `auth_req_id`. A request is taken out while a call waits on it, so
/// two calls never poll the same request at once (which Assent would answer with
/// `slow_down`), and put back when the wait ends without an outcome.
#[derive(Debug, Default)]
pub struct OpenRequests(Mutex<HashMap<String, Open>>);

impl OpenRequests {
    /// Keeps `open` for a later `approval_status`; false when too many are open.
    pub fn put(&self, open: Open) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return false;
        };
        let now = Instant::now();
        map.retain(|_, o| o.expires_at > now);
        if map.len() >= MAX_OPEN && !map.contains_key(&open.auth_req_id) {
            return false;
        }
        map.insert(open.auth_req_id.clone(), open);
        true
    }

    /// Takes the request out for a wait.
    pub fn take(&self, auth_req_id: &str) -> Option<Open> {
        self.0.lock().ok()?.remove(auth_req_id)
    }

    /// Whether any request could be kept now.
    pub fn has_room(&self) -> bool {
        self.0.lock().is_ok_and(|mut map| {
            let now = Instant::now();
            map.retain(|_, o| o.expires_at > now);
            map.len() < MAX_OPEN
        })
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum Outcome {
    /// The owner approved: the tokens.
    Granted(Box<TokenResponse>),
    /// No outcome yet (the wait ended, or was cancelled); the request is open again.
    StillPending(Open),
    /// The request ended without a grant, or Assent could not be asked.
    Ended {
        status: &'static str,
        message: String,
    },
}

/// Something told after each poll that found no answer yet.
pub type Progress<'a> = &'a (dyn Fn(&Open, u64) + Send + Sync);

/// Polls until an outcome, `deadline`, or cancellation. Token requests go no faster than
/// Assent's `interval` (each `slow_down` adds five seconds, as Assent does on its side), and
/// none is made that would come after the deadline. A request past its expiry is still
/// polled: Assent's answer (`expired_token`, or the grant of an answer given at the last
/// moment) is the outcome, not this machine's clock.
pub async fn wait(
    agent: &AgentClient,
    mut open: Open,
    deadline: Instant,
    cancelled: &tokio_util::sync::CancellationToken,
    progress: Progress<'_>,
) -> Outcome {
    let started = Instant::now();
    loop {
        if open.next_poll > deadline {
            return Outcome::StillPending(open);
        }
        tokio::select! {
            () = tokio::time::sleep_until(open.next_poll) => {}
            () = cancelled.cancelled() => return Outcome::StillPending(open),
        }
        let answer = agent.token(&open.auth_req_id).await;
        let now = Instant::now();
        match answer {
            Ok(tokens) => return Outcome::Granted(Box::new(tokens)),
            Err(error) => match error.oauth_code() {
                Some("authorization_pending") => {
                    open.next_poll = now + Duration::from_secs(open.interval);
                }
                Some("slow_down") => {
                    open.interval = open.interval.saturating_add(SLOW_DOWN_STEP);
                    open.next_poll = now + Duration::from_secs(open.interval);
                }
                Some("access_denied") => {
                    return Outcome::Ended {
                        status: "denied",
                        message: format!(
                            "{} denied the request (or Assent refused it for them). Do not perform the action.",
                            open.user
                        ),
                    };
                }
                Some("expired_token") => {
                    return Outcome::Ended {
                        status: "expired",
                        message: format!(
                            "{} did not answer before the request expired. Do not perform the action; ask again only if it is still needed.",
                            open.user
                        ),
                    };
                }
                Some(_) => {
                    return Outcome::Ended {
                        status: "error",
                        message: format!("Assent refused the token request: {error}"),
                    };
                }
                None => return unreachable_assent(&error),
            },
        }
        progress(&open, now.saturating_duration_since(started).as_secs());
    }
}

fn unreachable_assent(error: &AgentError) -> Outcome {
    Outcome::Ended {
        status: "error",
        message: format!("Assent could not be asked: {error}"),
    }
}

/// A tool error the agent reads: `isError`, with the status, a message and what else is known.
pub fn tool_error(status: &str, message: &str, extra: Option<Value>) -> CallToolResult {
    let mut body = json!({"status": status, "message": message});
    if let (Some(Value::Object(extra)), Value::Object(map)) = (extra, &mut body) {
        for (k, v) in extra {
            map.entry(k).or_insert(v);
        }
    }
    CallToolResult::structured_error(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: &str, seconds: u64) -> Open {
        let now = Instant::now();
        Open {
            auth_req_id: id.into(),
            user: "alice".into(),
            display_code: Some("123456".into()),
            interval: 5,
            next_poll: now,
            expires_at: now + Duration::from_secs(seconds),
        }
    }

    #[test]
    fn a_request_is_waited_on_by_one_call_at_a_time() {
        let requests = OpenRequests::default();
        assert!(requests.put(open("a", 60)));
        assert!(requests.take("a").is_some());
        assert!(
            requests.take("a").is_none(),
            "taken: a second call finds nothing"
        );
        assert!(requests.take("never-started").is_none());
    }

    #[test]
    fn no_more_than_max_open_and_expired_ones_make_room() {
        let requests = OpenRequests::default();
        for i in 0..MAX_OPEN {
            assert!(requests.put(open(&i.to_string(), 60)));
        }
        assert!(!requests.has_room());
        assert!(!requests.put(open("one-more", 60)));
        let expired = requests.take("0").unwrap();
        assert!(requests.put(Open {
            expires_at: Instant::now(),
            ..expired
        }));
        assert!(requests.has_room(), "an expired request does not count");
    }

    #[test]
    fn the_note_tells_the_code_and_a_tool_error_keeps_its_status() {
        let o = open("a", 60);
        assert!(o.note().contains("123456"));
        let error = tool_error(
            "denied",
            "no",
            Some(json!({"status": "x", "request_id": "a"})),
        );
        assert_eq!(error.is_error, Some(true));
        let body = error.structured_content.unwrap();
        assert_eq!(body["status"], "denied");
        assert_eq!(body["request_id"], "a");
    }
}
