//! One write path for every SCIM resource type: create, replace, patch and delete.
//!
//! Each write reads the stored resource, checks `If-Match` and uniqueness, and writes in one
//! write transaction, and the write itself is conditional on the version it read. So no two
//! concurrent changes can both start from the same state: nothing a client was told succeeded
//! is ever overwritten by a change that did not see it. A refused write is logged as a failed
//! provisioning event after the transaction has rolled back.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ScimError;
use super::extract::ScimClient;
use super::response::{check_if_match, resource_json};
use crate::db;
use crate::db::provisioning::{Change, Event};
use crate::db::WriteTransaction;
use crate::AppState;

/// What differs between SCIM resource types on the write path.
pub trait ScimResource {
    /// What a client sets on the resource.
    type Fields: Clone + Send + Sync;
    /// The resource as stored, with its id and version.
    type Stored: Send;
    /// "user", "group": for messages.
    const NOUN: &'static str;
    /// The provisioning log's actions.
    const CREATE: &'static str;
    const UPDATE: &'static str;
    const DELETE: &'static str;

    /// A POSTed or PUT resource.
    fn from_resource(body: &Value) -> Result<Self::Fields, ScimError>;
    /// A PATCH body applied to the stored fields.
    fn apply_patch(fields: &mut Self::Fields, body: &Value) -> Result<(), ScimError>;
    fn external_id(fields: &Self::Fields) -> Option<&str>;
    /// Whom the resource is, for the log: a user's userName, a group's name.
    fn identity(fields: &Self::Fields) -> String;
    fn fields(stored: &Self::Stored) -> Self::Fields;
    fn version(stored: &Self::Stored) -> i64;
    fn id(stored: &Self::Stored) -> String;
    /// The stored resource as SCIM JSON.
    fn to_resource(stored: &Self::Stored) -> Value;
    /// The properties that differ, before and after (`before` is None on create).
    fn changes(before: Option<&Self::Fields>, after: &Self::Fields) -> Value;
    /// The properties a delete changes.
    fn deletion(before: &Self::Fields) -> Value;
    /// The SCIM ids of the users whose placement by the customer's mappings a write of the
    /// resource `id` may change (`before` is None on create, `after` on delete).
    fn placed_users(
        id: &str,
        before: Option<&Self::Fields>,
        after: Option<&Self::Fields>,
    ) -> Vec<String>;
    /// The action an update is logged as (a user's preserve and restore are updates).
    fn update_action(_before: &Self::Fields, _after: &Self::Fields) -> &'static str {
        Self::UPDATE
    }

    fn load(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self::Stored>, sqlx::Error>> + Send;
    /// Refuses fields that clash with another resource (`except` is the one being changed) or
    /// name what the customer does not have.
    fn check(
        tx: &mut WriteTransaction,
        customer_id: i64,
        fields: &Self::Fields,
        except: Option<&str>,
    ) -> impl Future<Output = Result<(), ScimError>> + Send;
    fn insert(
        tx: &mut WriteTransaction,
        client: &ScimClient,
        fields: &Self::Fields,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<Self::Stored, sqlx::Error>> + Send;
    /// A create that matches an existing resource the client may take over (a returning or
    /// pre-existing user) takes it over instead of adding one; None when nothing matches.
    fn adopt(
        _tx: &mut WriteTransaction,
        _client: &ScimClient,
        _fields: &Self::Fields,
        _source_id: Option<&str>,
    ) -> impl Future<Output = Result<Option<Self::Stored>, ScimError>> + Send {
        async { Ok(None) }
    }
    /// Stores `fields` while the resource is still at `version`; None when it is not.
    fn update(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        fields: &Self::Fields,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<Option<Self::Stored>, sqlx::Error>> + Send;
    /// Deletes while the resource is still at `version`; false when it is not.
    fn delete(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
}

pub async fn create<R: ScimResource>(
    State(state): State<AppState>,
    client: ScimClient,
    body: Bytes,
) -> Result<Response, ScimError> {
    let parsed = parse(&body);
    let source = source_id(&parsed);
    let mut attempted = Attempted {
        action: R::CREATE,
        identity: body_identity(&parsed),
        source_id: source.as_deref(),
        target_id: None,
        changes: json!({}),
    };
    let outcome = async {
        let fields = R::from_resource(&parsed?)?;
        attempted.identity = R::identity(&fields);
        attempted.changes = R::changes(None, &fields);
        let mut tx = db::write_transaction(&state.pool).await?;
        if let Some(stored) = R::adopt(&mut tx, &client, &fields, source.as_deref()).await? {
            let id = R::id(&stored);
            place(&mut tx, &client, &R::placed_users(&id, None, Some(&fields))).await?;
            tx.commit().await?;
            return Ok(answer::<R>(StatusCode::CREATED, &stored));
        }
        R::check(&mut tx, client.customer_id, &fields, None).await?;
        let change = Change {
            token_id: client.token_id,
            action: R::CREATE,
            identity: R::identity(&fields),
            source_id: source.as_deref(),
            changes: R::changes(None, &fields),
            origin: &client.origin,
        };
        let stored = R::insert(&mut tx, &client, &fields, &change).await?;
        let id = R::id(&stored);
        place(&mut tx, &client, &R::placed_users(&id, None, Some(&fields))).await?;
        tx.commit().await?;
        Ok(answer::<R>(StatusCode::CREATED, &stored))
    }
    .await;
    logged::<R>(&state, &client, outcome, attempted).await
}

pub async fn replace<R: ScimResource>(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let parsed = parse(&body);
    change::<R>(&state, &client, &headers, &id, move |_| {
        R::from_resource(&parsed?)
    })
    .await
}

pub async fn patch<R: ScimResource>(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let parsed = parse(&body);
    change::<R>(&state, &client, &headers, &id, move |stored| {
        let mut fields = stored.clone();
        R::apply_patch(&mut fields, &parsed?)?;
        Ok(fields)
    })
    .await
}

pub async fn delete<R: ScimResource>(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let mut attempted = Attempted {
        action: R::DELETE,
        identity: id.clone(),
        source_id: None,
        target_id: Some(&id),
        changes: json!({}),
    };
    let mut source = None;
    let outcome = async {
        let mut tx = db::write_transaction(&state.pool).await?;
        let stored = R::load(&mut tx, client.customer_id, &id)
            .await?
            .ok_or_else(|| not_found::<R>(&id))?;
        let before = R::fields(&stored);
        attempted.identity = R::identity(&before);
        source = R::external_id(&before).map(str::to_owned);
        let version = R::version(&stored);
        check_if_match(&headers, version)?;
        let change = Change {
            token_id: client.token_id,
            action: R::DELETE,
            identity: R::identity(&before),
            source_id: source.as_deref(),
            changes: R::deletion(&before),
            origin: &client.origin,
        };
        if !R::delete(&mut tx, client.customer_id, &id, version, &change).await? {
            return Err(ScimError::version_mismatch());
        }
        place(&mut tx, &client, &R::placed_users(&id, Some(&before), None)).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    attempted.source_id = source.as_deref();
    logged::<R>(&state, &client, outcome, attempted).await
}

/// Reads the stored resource, computes the new fields with `edit`, checks them and stores
/// them, all in one write transaction.
async fn change<R: ScimResource>(
    state: &AppState,
    client: &ScimClient,
    headers: &HeaderMap,
    id: &str,
    edit: impl FnOnce(&R::Fields) -> Result<R::Fields, ScimError> + Send,
) -> Result<Response, ScimError> {
    let mut attempted = Attempted {
        action: R::UPDATE,
        identity: id.to_owned(),
        source_id: None,
        target_id: Some(id),
        changes: json!({}),
    };
    let mut source = None;
    let outcome = async {
        let mut tx = db::write_transaction(&state.pool).await?;
        let stored = R::load(&mut tx, client.customer_id, id)
            .await?
            .ok_or_else(|| not_found::<R>(id))?;
        let before = R::fields(&stored);
        attempted.identity = R::identity(&before);
        source = R::external_id(&before).map(str::to_owned);
        let version = R::version(&stored);
        check_if_match(headers, version)?;
        let fields = edit(&before)?;
        attempted.changes = R::changes(Some(&before), &fields);
        R::check(&mut tx, client.customer_id, &fields, Some(id)).await?;
        let change = Change {
            token_id: client.token_id,
            action: R::update_action(&before, &fields),
            identity: R::identity(&fields),
            source_id: source.as_deref(),
            changes: R::changes(Some(&before), &fields),
            origin: &client.origin,
        };
        let stored = R::update(&mut tx, client.customer_id, id, version, &fields, &change)
            .await?
            .ok_or_else(ScimError::version_mismatch)?;
        place(
            &mut tx,
            client,
            &R::placed_users(id, Some(&before), Some(&fields)),
        )
        .await?;
        tx.commit().await?;
        Ok(answer::<R>(StatusCode::OK, &stored))
    }
    .await;
    attempted.source_id = source.as_deref();
    logged::<R>(state, client, outcome, attempted).await
}

/// Places the users a write touched by the customer's mappings, in the write's transaction.
async fn place(
    tx: &mut WriteTransaction,
    client: &ScimClient,
    users: &[String],
) -> Result<(), sqlx::Error> {
    if !users.is_empty() {
        db::mappings::place_users(
            &mut *tx,
            client.customer_id,
            Some(users),
            Some(client.token_id),
        )
        .await?;
    }
    Ok(())
}

/// A written resource as the answer, with its version.
fn answer<R: ScimResource>(status: StatusCode, stored: &R::Stored) -> Response {
    resource_json(status, &R::to_resource(stored), R::version(stored))
}

fn parse(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|_| ScimError::bad("invalidSyntax", "The body is not valid JSON."))
}

/// The identity provider's id of the resource in a request body, for the log.
fn source_id(parsed: &Result<Value, ScimError>) -> Option<String> {
    parsed
        .as_ref()
        .ok()?
        .get("externalId")?
        .as_str()
        .map(str::to_owned)
}

pub fn not_found<R: ScimResource>(id: &str) -> ScimError {
    ScimError::not_found(format!("No {} with id {id}.", R::NOUN))
}

/// The user's userName or the group's name in a body that did not make a resource.
fn body_identity(parsed: &Result<Value, ScimError>) -> String {
    let Ok(body) = parsed else {
        return String::new();
    };
    ["userName", "displayName"]
        .iter()
        .find_map(|key| body.get(key)?.as_str())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect()
}

/// What a request tried, for the provisioning log when it fails.
struct Attempted<'a> {
    action: &'a str,
    identity: String,
    source_id: Option<&'a str>,
    target_id: Option<&'a str>,
    /// The properties it would have changed, when the request got that far.
    changes: Value,
}

/// The answer to a write, or its error once that is logged (the write's transaction has
/// rolled back by now, so the log entry is all that is written).
async fn logged<R: ScimResource>(
    state: &AppState,
    client: &ScimClient,
    outcome: Result<Response, ScimError>,
    attempted: Attempted<'_>,
) -> Result<Response, ScimError> {
    let err = match outcome {
        Ok(response) => {
            crate::metrics::scim_change(R::NOUN, attempted.action, "success");
            return Ok(response);
        }
        Err(err) => err,
    };
    crate::metrics::scim_change(R::NOUN, attempted.action, err.log_status().key());
    db::provisioning::record(
        &state.pool,
        &Event {
            customer_id: client.customer_id,
            token_id: client.token_id,
            action: attempted.action,
            status: err.log_status(),
            identity: &attempted.identity,
            source_id: attempted.source_id,
            target_id: attempted.target_id,
            changes: attempted.changes,
            error: Some(err.detail()),
            error_code: Some(err.code()),
            http_status: Some(err.status().as_u16()),
            origin: &client.origin,
        },
    )
    .await?;
    Err(err)
}
