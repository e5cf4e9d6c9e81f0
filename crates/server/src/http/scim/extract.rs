//! Who is calling SCIM: the bearer token, checked and rate-limited, as a [`ScimClient`].

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use serde_json::json;
use subtle::ConstantTimeEq;
use tower_http::request_id::RequestId;

use super::error::ScimError;
use crate::auth::{client_address, hash_token};
use crate::db;
use crate::db::provisioning::{Event, RequestOrigin};
use crate::AppState;

/// The identity provider behind a request: its token's customer and "Managed By", and the
/// request as the provisioning log records it.
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub token_id: i64,
    pub customer_id: i64,
    pub managed_by: &'static str,
    pub origin: RequestOrigin,
}

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let origin = RequestOrigin {
            request_id: request_id(parts),
            client_address: client_address(parts),
            started: Some(Instant::now()),
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ScimError::unauthorized("Send the SCIM token as a Bearer token."))?;
        let hash = hash_token(token);
        let grant = db::scim_tokens::find_by_hash(&state.pool, &hash).await?;
        let Some(grant) =
            grant.filter(|g| bool::from(g.token_hash.as_bytes().ct_eq(hash.as_bytes())))
        else {
            return Err(ScimError::unauthorized("The token is not valid."));
        };
        // From here the request has reached a customer: a refusal is in that customer's log.
        let refused = |err: ScimError| Refused {
            customer_id: grant.customer_id,
            token_id: grant.token_id,
            action: attempted_action(&parts.method, parts.uri.path()),
            target_id: parts
                .uri
                .path()
                .rsplit_once('/')
                .map(|(_, id)| id.to_owned()),
            origin: origin.clone(),
            err,
        };
        if !grant.usable() {
            let detail = if grant.revoked() {
                "The token was revoked; generate a new one in Provisio."
            } else {
                "The token has expired; generate a new one in Provisio."
            };
            return Err(refused(ScimError::unauthorized(detail)).log(state).await);
        }
        if let Err(wait) = state.scim_rate.check(grant.token_id) {
            return Err(refused(ScimError::too_many_requests(wait)).log(state).await);
        }
        if grant.needs_touch(origin.client_address.as_deref()) {
            db::scim_tokens::touch(
                &state.pool,
                grant.token_id,
                origin.client_address.as_deref(),
            )
            .await?;
        }
        Ok(ScimClient {
            token_id: grant.token_id,
            customer_id: grant.customer_id,
            managed_by: grant.identity_provider.0.label(),
            origin,
        })
    }
}

/// The request's id as the request-id layer set it; an id a client sent that is too long or
/// not plain text is not kept.
fn request_id(parts: &Parts) -> Option<String> {
    let id = parts
        .extensions
        .get::<RequestId>()?
        .header_value()
        .to_str()
        .ok()?;
    (id.len() <= 100 && id.bytes().all(|b| b.is_ascii_graphic())).then(|| id.to_owned())
}

/// What a request refused before its handler ran was trying to do, for the log.
fn attempted_action(method: &Method, path: &str) -> &'static str {
    let group = path.contains("/Groups");
    match (method.as_str(), group) {
        ("POST", false) => "create",
        ("POST", true) => "create_group",
        ("PUT" | "PATCH", false) => "update",
        ("PUT" | "PATCH", true) => "update_group",
        ("DELETE", false) => "delete",
        ("DELETE", true) => "delete_group",
        _ => "read",
    }
}

/// A request refused at the door (expired or revoked token, rate limit) of a known customer.
struct Refused {
    customer_id: i64,
    token_id: i64,
    action: &'static str,
    target_id: Option<String>,
    origin: RequestOrigin,
    err: ScimError,
}

impl Refused {
    /// Logs the refusal and gives back its error; a log that cannot be written does not change
    /// the answer the client gets.
    async fn log(self, state: &AppState) -> ScimError {
        let target_id = self
            .target_id
            .filter(|id| !matches!(id.as_str(), "Users" | "Groups"));
        let event = Event {
            customer_id: self.customer_id,
            token_id: self.token_id,
            action: self.action,
            status: self.err.log_status(),
            identity: target_id.as_deref().unwrap_or(""),
            source_id: None,
            target_id: target_id.as_deref(),
            changes: json!({}),
            error: Some(self.err.detail()),
            error_code: Some(self.err.code()),
            http_status: Some(self.err.status().as_u16()),
            origin: &self.origin,
        };
        let resource = if self.action.ends_with("group") {
            "group"
        } else {
            "user"
        };
        crate::metrics::scim_change(resource, self.action, self.err.log_status().key());
        if let Err(err) = db::provisioning::record(&state.pool, &event).await {
            tracing::error!(error = %err, "could not log a refused SCIM request");
        }
        self.err
    }
}
