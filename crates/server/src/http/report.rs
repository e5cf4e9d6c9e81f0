//! `/api/v1/reports/user-provisioning`: the report's rows, page by page, and its facets.

use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::Utc;
use provisio_api::report::{
    decode_pairs, QueryError, ReportFacets, ReportPage, ReportQuery, DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentAdmin;
use crate::db;
use crate::db::report::Keyset;
use crate::{cursor, ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rows))
        .routes(routes!(list_facets))
}

const ROW_PARAMETERS: [&str; 5] = ["filter", "plan", "sort", "limit", "cursor"];

/// Rows of the User Provisioning report, filtered, sorted and paged by cursor.
///
/// Filters are ANDed; the encoding of `filter`, `plan` and `sort` is the one the web app puts
/// in its address bar, so a copied link and an API call describe the same rows.
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning", tag = "report",
    params(
        ("filter" = Option<Vec<String>>, Query,
            description = "Repeatable `<field>.<operator>:<value>[,<value>]`; `,` and `\\` in values are escaped with `\\`. \
                Text: contains, equals, starts_with, is_empty, any_of. Number: eq, lt, gt, between. \
                Date (YYYY-MM-DD, UTC days): before, after, between (inclusive), in_last_days. Enum: any_of."),
        ("plan" = Option<Vec<String>>, Query, description = "Repeatable service plan; rows of customers on any of them"),
        ("sort" = Option<String>, Query, description = "A field key; prefix with `-` for descending. Default `customer_name`."),
        ("limit" = Option<u32>, Query, description = "Rows per page, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page of the same query"),
    ),
    responses(
        (status = 200, description = "One page; `total` only on the first page", body = ReportPage),
        (status = 400, description = "A parameter is invalid; `parameter` names it", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn list_rows(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Json<ReportPage>, ApiError> {
    let pairs = decode_pairs(raw.as_deref().unwrap_or(""))?;
    if let Some((key, _)) = pairs
        .iter()
        .find(|(key, _)| !ROW_PARAMETERS.contains(&key.as_str()))
    {
        return Err(QueryError::new("query", format!("unknown parameter '{key}'")).into());
    }
    let query = ReportQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let limit = single(&pairs, "limit")?
        .map(|text| {
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    QueryError::new(
                        "limit",
                        format!("'{text}' is not a whole number from 1 to {MAX_PAGE_SIZE}"),
                    )
                })
        })
        .transpose()?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let scope = admin.scope();
    let after = single(&pairs, "cursor")?
        .map(|text| cursor::decode(text, &query, scope))
        .transpose()?;
    let now = Utc::now();
    let (rows, has_more) =
        db::report::page(&state.pool, scope, &query, after.as_ref(), limit, now).await?;
    let next_cursor = match rows.last() {
        Some(last) if has_more => Some(cursor::encode(
            &query,
            scope,
            &Keyset::of(last, query.sort.field),
        )),
        _ => None,
    };
    let total = match after {
        None => Some(db::report::count(&state.pool, scope, &query, now).await?),
        Some(_) => None,
    };
    Ok(Json(ReportPage {
        rows,
        next_cursor,
        total,
    }))
}

/// Values of the enumerable fields with counts, for the filter UI.
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning/facets", tag = "report",
    responses((status = 200, description = "Counted over every row the caller may see", body = ReportFacets),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn list_facets(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<ReportFacets>, ApiError> {
    Ok(Json(db::report::facets(&state.pool, admin.scope()).await?))
}

/// The value of a parameter that may appear at most once.
fn single<'a>(
    pairs: &'a [(String, String)],
    key: &'static str,
) -> Result<Option<&'a str>, QueryError> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(QueryError::new(key, format!("give '{key}' at most once")));
    }
    Ok(first)
}
