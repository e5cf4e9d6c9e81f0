//! `/api/v1/reports/user-provisioning`: the report's rows, page by page, and its facets.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use provisio_api::openapi;
use provisio_api::report::{
    decode_columns, decode_pairs, ExportFormat, QueryError, ReportFacets, ReportField, ReportPage,
    ReportQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
use provisio_api::ErrorBody;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentAdmin;
use crate::db;
use crate::db::report::{Keyset, PageRequest};
use crate::{cursor, export, ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rows))
        .routes(routes!(list_facets))
        .routes(routes!(export_rows))
}

const ROW_PARAMETERS: [&str; 5] = ["filter", "plan", "sort", "limit", "cursor"];

/// Rows of the User Provisioning report, filtered, sorted and paged by cursor.
///
/// Filters are ANDed; the encoding of `filter`, `plan` and `sort` is the one the web app puts
/// in its address bar, so a copied link and an API call describe the same rows.
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning", tag = "report",
    params(
        ("filter" = inline(Option<Vec<FilterText>>), Query, max_items = 20,
            description = "Repeatable `<field>.<operator>:<value>[,<value>]`; `,` and `\\` in values are escaped with `\\`. \
                Text: contains, equals, starts_with, is_empty, any_of. Number: eq, lt, gt, between. \
                Date (YYYY-MM-DD, UTC days): before, after, between (inclusive), in_last_days. Enum: any_of."),
        ("plan" = inline(Option<Vec<PlanName>>), Query, max_items = 200, description = "Repeatable service plan; rows of customers on any of them"),
        ("sort" = inline(Option<SortText>), Query, description = "A field key; prefix with `-` for descending. Default `customer_name`."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Rows per page, 1 to 1000 (default 100)"),
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
    let pairs = known_pairs(raw.as_deref(), &ROW_PARAMETERS)?;
    let query = ReportQuery::from_decoded(&pairs)?;
    let limit = page_limit(single(&pairs, "limit")?, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)?;
    let scope = admin.scope();
    let after = single(&pairs, "cursor")?
        .map(|text| cursor::decode(text, &query, scope))
        .transpose()?;
    let now = Utc::now();
    // The first page counts first: the total decides how the pages are read (see `Plan`), and
    // a result with no rows needs no page query.
    let (plan, total) = match &after {
        Some(keyset) => (keyset.plan, None),
        None => {
            let total = db::report::count(&state.pool, scope, &query, now).await?;
            let plan = db::report::plan(&state.pool, scope, &query, total, limit, now).await?;
            (plan, Some(total))
        }
    };
    let (rows, has_more) = if total == Some(0) {
        (Vec::new(), false)
    } else {
        let request = PageRequest {
            scope,
            query: &query,
            plan,
            after: after.as_ref(),
            limit,
            now,
        };
        db::report::page(&state.pool, request).await?
    };
    let next_cursor = match rows.last() {
        Some(last) if has_more => Some(cursor::encode(
            &query,
            scope,
            &Keyset::of(last, query.sort.field, plan),
        )),
        _ => None,
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

const EXPORT_PARAMETERS: [&str; 5] = ["filter", "plan", "sort", "cols", "format"];

/// The whole filtered result as a file, streamed: the visible columns (`cols`) in their order,
/// the query's sort, every matching row the caller may see.
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning/export", tag = "report",
    params(
        ("format" = ExportFormat, Query, description = "`csv` (RFC 4180, UTF-8, header row of column labels, \
            formula-looking text cells prefixed with `'`) or `json` (one array of objects keyed by field key)"),
        ("cols" = inline(Option<ColumnsText>), Query, style = Form, explode = false,
            description = "Field keys in column order, comma-separated, each once; default the report's own 13"),
        ("filter" = inline(Option<Vec<FilterText>>), Query, max_items = 20, description = "As for the rows endpoint"),
        ("plan" = inline(Option<Vec<PlanName>>), Query, max_items = 200, description = "As for the rows endpoint"),
        ("sort" = inline(Option<SortText>), Query, description = "As for the rows endpoint"),
    ),
    responses(
        (status = 200, description = "The file, with a Content-Disposition file name saying report, scope and UTC time"),
        (status = 400, description = "A parameter is invalid; `parameter` names it", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn export_rows(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = known_pairs(raw.as_deref(), &EXPORT_PARAMETERS)?;
    let query = ReportQuery::from_decoded(&pairs)?;
    let format = match single(&pairs, "format")? {
        Some(key) => ExportFormat::from_key(key).ok_or_else(|| {
            QueryError::new(
                "format",
                format!("'{key}' is not an export format; use csv or json"),
            )
        })?,
        None => return Err(QueryError::new("format", "choose a format: csv or json").into()),
    };
    let columns = match single(&pairs, "cols")? {
        Some(text) => decode_columns(text)?,
        None => ReportField::SEED.to_vec(),
    };
    let scope = admin.scope();
    let now = Utc::now();
    let file_name = export::file_name(
        &db::customers::label(&state.pool, scope).await?,
        format,
        now,
    );
    let rows = db::report::stream(state.pool.clone(), scope, query, now);
    Ok(export::attachment(
        format,
        &file_name,
        export::encode(rows, columns, format),
    ))
}

/// Decodes the query string, refusing keys the endpoint does not know. An empty filter, sort
/// or cursor (`filter=`, as an HTML form sends an empty field) counts as not given.
fn known_pairs(raw: Option<&str>, known: &[&str]) -> Result<Vec<(String, String)>, QueryError> {
    let mut pairs = decode_pairs(raw.unwrap_or(""))?;
    pairs.retain(|(key, value)| {
        !(value.is_empty() && ["filter", "sort", "cursor"].contains(&key.as_str()))
    });
    if let Some((key, _)) = pairs.iter().find(|(key, _)| !known.contains(&key.as_str())) {
        return Err(QueryError::new(
            "query",
            format!("unknown parameter '{key}'"),
        ));
    }
    Ok(pairs)
}

/// A page size: `limit` from 1 to `max`, `default` when not given.
pub(super) fn page_limit(given: Option<&str>, max: u32, default: u32) -> Result<u32, QueryError> {
    match given {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                QueryError::new(
                    "limit",
                    format!("'{text}' is not a whole number from 1 to {max}"),
                )
            }),
    }
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

/// The document's types for the query parameters, which are read from the raw query string:
/// each states the grammar the parameter is parsed with (`provisio_api::openapi`).
macro_rules! documented_text {
    ($name:ident, $doc:literal, $schema:expr) => {
        #[doc = $doc]
        struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

documented_text!(
    FilterText,
    "`<field>.<operator>:<values>`",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{}$", openapi::filter_pattern())))
        .into()
);
documented_text!(
    PlanName,
    "A service plan's name",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .into()
);
documented_text!(
    SortText,
    "A field key, `-` first for descending",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{}$", openapi::optional_sort_pattern())))
        .into()
);
documented_text!(
    ColumnsText,
    "Field keys, each once",
    openapi::view_columns()
);
