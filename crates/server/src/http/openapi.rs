//! `GET /api/openapi.json`: the OpenAPI 3.1 document, collected from the handlers themselves.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::auth::CurrentAdmin;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Provisio API", description = "User provisioning for MSPs and their customers."),
    tags(
        (name = "report", description = "The User Provisioning report and its exports"),
        (name = "views", description = "Column layouts and saved views of the report, per admin"),
        (name = "session", description = "Sign-in and the signed-in admin"),
        (name = "admins", description = "Admin accounts (MSP admins)"),
        (name = "customers", description = "Customers in the caller's scope"),
        (name = "audit", description = "Who did what (MSP admins)"),
        (name = "scim", description = "SCIM provisioning tokens per customer"),
        (name = "mappings", description = "Rules placing each SCIM user on a profile, region and quota"),
        (name = "subscriptions", description = "The report mailed on a schedule, and its deliveries"),
        (name = "users", description = "One user: details, history, and actions by hand"),
        (name = "provisioning", description = "The provisioning log, provisioning status and failure notifications"),
        (name = "health", description = "Liveness"),
    )
)]
pub struct ApiDoc;

pub fn router(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(move |_: CurrentAdmin| {
            let document = document.clone();
            async move { Json(document) }
        }),
    )
}
