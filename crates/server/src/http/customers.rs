//! `/api/v1/customers`: the customers the caller may see, and their User-Identifier Custom
//! Attribute.

use axum::extract::State;
use axum::Json;
use provisio_api::auth::{CustomerRef, Role};
use provisio_api::scim::{CustomAttributeSetting, CUSTOM_ATTRIBUTE_SOURCES};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers))
        .routes(routes!(custom_attribute, set_custom_attribute))
}

/// Customers in the caller's scope, by name.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    responses((status = 200, body = Vec<CustomerRef>), (status = 401, body = ErrorBody)))]
async fn list_customers(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<Vec<CustomerRef>>, ApiError> {
    Ok(Json(db::customers::list(&state.pool, admin.scope()).await?))
}

/// 404 unless the customer is in the caller's scope: another customer's resources do not
/// exist for them.
pub(super) async fn require_in_scope(
    state: &AppState,
    admin: &CurrentAdmin,
    customer_id: i64,
) -> Result<(), ApiError> {
    db::customers::find(&state.pool, admin.scope(), customer_id)
        .await?
        .map(|_| ())
        .ok_or(ApiError::NotFound)
}

/// Which SCIM attribute fills the report's Custom Attribute Name and Value of the customer's
/// SCIM users, and whether the report shows it.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/scim/custom-attribute", tag = "customers",
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = CustomAttributeSetting), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn custom_attribute(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
) -> Result<Json<CustomAttributeSetting>, ApiError> {
    require_in_scope(&state, &admin, customer_id).await?;
    Ok(Json(
        db::customers::custom_attribute(&state.pool, customer_id).await?,
    ))
}

/// Sets the customer's custom attribute; every SCIM user of theirs is refilled at once.
#[utoipa::path(put, path = "/api/v1/customers/{customer_id}/scim/custom-attribute", tag = "customers",
    params(("customer_id" = i64, Path)), request_body = CustomAttributeSetting,
    responses((status = 200, body = CustomAttributeSetting), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_custom_attribute(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(setting): ApiJson<CustomAttributeSetting>,
) -> Result<Json<CustomAttributeSetting>, ApiError> {
    require_in_scope(&state, &admin, customer_id).await?;
    if admin.role == Role::ReadOnly {
        return Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins change the custom attribute",
        ));
    }
    if let Some(attribute) = &setting.attribute {
        if !CUSTOM_ATTRIBUTE_SOURCES.contains(&attribute.as_str()) {
            return Err(ApiError::bad_request(
                "attribute",
                format!(
                    "The custom attribute is one of {}, or none.",
                    CUSTOM_ATTRIBUTE_SOURCES.join(", ")
                ),
            ));
        }
    }
    let mut tx = db::write_transaction(&state.pool).await?;
    let changed = db::customers::set_custom_attribute(&mut tx, customer_id, &setting).await?;
    tx.commit().await?;
    let detail = format!(
        "customer {customer_id}: custom attribute {}{}; {changed} users refilled",
        setting.attribute.as_deref().unwrap_or("none"),
        if setting.shown { "" } else { " (hidden)" }
    );
    db::audit::record(
        &state.pool,
        admin.actor(),
        "customer.custom_attribute",
        &detail,
        address.as_deref(),
    )
    .await?;
    Ok(Json(setting))
}
