//! `enroll` and `enroll_status`: an Assent enrollment link stands in for Duo's activation code,
//! and its QR code for Duo's barcode. A new user is created when the name is new; adding a
//! device to a user who has one follows Assent's registration rules like any application's
//! enrollment (the new device waits for approval from one the user has).

use super::error::{DuoError, refuse};
use super::integrations::DuoCaller;
use crate::ids::{UserId, Username};
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::duo::api::{self, DuoErrorCode};
use assent_proto::duo::request::DuoParams;
use assent_proto::enrollment_link::EnrollmentLink;
use base64::Engine as _;
use time::Duration;

const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn invalid(detail: impl Into<String>) -> DuoError {
    refuse(DuoErrorCode::InvalidParameters, detail)
}

impl Assent {
    /// Answers `enroll`.
    pub async fn duo_enroll(
        &self,
        caller: &DuoCaller,
        params: &DuoParams,
    ) -> Result<api::Enrollment, DuoError> {
        if params.get("bypass_codes")?.is_some() {
            return Err(invalid(
                "bypass_codes: Assent gives recovery codes to the user on their device, never to an integration",
            ));
        }
        let ttl = match params.get("valid_secs")? {
            None => self.settings.enrollment_ttl,
            Some(text) => match text.parse::<i64>() {
                Ok(secs) if secs > 0 => Duration::seconds(secs),
                _ => return Err(invalid("valid_secs: a positive number of seconds")),
            },
        };
        let username = match params.get("username")? {
            Some(name) => Username::parse(name).map_err(|e| invalid(format!("username: {e}")))?,
            None => Username::parse(&format!("duo-{}", secrets::random_chars(12, LOWER_DIGITS)?))?,
        };
        let by = Principal::App(caller.app.clone());
        let user = match self
            .records
            .user_by_name(self.store.as_ref(), &username)
            .await?
        {
            Some(user) => user,
            // An application limited to groups cannot add users: a new one would be outside
            // its scope at once.
            None if !self.app_scope(&caller.app.id).await?.is_empty() => {
                return Err(refuse(
                    DuoErrorCode::Forbidden,
                    "username: this application is limited to groups and cannot create users",
                ));
            }
            None => self.create_user(&by, username.as_str()).await?,
        };
        let issued = self
            .create_enrollment_lasting(&by, user.username.as_str(), None, ttl)
            .await?;
        let barcode = format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(issued.qr_svg.as_bytes())
        );
        Ok(api::Enrollment {
            activation_barcode: barcode,
            activation_code: issued.link.clone(),
            activation_url: issued.link,
            expiration: issued.expires_at.unix_timestamp(),
            user_id: user.id.to_string(),
            username: user.username.to_string(),
            valid_secs: (issued.expires_at - self.now()).whole_seconds(),
        })
    }

    /// Answers `enroll_status`: `success` once a device used the link, `waiting` while it may
    /// still be used, `invalid` otherwise (another user's link, an expired one, not a link).
    pub async fn duo_enroll_status(&self, params: &DuoParams) -> Result<&'static str, DuoError> {
        let user_id = params.required("user_id")?;
        let link = params.required("activation_code")?;
        let Ok(link) = EnrollmentLink::parse(link) else {
            return Ok("invalid");
        };
        let Some(enrollment) = self
            .store
            .enrollment_by_code_hash(&secrets::sha256(link.code.as_bytes()))
            .await?
        else {
            return Ok("invalid");
        };
        if UserId::parse(user_id).as_ref() != Some(&enrollment.user_id) {
            return Ok("invalid");
        }
        Ok(match enrollment.used_at {
            Some(_) => "success",
            None if enrollment.expires_at > self.now() => "waiting",
            None => "invalid",
        })
    }
}
