//! SCIM bearer tokens: created, listed, revoked, and resolved on each SCIM request.

use chrono::{DateTime, Utc};
use provisio_api::scim::{IdentityProvider, ScimToken, TokenStatus, EXPIRING_SOON_DAYS};
use sqlx::SqlitePool;

use super::admins::now_text;

#[derive(sqlx::FromRow)]
struct TokenRecord {
    id: i64,
    customer_id: i64,
    name: String,
    identity_provider: String,
    prefix: String,
    created_by: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    last_used_address: Option<String>,
}

impl TokenRecord {
    fn into_token(self, now: DateTime<Utc>) -> ScimToken {
        let status = if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at <= now {
            TokenStatus::Expired
        } else if self.expires_at - now <= chrono::Duration::days(EXPIRING_SOON_DAYS) {
            TokenStatus::ExpiringSoon
        } else {
            TokenStatus::Active
        };
        ScimToken {
            id: self.id,
            customer_id: self.customer_id,
            name: self.name,
            identity_provider: IdentityProvider::from_key(&self.identity_provider)
                .unwrap_or(IdentityProvider::Other),
            prefix: self.prefix,
            created_by: self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            last_used_address: self.last_used_address,
            status,
        }
    }
}

const SELECT_TOKENS: &str = "SELECT id, customer_id, name, identity_provider, prefix, created_by, \
     created_at, expires_at, revoked_at, last_used_at, last_used_address FROM scim_tokens";

/// A customer's tokens, newest first.
pub async fn list(pool: &SqlitePool, customer_id: i64) -> Result<Vec<ScimToken>, sqlx::Error> {
    let now = Utc::now();
    let records: Vec<TokenRecord> = sqlx::query_as(&format!(
        "{SELECT_TOKENS} WHERE customer_id = ? ORDER BY created_at DESC, id DESC"
    ))
    .bind(customer_id)
    .fetch_all(pool)
    .await?;
    Ok(records.into_iter().map(|r| r.into_token(now)).collect())
}

pub struct NewToken<'a> {
    pub customer_id: i64,
    pub name: &'a str,
    pub identity_provider: IdentityProvider,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub created_by: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(pool: &SqlitePool, token: &NewToken<'_>) -> Result<ScimToken, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scim_tokens (customer_id, name, identity_provider, prefix, token_hash, \
         created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(token.customer_id)
    .bind(token.name)
    .bind(token.identity_provider.key())
    .bind(token.prefix)
    .bind(token.token_hash)
    .bind(token.created_by)
    .bind(now_text())
    .bind(
        token
            .expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
    .fetch_one(pool)
    .await?;
    let record: TokenRecord = sqlx::query_as(&format!("{SELECT_TOKENS} WHERE id = ?"))
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(record.into_token(Utc::now()))
}

/// Revokes a token of the customer; false when it has no such unrevoked token.
pub async fn revoke(pool: &SqlitePool, customer_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE scim_tokens SET revoked_at = ? WHERE id = ? AND customer_id = ? AND revoked_at IS NULL",
    )
    .bind(now_text())
    .bind(id)
    .bind(customer_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a SCIM request's bearer token stands for.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub token_id: i64,
    pub customer_id: i64,
    pub identity_provider: IdentityProvider,
    pub token_hash: String,
    pub usable: bool,
}

/// A token row as a SCIM request needs it: id, customer, IdP, hash, expiry, revocation.
type GrantRow = (i64, i64, String, String, DateTime<Utc>, Option<String>);

/// The token with this hash, and whether it may be used now (not revoked, not expired).
pub async fn find_by_hash(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<TokenGrant>, sqlx::Error> {
    let found: Option<GrantRow> = sqlx::query_as(
        "SELECT id, customer_id, identity_provider, token_hash, expires_at, revoked_at \
         FROM scim_tokens WHERE token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(found.map(
        |(token_id, customer_id, idp, hash, expires_at, revoked_at)| TokenGrant {
            token_id,
            customer_id,
            identity_provider: IdentityProvider::from_key(&idp).unwrap_or(IdentityProvider::Other),
            token_hash: hash,
            usable: revoked_at.is_none() && expires_at > Utc::now(),
        },
    ))
}

/// Records a use; written at most once a minute per token so reads stay reads.
pub async fn touch(
    pool: &SqlitePool,
    token_id: i64,
    address: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let cutoff =
        (now - chrono::Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    sqlx::query(
        "UPDATE scim_tokens SET last_used_at = ?, last_used_address = ? \
         WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ? OR last_used_address IS NOT ?)",
    )
    .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .bind(address)
    .bind(token_id)
    .bind(cutoff)
    .bind(address)
    .execute(pool)
    .await?;
    Ok(())
}
