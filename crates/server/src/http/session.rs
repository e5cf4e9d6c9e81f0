//! `/api/v1/session`: sign in, who am I, sign out, change password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use provisio_api::auth::{
    ChangePasswordRequest, Me, SignInRequest, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::ApiJson;
use crate::auth::{self, password, ClientAddress, CurrentAdmin};
use crate::db::{self, audit::Actor};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, current, sign_out))
        .routes(routes!(change_password))
}

/// Signs in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignInRequest,
    responses((status = 200, body = Me), (status = 400, description = "The body is not a sign-in request", body = ErrorBody),
              (status = 401, description = "Email or password is incorrect", body = ErrorBody),
              (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody)))]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    let email = request.email.trim().to_owned();
    let address = address.as_deref();
    if let Err(retry_after_seconds) = state.throttle.check(&email, address) {
        return Err(ApiError::TooManyRequests {
            retry_after_seconds,
        });
    }
    let admin = db::admins::find_by_email(&state.pool, &email).await?;
    let stored = admin.as_ref().map(|a| a.password_hash.clone());
    let password_ok = password::verify(request.password, stored).await;
    let admin = match admin {
        Some(admin) if password_ok && !admin.disabled => admin,
        other => {
            state.throttle.record_failure(&email, address);
            let actor = Actor {
                admin_id: other.map(|a| a.id),
                email: Some(&email),
            };
            db::audit::record(&state.pool, actor, "sign_in_failed", "", address).await?;
            return Err(ApiError::BadCredentials);
        }
    };
    state.throttle.record_success(&email);
    let token = auth::new_session_token();
    db::admins::insert_session(&state.pool, &auth::hash_token(&token), admin.id, address).await?;
    let actor = Actor {
        admin_id: Some(admin.id),
        email: Some(&admin.email),
    };
    db::audit::record(&state.pool, actor, "sign_in", "", address).await?;
    let me = me(&state, admin.id).await?;
    Ok((
        jar.add(auth::session_cookie(token, state.secure_cookies)),
        Json(me),
    ))
}

/// The signed-in admin.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn current(State(state): State<AppState>, admin: CurrentAdmin) -> Result<Json<Me>, ApiError> {
    Ok(Json(me(&state, admin.id).await?))
}

/// Signs out: ends this session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
async fn sign_out(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    db::admins::delete_session(&state.pool, &admin.session_hash).await?;
    let actor = admin.actor();
    db::audit::record(&state.pool, actor, "sign_out", "", address.as_deref()).await?;
    Ok((
        jar.add(auth::expired_session_cookie(state.secure_cookies)),
        StatusCode::NO_CONTENT,
    ))
}

/// Changes the signed-in admin's password and ends all of their sessions.
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session", request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; sign in again"), (status = 400, body = ErrorBody),
              (status = 403, description = "The current password is incorrect", body = ErrorBody),
              (status = 401, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    jar: CookieJar,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<(CookieJar, StatusCode), ApiError> {
    let record = db::admins::find(&state.pool, admin.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !password::verify(request.current_password, Some(record.password_hash)).await {
        return Err(ApiError::Denied {
            parameter: "current_password",
            message: "The current password is incorrect.".to_owned(),
        });
    }
    validate_password(&request.new_password, "new_password")?;
    let hash = password::hash(request.new_password).await?;
    db::admins::set_password_hash(&state.pool, admin.id, &hash).await?;
    db::admins::delete_sessions_of(&state.pool, admin.id).await?;
    let actor = admin.actor();
    db::audit::record(
        &state.pool,
        actor,
        "password_changed",
        "",
        address.as_deref(),
    )
    .await?;
    Ok((
        jar.add(auth::expired_session_cookie(state.secure_cookies)),
        StatusCode::NO_CONTENT,
    ))
}

pub fn validate_password(password: &str, parameter: &'static str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(
            parameter,
            format!("Use at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    // Hashing is deliberately slow; an unbounded input would make it a way to tie up the server.
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_request(
            parameter,
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    Ok(())
}

async fn me(state: &AppState, admin_id: i64) -> Result<Me, ApiError> {
    let account = db::admins::account(&state.pool, admin_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Me {
        id: account.id,
        email: account.email,
        display_name: account.display_name,
        role: account.role,
        customer: account.customer,
    })
}
