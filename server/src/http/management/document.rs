//! The OpenAPI document's frame: its info, the bearer scheme, and the error
//! answers every tenant route shares, added in one place so that a new
//! route cannot forget to document them.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDocument, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::MAX_BODY_BYTES;
use super::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clavis management API",
        description = "Register and manage the applications (OAuth clients) of a Clavis tenant and the end \
                       users of its Cloud Directory, and read its audit log. Call it with an access token from the tenant's own token endpoint \
                       (`POST /oauth/v4/{tenantId}/token`, client credentials grant) issued to an \
                       application with management access: `clavis:management:read` for GET, \
                       `clavis:management:write` for everything else.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "applications", description = "Applications (OAuth clients) and their secrets or public keys"),
        (name = "audit", description = "The audit log of administrative acts"),
        (name = "cloud directory", description = "The tenant's end users (SCIM 2.0 users in App ID's shapes) and their roles"),
        (name = "config", description = "Token settings, DPoP settings and the Cloud Directory's password policy"),
        (name = "document", description = "This OpenAPI document"),
        (name = "federation", description = "Trusted workload-identity issuers and applications' federated credentials"),
        (name = "keys", description = "Signing keys: list, rotate, revoke, and the rotation schedule"),
    )
)]
pub(super) struct ApiDoc;

/// Declares the `bearer` security scheme the operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token of the same tenant (RFC 6750)"))
                    .build(),
            ),
        );
    }
}

/// Adds the answers that every tenant route can give to each operation
/// under `{tenantId}`: 401, 403, 404 and 503; 400, 413 and 415 where the
/// operation takes a body; 400 where it takes query parameters. An
/// operation's own description of a status wins.
pub(super) fn add_shared_errors(document: &mut OpenApiDocument) {
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.contains("{tenantId}") {
            continue;
        }
        let not_found = if path.contains("{clientId}") { "Unknown tenant or application" } else { "Unknown tenant" };
        for (scope, operation) in operations_mut(item) {
            let mut shared = vec![
                ("401", "Missing, malformed, expired or revoked access token, or one of another tenant".to_owned()),
                ("403", format!("The token lacks {scope}")),
                ("404", not_found.to_owned()),
                ("503", "Database unavailable; retry later".to_owned()),
            ];
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|parameter| matches!(parameter.parameter_in, ParameterIn::Query));
            if operation.request_body.is_some() {
                shared.push(("400", "Missing or malformed JSON body".to_owned()));
            } else if has_query {
                shared.push(("400", "Invalid query parameters".to_owned()));
            }
            if operation.request_body.is_some() {
                shared.push(("413", format!("Body over {} KiB", MAX_BODY_BYTES / 1024)));
                shared.push(("415", "Body is not application/json".to_owned()));
            }
            for (status, description) in shared {
                operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(&description));
            }
        }
    }
}

/// Each operation of a path with the scope it needs: reads need
/// `clavis:management:read`, everything else `clavis:management:write`.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    const READ: &str = "clavis:management:read";
    const WRITE: &str = "clavis:management:write";
    [
        (READ, item.get.as_mut()),
        (WRITE, item.put.as_mut()),
        (WRITE, item.post.as_mut()),
        (WRITE, item.delete.as_mut()),
        (WRITE, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(scope, operation)| operation.map(|operation| (scope, operation)))
}

fn error_response(description: &str) -> RefOr<Response> {
    let schema = Ref::from_schema_name(ErrorBody::name());
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
            .build(),
    )
}
