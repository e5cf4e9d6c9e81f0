//! Who is calling: sessions, the signed-in admin and what their role allows.

pub mod password;
pub mod scim_rate;
pub mod throttle;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use provisio_api::auth::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{self, Principal, Scope};
use crate::{ApiError, AppState};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "provisio_session";
/// A session unused for this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often, to keep reads from becoming writes.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// The signed-in admin behind a request. Extracting it answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct CurrentAdmin {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub customer_id: Option<i64>,
    /// SHA-256 of the session id, to end this session.
    pub session_hash: String,
}

impl CurrentAdmin {
    /// This admin as the audit log names who acted.
    pub fn actor(&self) -> db::audit::Actor<'_> {
        db::audit::Actor {
            admin_id: Some(self.id),
            email: Some(&self.email),
        }
    }

    /// Who is asking, for every scoped query.
    pub fn principal(&self) -> Principal {
        Principal {
            admin_id: self.id,
            role: self.role,
            customer: self.customer_id,
        }
    }

    /// The customers this admin may see, resolved on the server only.
    pub fn scope(&self) -> Scope {
        self.principal().scope()
    }

    pub fn require_msp_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::MspAdmin => Ok(()),
            _ => Err(ApiError::Forbidden("only MSP admins can do this")),
        }
    }
}

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or(ApiError::Unauthorized)?;
        let session_hash = hash_token(&token);
        let session = db::admins::find_session(&state.pool, &session_hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let now = Utc::now();
        if session.disabled
            || now - session.last_seen_at > IDLE_TIMEOUT
            || now - session.created_at > ABSOLUTE_LIFETIME
        {
            db::admins::delete_session(&state.pool, &session_hash).await?;
            return Err(ApiError::Unauthorized);
        }
        if now - session.last_seen_at > TOUCH_INTERVAL {
            db::admins::touch_session(&state.pool, &session_hash).await?;
        }
        Ok(CurrentAdmin {
            id: session.admin_id,
            email: session.email,
            display_name: session.display_name,
            role: Role::from_key(&session.role).unwrap_or(Role::ReadOnly),
            customer_id: session.customer_id,
            session_hash,
        })
    }
}

/// The client's address, when the server was started with connection info.
pub fn client_address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

/// The caller's address as an extractor (never rejects).
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

/// A new session id: 256 random bits from the OS, URL-safe.
pub fn new_session_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session cookie: HttpOnly so scripts cannot read it, SameSite=Strict so other sites'
/// pages cannot make the browser send it, Secure when the server is reached over TLS.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

pub fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}
