//! `/scim/v2`: the SCIM 2.0 service provider (RFC 7643/7644) that identity providers call with
//! a bearer token from the token generator. Each token is bound to one customer; every query
//! below is scoped to that customer, so a token can never see or touch another's users.
//!
//! Tenant URL: one `<origin>/scim/v2` for every customer; the token alone decides whose users
//! a request reaches.

mod attributes;
mod discovery;
mod error;
mod extract;
mod filter;
mod groups;
mod projection;
mod response;
mod users;
mod write;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

pub use error::ScimError;
use extract::ScimClient;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/Users",
            get(users::list).post(write::create::<users::Users>),
        )
        .route(
            "/scim/v2/Users/{id}",
            get(users::fetch)
                .put(write::replace::<users::Users>)
                .patch(write::patch::<users::Users>)
                .delete(write::delete::<users::Users>),
        )
        .route(
            "/scim/v2/Groups",
            get(groups::list).post(write::create::<groups::Groups>),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::fetch)
                .put(write::replace::<groups::Groups>)
                .patch(write::patch::<groups::Groups>)
                .delete(write::delete::<groups::Groups>),
        )
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route(
            "/scim/v2/.search",
            axum::routing::post(|_: ScimClient| async {
                ScimError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    None,
                    "Searching several resource types at once is not supported; \
                     GET /Users or /Groups with a filter.",
                )
            }),
        )
        .route(
            "/scim/v2/{*rest}",
            axum::routing::any(|| async { ScimError::not_found("No such SCIM endpoint.") }),
        )
}
