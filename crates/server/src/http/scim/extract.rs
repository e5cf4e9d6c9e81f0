//! Who is calling SCIM: the bearer token, checked and rate-limited, as a [`ScimClient`].

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::error::ScimError;
use crate::auth::{client_address, hash_token};
use crate::db;
use crate::AppState;

/// The identity provider behind a request: its token's customer and "Managed By".
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub token_id: i64,
    pub customer_id: i64,
    pub managed_by: &'static str,
}

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
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
        if !grant.usable() {
            return Err(ScimError::unauthorized(
                "The token has expired or was revoked; generate a new one in Provisio.",
            ));
        }
        state
            .scim_rate
            .check(grant.token_id)
            .map_err(ScimError::too_many_requests)?;
        let address = client_address(parts);
        if grant.needs_touch(address.as_deref()) {
            db::scim_tokens::touch(&state.pool, grant.token_id, address.as_deref()).await?;
        }
        Ok(ScimClient {
            token_id: grant.token_id,
            customer_id: grant.customer_id,
            managed_by: grant.identity_provider.0.label(),
        })
    }
}
