//! Schemas that exist for the OpenAPI description only, where a body's Rust type is looser
//! than what the server accepts (a free-form JSON value checked when the request is built).

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

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
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl utoipa::ToSchema for AuthorizationDetail {}
