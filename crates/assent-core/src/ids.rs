//! Identifiers and names, parsed once at the edge so the rest of the code never re-checks them.

use crate::error::CoreError;
use assent_proto::ProblemCode;
use std::fmt;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A new time-ordered identifier (UUIDv7), so inserts stay local in the index.
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7().to_string())
            }

            /// Parses an identifier received from outside; anything but a UUID is refused.
            pub fn parse(s: &str) -> Option<Self> {
                uuid::Uuid::parse_str(s).ok().map(|u| $name(u.hyphenated().to_string()))
            }

            /// Wraps a value read back from storage, which only ever holds generated ids.
            pub fn from_stored(s: String) -> Self {
                $name(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// A relying party.
    AppId
);
uuid_id!(
    /// A person (or non-human identity) who answers prompts.
    UserId
);
uuid_id!(
    /// An enrolled device.
    DeviceId
);
uuid_id!(
    /// An approval request.
    ApprovalId
);
uuid_id!(
    /// A request for a privilege that several approvers decide.
    AccessRequestId
);
uuid_id!(
    /// A one-time enrollment.
    EnrollmentId
);
uuid_id!(
    /// An informational alert.
    AlertId
);
uuid_id!(
    /// An incident broadcast.
    BroadcastId
);

/// A username: 1 to 64 characters of letters, digits and `.`, `_`, `-`, `@`, `+`, compared
/// case-insensitively (stored lower-case) so `Alice` and `alice` cannot be two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b));
        if ok {
            Ok(Username(s.to_ascii_lowercase()))
        } else {
            Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                "a username is 1 to 64 characters: letters, digits and . _ - @ +",
            ))
        }
    }

    pub fn from_stored(s: String) -> Self {
        Username(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_uuids() {
        let id = ApprovalId::generate();
        assert_eq!(ApprovalId::parse(id.as_str()), Some(id));
        assert_eq!(ApprovalId::parse("../etc/passwd"), None);
        assert_eq!(ApprovalId::parse(""), None);
    }

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("Alice@Example.com").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in ["", " alice", "a b", "é", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}
