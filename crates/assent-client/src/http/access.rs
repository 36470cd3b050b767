//! Access requests: the relying party asks, follows, invokes break-glass and introspects; an
//! admin reads, revokes, sets the break-glass code and reviews.

use super::{AdminClient, RpClient, segment};
use crate::error::ClientError;

impl RpClient {
    /// Asks for a privilege on a user's behalf; show each approver their `display_code`.
    pub async fn create_access_request(
        &self,
        request: &assent_proto::api::CreateAccessRequest,
    ) -> Result<assent_proto::api::AccessRequestCreated, ClientError> {
        self.0.post("/v1/access-requests", request).await
    }

    /// An access request as it stands, counted first.
    pub async fn access_request(
        &self,
        id: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        self.0
            .get(&format!("/v1/access-requests/{}", segment(id)))
            .await
    }

    /// Withdraws a pending access request.
    pub async fn cancel_access_request(
        &self,
        id: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        self.0
            .delete(&format!("/v1/access-requests/{}", segment(id)))
            .await
    }

    /// Ends a pending access request with a break-glass grant.
    pub async fn break_glass(
        &self,
        id: &str,
        reason: &str,
        code: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        let body = assent_proto::api::InvokeBreakGlass {
            reason: reason.to_owned(),
            code: code.to_owned(),
        };
        self.0
            .post(
                &format!("/v1/access-requests/{}/break-glass", segment(id)),
                &body,
            )
            .await
    }

    /// Whether a grant is in force.
    pub async fn introspect_grant(
        &self,
        token: &str,
    ) -> Result<assent_proto::api::GrantIntrospection, ClientError> {
        let body = assent_proto::api::IntrospectGrant {
            token: token.to_owned(),
        };
        self.0.post("/v1/access-grants/introspect", &body).await
    }
}

impl AdminClient {
    /// Any access request.
    pub async fn access_request(
        &self,
        id: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        self.0
            .get(&format!("/v1/admin/access-requests/{}", segment(id)))
            .await
    }

    /// Revokes an access request's grant before its end.
    pub async fn revoke_grant(
        &self,
        id: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        self.0
            .post(
                &format!("/v1/admin/access-requests/{}/revoke", segment(id)),
                &serde_json::json!({}),
            )
            .await
    }

    /// Sets a new break-glass code; the answer holds it, once.
    pub async fn set_break_glass_code(&self) -> Result<String, ClientError> {
        let code: assent_proto::api::BreakGlassCode = self
            .0
            .post("/v1/admin/break-glass-code", &serde_json::json!({}))
            .await?;
        Ok(code.code)
    }

    /// The break-glass grants nobody has reviewed.
    pub async fn unreviewed_break_glass(
        &self,
    ) -> Result<assent_proto::api::AccessRequestList, ClientError> {
        self.0.get("/v1/admin/break-glass").await
    }

    /// Records the review of a break-glass grant.
    pub async fn review_break_glass(
        &self,
        id: &str,
        note: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        let body = assent_proto::api::ReviewBreakGlass {
            note: note.to_owned(),
        };
        self.0
            .post(
                &format!("/v1/admin/access-requests/{}/review", segment(id)),
                &body,
            )
            .await
    }
}
