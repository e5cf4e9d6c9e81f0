//! `/api/v1/customers/{customer_id}/scim-tokens`: the token generator behind the
//! "SCIM provisioning" page. MSP admins and the customer's own admins generate and revoke;
//! viewers may list. A customer outside the caller's scope is 404, as if it did not exist.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use provisio_api::auth::Role;
use provisio_api::scim::{
    CreateScimTokenRequest, CreatedScimToken, ScimToken, MAX_ACTIVE_TOKENS, TOKEN_LIFETIMES_DAYS,
};
use provisio_api::ErrorBody;
use rand::RngCore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use crate::auth::{hash_token, ClientAddress, CurrentAdmin};
use crate::db::{self, audit::Actor};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Longest token name, in characters.
const MAX_NAME_CHARS: usize = 80;

/// The customer's SCIM tokens, newest first (never the secrets).
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/scim-tokens", tag = "scim",
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = Vec<ScimToken>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_tokens(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
) -> Result<Json<Vec<ScimToken>>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    Ok(Json(db::scim_tokens::list(&state.pool, customer_id).await?))
}

/// Generates a token; the answer holds the secret, shown this once and never again.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/scim-tokens", tag = "scim",
    params(("customer_id" = i64, Path)), request_body = CreateScimTokenRequest,
    responses((status = 201, body = CreatedScimToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Two tokens are active already; revoke one first", body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(request): ApiJson<CreateScimTokenRequest>,
) -> Result<(StatusCode, Json<CreatedScimToken>), ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    require_manager(&admin)?;
    let name = super::text::clean(
        "name",
        &request.name,
        MAX_NAME_CHARS,
        &format!("Name the token (1 to {MAX_NAME_CHARS} characters)."),
    )?;
    let name = name.as_str();
    if !TOKEN_LIFETIMES_DAYS.contains(&request.lifetime_days) {
        return Err(ApiError::bad_request(
            "lifetime_days",
            "Choose an expiry of 30, 90, 180 or 365 days.",
        ));
    }
    let (token, prefix) = new_token();
    let created_by = format!("{} ({})", admin.display_name, admin.email);
    let details = db::scim_tokens::insert(
        &state.pool,
        &db::scim_tokens::NewToken {
            customer_id,
            name,
            identity_provider: request.identity_provider,
            prefix: &prefix,
            token_hash: &hash_token(&token),
            created_by: &created_by,
            expires_at: Utc::now() + Duration::days(i64::from(request.lifetime_days)),
        },
        MAX_ACTIVE_TOKENS as i64,
    )
    .await?
    .ok_or_else(|| ApiError::Conflict {
        parameter: None,
        message: format!(
            "This customer has {MAX_ACTIVE_TOKENS} active tokens; revoke one before generating another."
        ),
    })?;
    db::audit::record(
        &state.pool,
        Actor {
            admin_id: Some(admin.id),
            email: Some(&admin.email),
        },
        "scim_token.create",
        &format!(
            "customer {customer_id}: token {prefix} \"{name}\" for {}, {} days",
            request.identity_provider.label(),
            request.lifetime_days
        ),
        address.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedScimToken {
            token,
            details,
            tenant_url: tenant_url(&headers, state.secure_cookies),
        }),
    ))
}

/// Revokes a token at once: the next SCIM request with it gets 401.
#[utoipa::path(delete, path = "/api/v1/customers/{customer_id}/scim-tokens/{id}", tag = "scim",
    params(("customer_id" = i64, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath((customer_id, id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    require_manager(&admin)?;
    if !db::scim_tokens::revoke(&state.pool, customer_id, id).await? {
        return Err(ApiError::NotFound);
    }
    db::audit::record(
        &state.pool,
        Actor {
            admin_id: Some(admin.id),
            email: Some(&admin.email),
        },
        "scim_token.revoke",
        &format!("customer {customer_id}: token {id}"),
        address.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn require_manager(admin: &CurrentAdmin) -> Result<(), ApiError> {
    match admin.role {
        Role::MspAdmin | Role::CustomerAdmin => Ok(()),
        Role::ReadOnly => Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins manage SCIM tokens",
        )),
    }
}

/// A new token: `pvs_` + 8 hex characters of id + `_` + 256 random bits; and its prefix.
fn new_token() -> (String, String) {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let mut id = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let prefix = format!(
        "pvs_{}",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    (
        format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret)),
        prefix,
    )
}

/// `<scheme>://<host>/scim/v2`, as the identity provider must reach it.
pub fn tenant_url(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}/scim/v2")
}
