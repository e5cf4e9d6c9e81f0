//! `GET /api/openapi.json`: the OpenAPI 3.1 document, collected from the handlers themselves.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Provisio API", description = "User provisioning for MSPs and their customers."),
    tags(
        (name = "report", description = "The User Provisioning report"),
        (name = "health", description = "Liveness"),
    )
)]
pub struct ApiDoc;

pub fn router(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(move || {
            let document = document.clone();
            async move { Json(document) }
        }),
    )
}
