//! How the description documents errors: every operation may answer a problem document with a
//! 4xx status (a malformed request, a body too large or too slow, missing credentials) or a 5xx
//! one (a timeout, a database that does not answer), and all of them are
//! `application/problem+json` with the `Problem` schema. Done once over the whole description,
//! after the routes are collected, so no handler's annotation can say otherwise.

use utoipa::openapi::schema::Ref;
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};

/// The media type of every error.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// Gives every operation its `4XX` and `5XX` answers and makes each error answer a problem.
pub(crate) fn document_errors(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ];
        for operation in operations.into_iter().flatten() {
            let oauth = operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t == "openid"));
            let responses = &mut operation.responses.responses;
            let errors: Vec<String> = responses
                .keys()
                .filter(|status| status.starts_with('4') || status.starts_with('5'))
                .cloned()
                .collect();
            for status in errors {
                let description = match responses.get(&status) {
                    Some(RefOr::T(response)) if !response.description.is_empty() => {
                        response.description.clone()
                    }
                    _ => generic_description(&status).to_owned(),
                };
                responses.insert(status, problem(&description, oauth));
            }
            for status in ["4XX", "5XX"] {
                if !responses.contains_key(status) {
                    responses.insert(
                        status.to_owned(),
                        problem(generic_description(status), oauth),
                    );
                }
            }
        }
    }
}

fn generic_description(status: &str) -> &'static str {
    if status.starts_with('5') {
        "the server could not answer (timeout, database unavailable, shutting down): a problem document"
    } else {
        "refused: a problem document whose `code` says why"
    }
}

/// An error answer: a problem document; on the OAuth endpoints also an OAuth error body
/// (`application/json`), which is what the protocol's own refusals are, while refusals before
/// the protocol (a deadline, a connection cap) stay problems.
fn problem(description: &str, oauth: bool) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if oauth {
        response = response.content(
            OAUTH_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("OAuthError")))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// The media type of an OAuth error body.
pub(crate) const OAUTH_JSON: &str = "application/json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_its_errors_as_problems() {
        let api = serde_json::to_value(crate::http::openapi()).unwrap();
        let mut operations = 0;
        for (path, item) in api["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                operations += 1;
                let responses = operation["responses"].as_object().unwrap();
                for range in ["4XX", "5XX"] {
                    assert!(responses.contains_key(range), "{method} {path}: no {range}");
                }
                for (status, response) in responses {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    let content = response["content"].as_object().unwrap();
                    let oauth = operation["tags"]
                        .as_array()
                        .is_some_and(|tags| tags.iter().any(|t| t == "openid"));
                    if oauth {
                        assert_eq!(
                            content[OAUTH_JSON]["schema"]["$ref"],
                            "#/components/schemas/OAuthError",
                            "{method} {path} {status}"
                        );
                    } else {
                        assert_eq!(
                            content.keys().collect::<Vec<_>>(),
                            [PROBLEM_JSON],
                            "{method} {path} {status}"
                        );
                    }
                    assert_eq!(
                        content[PROBLEM_JSON]["schema"]["$ref"],
                        "#/components/schemas/Problem"
                    );
                }
            }
        }
        assert!(operations >= 40, "{operations} operations");
    }
}
