//! Where a person is reached: a device's push target (checked here: a device chose the
//! endpoint, so it must not point the server at its own network) and a user's e-mail address.

use super::pushes::{PushAddress, PushChannel, PushTarget};
use crate::audit::{Actor, AuditEvent, PendingAudit};
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::ids::{UserId, Username};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::b64_decode;
use std::net::IpAddr;

/// The longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

impl Assent {
    /// Registers (or replaces) the calling device's push target, enabled again if it had been
    /// disabled. Endpoints are checked here and again when sent to (the address a name
    /// resolves to can change).
    pub async fn register_push_target(
        &self,
        device: &AuthenticatedDevice,
        address: PushAddress,
    ) -> Result<(), CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let channel = address.channel();
        if !self.settings.push.channels.contains(&channel) {
            return Err(invalid(match channel {
                PushChannel::Apns => {
                    "this server does not send APNs pushes (push.apns is not configured)"
                }
                PushChannel::Fcm => {
                    "this server does not send FCM pushes (push.fcm is not configured)"
                }
                _ => "this server does not send pushes on that channel",
            }));
        }
        match &address {
            PushAddress::WebPush {
                endpoint,
                p256dh,
                auth,
            } => {
                endpoint_allowed(endpoint, self.settings.push.allow_private_endpoints)
                    .map_err(|why| invalid(&why))?;
                let p256dh =
                    b64_decode(p256dh).map_err(|_| invalid("keys.p256dh is not base64url"))?;
                let auth = b64_decode(auth).map_err(|_| invalid("keys.auth is not base64url"))?;
                if p256dh.len() != 65 || p256dh[0] != 4 || auth.len() != 16 {
                    return Err(invalid(
                        "keys.p256dh is a 65-byte P-256 point and keys.auth 16 bytes (RFC 8291)",
                    ));
                }
            }
            PushAddress::Apns { token } => {
                let hex = token.len() <= 200 && token.bytes().all(|b| b.is_ascii_hexdigit());
                if token.is_empty() || !hex {
                    return Err(invalid(
                        "an APNs device token is 1 to 200 hexadecimal digits",
                    ));
                }
            }
            PushAddress::Fcm { token } => {
                let ok = token.len() <= 4096
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
                if token.is_empty() || !ok {
                    return Err(invalid(
                        "an FCM registration token is 1 to 4096 characters of A-Z, a-z, 0-9, _, - and :",
                    ));
                }
            }
        }
        let device_id = device.device().id.clone();
        let target = PushTarget {
            device_id: device_id.clone(),
            address,
            created_at: self.now(),
            disabled_at: None,
            disabled_reason: None,
        };
        let event = AuditEvent::PushSubscribed {
            device_id: device_id.to_string(),
            channel: channel.as_str().to_owned(),
        };
        self.store
            .set_push_target(&target, self.audit(Actor::Device(device_id), event))
            .await?;
        Ok(())
    }

    /// Sets or removes the e-mail address where a user's security alerts go. An application may
    /// set it only for the users in its scope; the change is audited without the address.
    pub async fn set_user_email(
        &self,
        by: &Principal,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let name = Username::parse(username)?;
        let user = self
            .store
            .user_by_name(&name)
            .await?
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such user"))?;
        // Outside an application's scope, a user is as unknown as one who does not exist.
        if let Principal::App(app) = by
            && !self.in_scope(app, &user).await?
        {
            return Err(CoreError::rejected(ProblemCode::NotFound, "no such user"));
        }
        if let Some(address) = email {
            email_is_plausible(address).map_err(invalid)?;
        }
        let event = AuditEvent::UserEmailSet {
            user_id: user.id.to_string(),
            set: email.is_some(),
        };
        self.store
            .set_user_email(
                &user.id,
                email,
                PendingAudit::new(self.now(), by.actor(), event),
            )
            .await?;
        Ok(())
    }

    /// A user's name for messages to admins (the id when the record cannot be read).
    pub(crate) async fn username_of(&self, user: &UserId) -> String {
        match self.records.user(self.store.as_ref(), user).await {
            Ok(Some(u)) => u.username.to_string(),
            _ => user.to_string(),
        }
    }

    /// A user's e-mail address, if one is set.
    pub async fn user_email(&self, user: &UserId) -> Result<Option<String>, CoreError> {
        Ok(self.store.user_email(user).await?)
    }
}

/// A simple syntactic check (one `@`, no spaces or controls, a dotted domain); whether the
/// address exists is for the mail server to say.
fn email_is_plausible(address: &str) -> Result<(), &'static str> {
    let bad = "email must be an address like name@example.com";
    if address.chars().count() > MAX_EMAIL
        || address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err(bad);
    }
    let (local, domain) = address.rsplit_once('@').ok_or(bad)?;
    if local.is_empty() || local.contains('@') || domain.len() < 3 || !domain.contains('.') {
        return Err(bad);
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad);
    }
    Ok(())
}

/// Whether a device-supplied push endpoint may be used: https only, and no loopback, private,
/// link-local or otherwise non-public address literal, unless the operator allows private
/// endpoints (then plain http is accepted too). Names are checked again at send time, on the
/// addresses they resolve to.
pub fn endpoint_allowed(endpoint: &str, allow_private: bool) -> Result<(), String> {
    let url = url::Url::parse(endpoint).map_err(|_| "endpoint must be an https URL".to_owned())?;
    if endpoint.len() > 2048 || !url.username().is_empty() || url.password().is_some() {
        return Err(
            "endpoint must be an https URL without credentials, at most 2048 characters".into(),
        );
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("endpoint must be an https URL".into()),
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                return Err(
                    "endpoint must not be on this machine (push.allow_private_endpoints is off)"
                        .into(),
                );
            }
            return Ok(());
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        None => return Err("endpoint must name a host".into()),
    };
    if !allow_private && !is_public(host) {
        return Err("endpoint must not be a loopback, private or link-local address (push.allow_private_endpoints is off)".into());
    }
    Ok(())
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), unspecified, multicast, documentation or broadcast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_and_public_unless_private_ones_are_allowed() {
        for good in [
            "https://push.example/x",
            "https://8.8.8.8/p",
            "https://[2606:4700::1]/p",
        ] {
            assert!(endpoint_allowed(good, false).is_ok(), "{good}");
        }
        for bad in [
            "http://push.example/x",
            "https://127.0.0.1/p",
            "https://10.1.2.3/p",
            "https://192.168.0.1/p",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/p",
            "https://[::1]/p",
            "https://[fd00::1]/p",
            "https://[fe80::1]/p",
            "https://[::ffff:127.0.0.1]/p",
            "https://localhost/p",
            "https://a.localhost/p",
            "https://user:pw@push.example/p",
            "ftp://push.example/p",
            "not a url",
        ] {
            assert!(endpoint_allowed(bad, false).is_err(), "{bad}");
        }
        for now_good in [
            "http://127.0.0.1:9000/p",
            "https://localhost/p",
            "http://10.0.0.2/p",
        ] {
            assert!(endpoint_allowed(now_good, true).is_ok(), "{now_good}");
        }
        assert!(endpoint_allowed("ftp://127.0.0.1/p", true).is_err());
    }

    #[test]
    fn plausible_email_addresses() {
        for good in ["a@example.com", "first.last+tag@sub.example.org"] {
            assert!(email_is_plausible(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@example.com\r\nBcc: x@y.z",
            "<a@example.com>",
            "a@.example.com",
        ] {
            assert!(email_is_plausible(bad).is_err(), "{bad:?}");
        }
    }
}
