//! Access requests with several approvers, through the real server: the quorum (M approvals
//! grant, K denials reject), the requester never an approver (named or through a group), expiry
//! and cancellation, exactly one grant under concurrent answers, the grant verified by PyJWT
//! against the JWKS, and its revocation seen by introspection and a webhook.

mod break_glass;
mod four_eyes;
mod grants;
mod policy;
mod quorum;

use assent_client::{ClientError, DeviceClient};
use assent_proto::api::{AccessApprovers, AccessRequestCreated, CreateAccessRequest};
use assent_proto::jose::{SigningKey, b64};
use assent_proto::statement::Decision;
use assent_proto::webauthn::{sign_assertion_counted, spki_from_p256_point};
use assent_testkit::{TestApp, TestServer};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

/// A member of the team: their device and the software passkey registered for it (the default
/// policy asks for user verification on access prompts), with its signature counter.
pub(super) struct Member {
    pub device: DeviceClient,
    passkey: SigningKey,
    sign_count: AtomicU32,
}

/// The requester alice and approvers bob, carol and dave, all four in group `ops`, each with a
/// device and a passkey.
pub(super) struct Team {
    pub server: TestServer,
    pub app: TestApp,
    members: Vec<(String, Member)>,
}

impl Team {
    pub async fn new() -> Team {
        Team::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut assent_server::Config)) -> Team {
        let server = TestServer::spawn_with(adjust).await;
        let app = server.app("Acme Admin").await;
        server.admin.create_group("ops").await.unwrap();
        let mut members = Vec::new();
        for user in ["alice", "bob", "carol", "dave"] {
            let device = server.user_with_device(user).await;
            server.admin.add_group_member("ops", user).await.unwrap();
            let passkey = SigningKey::generate().unwrap();
            let spki = spki_from_p256_point(&passkey.jwk().to_sec1().unwrap());
            device
                .register_passkey(&b64(format!("passkey-{user}")), &b64(spki))
                .await
                .unwrap();
            let member = Member {
                device,
                passkey,
                sign_count: AtomicU32::new(0),
            };
            members.push((user.to_owned(), member));
        }
        Team {
            server,
            app,
            members,
        }
    }

    /// `user`'s device.
    pub fn device(&self, user: &str) -> &DeviceClient {
        &self
            .members
            .iter()
            .find(|(u, _)| u == user)
            .unwrap()
            .1
            .device
    }

    /// alice asks for the production admin role, decided by group `ops` (which she is in).
    pub async fn ask(&self, approvals: u32, denials: u32) -> AccessRequestCreated {
        self.app
            .client
            .create_access_request(&elevation(approvals, denials))
            .await
            .unwrap()
    }

    /// Answers `user`'s prompt of `created` from their device with the code shown for them
    /// (and their passkey when approving needs it).
    pub async fn answer(
        &self,
        created: &AccessRequestCreated,
        user: &str,
        decision: Decision,
    ) -> Result<(), ClientError> {
        let approver = created
            .approvers
            .iter()
            .find(|a| a.user == user)
            .unwrap_or_else(|| panic!("{user} is not an approver"));
        let id = approver.approval_id.as_deref().unwrap();
        self.answer_as(user, id, decision, approver.display_code.as_deref())
            .await
    }

    /// Answers request `id` from `user`'s device.
    pub async fn answer_as(
        &self,
        user: &str,
        id: &str,
        decision: Decision,
        code: Option<&str>,
    ) -> Result<(), ClientError> {
        let member = &self.members.iter().find(|(u, _)| u == user).unwrap().1;
        let view = member.device.approval(id).await?;
        let statement = member.device.sign_decision(&view, decision, code)?;
        let assertion = if decision == Decision::Approve && view.user_verification_required {
            let settings = self.server.assent.settings();
            let count = member.sign_count.fetch_add(1, Ordering::SeqCst) + 1;
            sign_assertion_counted(
                member.passkey.pkcs8(),
                &b64(format!("passkey-{user}")),
                &statement,
                settings.origin(),
                settings.rp_id(),
                0x05,
                count,
            )
        } else {
            None
        };
        member
            .device
            .submit_with(id, statement, assertion)
            .await
            .map(|_| ())
    }
}

pub(super) fn elevation(approvals: u32, denials: u32) -> CreateAccessRequest {
    CreateAccessRequest {
        requester: "alice".into(),
        authorization_details: vec![json!({
            "type": "role_elevation",
            "role": "production-admin",
            "resource": "db-cluster-eu-1",
        })],
        justification: "INC-4711: the EU cluster rejects writes".into(),
        approvers: AccessApprovers {
            users: Vec::new(),
            groups: vec!["ops".into()],
        },
        approvals_required: approvals,
        denials_required: Some(denials),
        grant_seconds: Some(900),
        expires_in: Some(300),
        context: None,
        passkey_authentication: None,
    }
}
