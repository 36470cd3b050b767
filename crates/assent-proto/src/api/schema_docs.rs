//! Schemas that exist for the OpenAPI description only, where a body's Rust type is looser
//! than what the server accepts (a free-form JSON value checked when the request is built).

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};

/// One RFC 9396 authorization details object: a non-empty string `type` and any other members.
pub struct AuthorizationDetail;

impl utoipa::PartialSchema for AuthorizationDetail {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "An RFC 9396 authorization details object: a non-empty string `type` and any other members, shown on the device and signed",
            ))
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1)),
            )
            .required("type")
            .additional_properties(Some(AdditionalProperties::RefOr(
                utoipa::openapi::Ref::from_schema_name("DetailValue").into(),
            )))
            .into()
    }
}

impl utoipa::ToSchema for AuthorizationDetail {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            "DetailValue".into(),
            <DetailValue as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// Any JSON value inside authorization details, with the server's rule on numbers: each must
/// keep its exact value through the canonical form, so none beyond 2^53 - 1 in magnitude.
/// (That a number has no more digits than a double holds is not expressible here; the server
/// refuses such numbers with `422 invalid_request`.)
pub struct DetailValue;

/// The largest integer a double holds exactly, 2^53 - 1.
const EXACT_LIMIT: f64 = 9_007_199_254_740_991.0;

impl utoipa::PartialSchema for DetailValue {
    fn schema() -> RefOr<Schema> {
        let itself =
            || -> RefOr<Schema> { utoipa::openapi::Ref::from_schema_name("DetailValue").into() };
        let of_type = |t: Type| ObjectBuilder::new().schema_type(t);
        OneOfBuilder::new()
            .description(Some(
                "A value inside authorization details: a number must be at most 2^53 - 1 in magnitude and keep its exact value as a double; send larger or more precise amounts as strings",
            ))
            .item(of_type(Type::String))
            .item(of_type(Type::Boolean))
            .item(of_type(Type::Null))
            .item(
                of_type(Type::Number)
                    .minimum(Some(-EXACT_LIMIT))
                    .maximum(Some(EXACT_LIMIT)),
            )
            .item(utoipa::openapi::schema::ArrayBuilder::new().items(itself()))
            .item(
                of_type(Type::Object)
                    .additional_properties(Some(AdditionalProperties::RefOr(itself()))),
            )
            .into()
    }
}

impl utoipa::ToSchema for DetailValue {}

/// The events a webhook may ask for.
pub struct WebhookEvent;

impl utoipa::PartialSchema for WebhookEvent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([
                "approval.final",
                "alert",
                "access_request.final",
                "access_grant.revoked",
            ]))
            .into()
    }
}

impl utoipa::ToSchema for WebhookEvent {}

/// A username, as every body names one.
pub struct UsernameText;

impl utoipa::PartialSchema for UsernameText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[A-Za-z0-9._@+-]{1,64}$"))
            .min_length(Some(1))
            .max_length(Some(64))
            .into()
    }
}

impl utoipa::ToSchema for UsernameText {}

/// A group name.
pub struct GroupName;

impl utoipa::PartialSchema for GroupName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[a-z0-9._-]{1,64}$"))
            .min_length(Some(1))
            .max_length(Some(64))
            .into()
    }
}

impl utoipa::ToSchema for GroupName {}

/// `POST /v1/events`, by hand: the server's rule that a `custom` event needs a message that is
/// not blank is a choice between two shapes.
impl utoipa::PartialSchema for super::ReportEvent {
    fn schema() -> RefOr<Schema> {
        let user = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[A-Za-z0-9._@+-]{1,64}$"))
                .min_length(Some(1))
                .max_length(Some(64))
        };
        let shape = |types: &[&str], message: ObjectBuilder, message_required: bool| {
            let object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("user", user())
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(types.to_vec())),
                )
                .property("message", message)
                .required("user")
                .required("type")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            if message_required {
                object.required("message")
            } else {
                object
            }
        };
        let message = |pattern: &'static str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .max_length(Some(300))
        };
        let known = shape(
            &["password_changed", "email_changed", "mfa_reset"],
            message(r"^[^\u0000-\u001f\u007f-\u009f]*$").schema_type(
                [Type::String, Type::Null]
                    .into_iter()
                    .collect::<utoipa::openapi::schema::SchemaType>(),
            ),
            false,
        );
        let custom = shape(
            &["custom"],
            message(
                r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$",
            ),
            true,
        );
        OneOfBuilder::new()
            .description(Some(
                "An account event: `password_changed`, `email_changed` or `mfa_reset` with an optional message, or `custom` with a message that is not blank. A message is at most 300 characters, none of them control characters.",
            ))
            .item(known)
            .item(custom)
            .into()
    }
}

impl utoipa::ToSchema for super::ReportEvent {}

/// `POST /v1/admin/enrollments`: the body of [`super::CreateEnrollment`] without
/// `recovery_code`, which only a relying party may send (an admin's enrollment needs none).
pub struct AdminCreateEnrollment;

impl utoipa::PartialSchema for AdminCreateEnrollment {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "user",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[A-Za-z0-9._@+-]{1,64}$"))
                    .min_length(Some(1))
                    .max_length(Some(64)),
            )
            .required("user")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for AdminCreateEnrollment {}
