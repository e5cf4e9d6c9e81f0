//! SCIM bearer tokens: created, listed, revoked, and resolved on each SCIM request.

use chrono::{DateTime, Utc};
use provisio_api::scim::{IdentityProvider, ScimToken, TokenStatus, EXPIRING_SOON_DAYS};

use super::time::StoredTime;
use super::{on_backend, Pool};

#[derive(sqlx::FromRow)]
struct TokenRecord {
    id: i64,
    customer_id: i64,
    name: String,
    identity_provider: String,
    prefix: String,
    created_by: String,
    #[sqlx(try_from = "StoredTime")]
    created_at: DateTime<Utc>,
    #[sqlx(try_from = "StoredTime")]
    expires_at: DateTime<Utc>,
    revoked_at: Option<StoredTime>,
    last_used_at: Option<StoredTime>,
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
            revoked_at: self.revoked_at.map(DateTime::from),
            last_used_at: self.last_used_at.map(DateTime::from),
            last_used_address: self.last_used_address,
            status,
        }
    }
}

const SELECT_TOKENS: &str = "SELECT id, customer_id, name, identity_provider, prefix, created_by, \
     created_at, expires_at, revoked_at, last_used_at, last_used_address FROM scim_tokens";

/// A customer's tokens, newest first.
pub async fn list(pool: &Pool, customer_id: i64) -> Result<Vec<ScimToken>, sqlx::Error> {
    let now = Utc::now();
    let sql = format!("{SELECT_TOKENS} WHERE customer_id = $1 ORDER BY created_at DESC, id DESC");
    let records: Vec<TokenRecord> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(customer_id)
        .fetch_all(connection)
        .await?);
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

/// Stores a token unless the customer already has `max_active` unrevoked, unexpired ones
/// (None then). The count and the insert are one statement, with the customer locked on
/// PostgreSQL, so two generators racing for the last free place cannot both take it.
pub async fn insert(
    pool: &Pool,
    token: &NewToken<'_>,
    max_active: i64,
) -> Result<Option<ScimToken>, sqlx::Error> {
    let now = StoredTime::now();
    let sql = format!("{SELECT_TOKENS} WHERE id = $1");
    let mut tx = super::write_transaction(pool).await?;
    super::customers::lock(&mut tx, token.customer_id).await?;
    let record: Option<TokenRecord> = on_backend!(&mut tx, |connection| {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO scim_tokens (customer_id, name, identity_provider, prefix, token_hash, \
             created_by, created_at, expires_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
             WHERE (SELECT COUNT(*) FROM scim_tokens WHERE customer_id = $1 \
                    AND revoked_at IS NULL AND expires_at > $7) < $9 \
             RETURNING id",
        )
        .bind(token.customer_id)
        .bind(token.name)
        .bind(token.identity_provider.key())
        .bind(token.prefix)
        .bind(token.token_hash)
        .bind(token.created_by)
        .bind(now)
        .bind(
            token
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .bind(max_active)
        .fetch_optional(&mut *connection)
        .await?;
        match id {
            Some(id) => Some(sqlx::query_as(&sql).bind(id).fetch_one(connection).await?),
            None => None,
        }
    });
    tx.commit().await?;
    Ok(record.map(|record| record.into_token(Utc::now())))
}

/// Revokes a token of the customer; false when it has no such unrevoked token.
pub async fn revoke(pool: &Pool, customer_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = on_backend!(pool, |connection| sqlx::query(
        "UPDATE scim_tokens SET revoked_at = $1 \
         WHERE id = $2 AND customer_id = $3 AND revoked_at IS NULL",
    )
    .bind(StoredTime::now())
    .bind(id)
    .bind(customer_id)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// What a SCIM request's bearer token stands for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenGrant {
    #[sqlx(rename = "id")]
    pub token_id: i64,
    pub customer_id: i64,
    #[sqlx(try_from = "String")]
    pub identity_provider: IdentityProviderKey,
    pub token_hash: String,
    #[sqlx(try_from = "StoredTime")]
    expires_at: DateTime<Utc>,
    revoked_at: Option<String>,
    last_used_at: Option<StoredTime>,
    last_used_address: Option<String>,
}

/// An identity provider read from its stored key (unknown keys read as Other).
#[derive(Debug, Clone, Copy)]
pub struct IdentityProviderKey(pub IdentityProvider);

impl From<String> for IdentityProviderKey {
    fn from(key: String) -> Self {
        IdentityProviderKey(IdentityProvider::from_key(&key).unwrap_or(IdentityProvider::Other))
    }
}

impl TokenGrant {
    /// Not revoked and not expired.
    pub fn usable(&self) -> bool {
        !self.revoked() && self.expires_at > Utc::now()
    }

    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether recording this use would change what the token list shows: a new address, or
    /// the last record is over a minute old. Saves a write on nearly every SCIM request.
    pub fn needs_touch(&self, address: Option<&str>) -> bool {
        self.last_used_address.as_deref() != address
            || self
                .last_used_at
                .is_none_or(|at| Utc::now() - at.0 > chrono::Duration::seconds(60))
    }
}

/// The token with this hash, whether or not it may still be used.
pub async fn find_by_hash(
    pool: &Pool,
    token_hash: &str,
) -> Result<Option<TokenGrant>, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_as(
        "SELECT id, customer_id, identity_provider, token_hash, expires_at, revoked_at, \
         last_used_at, last_used_address FROM scim_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(connection)
    .await)
}

/// Records a use of the token: when and from where.
pub async fn touch(pool: &Pool, token_id: i64, address: Option<&str>) -> Result<(), sqlx::Error> {
    // In the writers' queue: every SCIM request may touch its token, and a long run of
    // writes (a mapping re-evaluation) would otherwise starve it in SQLite's busy handler.
    let mut tx = super::write_transaction(pool).await?;
    on_backend!(&mut tx, |connection| sqlx::query(
        "UPDATE scim_tokens SET last_used_at = $1, last_used_address = $2 WHERE id = $3"
    )
    .bind(StoredTime::now())
    .bind(address)
    .bind(token_id)
    .execute(connection)
    .await?
    .rows_affected());
    tx.commit().await
}
