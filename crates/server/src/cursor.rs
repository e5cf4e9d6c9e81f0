//! Opaque page cursors: where the last page ended, bound to the query that produced it.

use std::hash::{Hash, Hasher};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use provisio_api::provisioning::EventQuery;
use provisio_api::report::{QueryError, ReportQuery};

use crate::db::provisioning_log::EventKeyset;
use crate::db::report::{Keyset, Plan, SortValue};
use crate::db::Scope;

/// Encodes the position after which the next page starts.
pub fn encode(query: &ReportQuery, scope: Scope, keyset: &Keyset) -> String {
    let value = match &keyset.value {
        SortValue::Text(text) => format!("t{text}"),
        SortValue::Number(number) => format!("n{number}"),
    };
    let plan = match keyset.plan {
        Plan::WalkSortIndex => 'w',
        Plan::SortMatches => 's',
    };
    let plain = format!(
        "{:016x}:{}:{plan}:{value}",
        fingerprint(query, scope),
        keyset.id
    );
    URL_SAFE_NO_PAD.encode(plain)
}

/// Decodes a cursor, refusing one that was made for a different query or scope.
pub fn decode(cursor: &str, query: &ReportQuery, scope: Scope) -> Result<Keyset, QueryError> {
    let invalid = || QueryError::new("cursor", "the cursor is malformed; start again without it");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = plain.splitn(4, ':');
    let (Some(print), Some(id), Some(plan), Some(value)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if print != format!("{:016x}", fingerprint(query, scope)) {
        return Err(QueryError::new(
            "cursor",
            "the cursor belongs to a different filter or sort; start again without it",
        ));
    }
    let id = id.parse::<i64>().map_err(|_| invalid())?;
    let value = match value.split_at_checked(1) {
        Some(("t", text)) => SortValue::Text(text.to_owned()),
        Some(("n", number)) => SortValue::Number(number.parse().map_err(|_| invalid())?),
        _ => return Err(invalid()),
    };
    let plan = match plan {
        "w" => Plan::WalkSortIndex,
        "s" => Plan::SortMatches,
        _ => return Err(invalid()),
    };
    Ok(Keyset { value, id, plan })
}

/// Encodes where a page of the provisioning log ended.
pub fn encode_event(query: &EventQuery, scope: Scope, keyset: &EventKeyset) -> String {
    let print = fingerprint_text(&query.to_query_string(), scope);
    URL_SAFE_NO_PAD.encode(format!("{print:016x}:{}:{}", keyset.id, keyset.at))
}

/// Decodes a provisioning log cursor, refusing one made for a different query or scope.
pub fn decode_event(
    cursor: &str,
    query: &EventQuery,
    scope: Scope,
) -> Result<EventKeyset, QueryError> {
    let invalid = || QueryError::new("cursor", "the cursor is malformed; start again without it");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = plain.splitn(3, ':');
    let (Some(print), Some(id), Some(at)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if print != format!("{:016x}", fingerprint_text(&query.to_query_string(), scope)) {
        return Err(QueryError::new(
            "cursor",
            "the cursor belongs to a different filter or sort; start again without it",
        ));
    }
    Ok(EventKeyset {
        id: id.parse::<i64>().map_err(|_| invalid())?,
        at: at.to_owned(),
    })
}

/// Identifies the query (filters, plans, sort) and scope a cursor belongs to.
fn fingerprint(query: &ReportQuery, scope: Scope) -> u64 {
    fingerprint_text(&query.to_query_string(), scope)
}

fn fingerprint_text(query: &str, scope: Scope) -> u64 {
    // A keyed hasher would also do; cursors only need to tell queries apart, not resist forgery,
    // because a forged cursor can only point into rows the caller may read anyway.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    query.hash(&mut hasher);
    match scope {
        Scope::AllCustomers => 0i64.hash(&mut hasher),
        Scope::Customer(id) => id.hash(&mut hasher),
    }
    hasher.finish()
}
