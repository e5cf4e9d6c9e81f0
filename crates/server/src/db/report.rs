//! SQL for the User Provisioning report: filtered, sorted, keyset-paged rows, totals and facets.

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use futures_util::Stream;
use provisio_api::report::{
    Direction, FacetValue, FieldKind, Filter, Operand, Operator, ReportFacets, ReportField,
    ReportQuery, ReportRow,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::time::StoredTime;
use super::users::{BulkTarget, BULK_TARGET_COLUMNS};
use super::{on_backend, Dialect, Engine, Pool, Scope};

/// The columns of a report row, in [`RowRecord`]'s order (a JSON page decodes by position).
macro_rules! row_columns {
    () => {
        "u.id, u.customer_global_id, u.customer_name, u.customer_account_name, u.user_name, \
         u.email, u.profile_name, u.status, u.license, u.usage_mb, u.created_at, u.managed_by, \
         u.custom_attribute_name, u.custom_attribute_value, u.storage_region_name, u.quota_gb, \
         u.mapping_name"
    };
}

/// The position of a row in a sorted result: its sort value and id, the tie-breaker, and how
/// the pages of this result are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub value: SortValue,
    pub id: i64,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Number(i64),
}

/// How a page is read. Chosen from the first page's total and kept in the cursor, so every page
/// of a result is read the same way without counting again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Walk the sort's index and test each row against the filters: about `limit × in scope /
    /// matching` rows are visited, cheap when many rows match.
    WalkSortIndex,
    /// Read the matching rows by the filters' indexes and sort them: cheap when few match.
    SortMatches,
}

impl Plan {
    /// The cheaper plan for a page of `limit` rows when `matching` of the `in_scope` rows match:
    /// walking visits about `limit × in_scope / matching` rows, sorting about `matching`.
    pub fn for_total(matching: u64, in_scope: u64, limit: u32) -> Plan {
        if matching.saturating_mul(matching) >= (u64::from(limit) + 1).saturating_mul(in_scope) {
            Plan::WalkSortIndex
        } else {
            Plan::SortMatches
        }
    }
}

impl Keyset {
    /// Where `row` stands in a result sorted by `field`, read by `plan`.
    pub fn of(row: &ReportRow, field: ReportField, plan: Plan) -> Keyset {
        let value = match field.kind() {
            FieldKind::Number => SortValue::Number(row.number(field)),
            _ => SortValue::Text(row.cell(field)),
        };
        Keyset {
            value,
            id: row.id,
            plan,
        }
    }
}

/// Which page of which result: the query within the scope, how its pages are read, the row it
/// follows (none for the first page) and how many rows it holds.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub scope: Scope,
    pub query: &'a ReportQuery,
    pub plan: Plan,
    pub after: Option<&'a Keyset>,
    pub limit: u32,
    /// Relative dates ("in the last 30 days") count back from here.
    pub now: DateTime<Utc>,
}

/// One page of rows, and whether more follow.
pub async fn page(
    pool: &Pool,
    request: PageRequest<'_>,
) -> Result<(Vec<ReportRow>, bool), sqlx::Error> {
    let rows: Vec<RowRecord> = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new("");
        push_page(&mut sql, request);
        sql.build_query_as().fetch_all(connection).await?
    });
    Ok(page_of(rows, request.limit))
}

/// The same page as [`page`], read as one JSON value that SQLite builds: each row read one by
/// one crosses sqlx's worker channel and costs several microseconds there, which is most of a
/// download's time; a page in one value crosses once.
async fn page_in_one_value(
    conn: &mut SqliteConnection,
    request: PageRequest<'_>,
) -> Result<(Vec<ReportRow>, bool), sqlx::Error> {
    // The aggregate's own ORDER BY: rows reach an aggregate in no promised order.
    let direction = direction_keyword(request.query.sort.direction);
    let mut sql = QueryBuilder::<Sqlite>::new(format!(
        "SELECT json_group_array(json_array({}) ORDER BY {} {direction}, u.id {direction}) FROM (",
        row_columns!(),
        sort_expression(Dialect::Sqlite, request.query.sort.field),
    ));
    push_page(&mut sql, request);
    sql.push(") u");
    let json: String = sql.build_query_scalar().fetch_one(conn).await?;
    let rows: Vec<RowRecord> =
        serde_json::from_str(&json).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
    Ok(page_of(rows, request.limit))
}

/// The first `limit` of `rows` (which holds one more when more follow), and whether more follow.
fn page_of(rows: Vec<RowRecord>, limit: u32) -> (Vec<ReportRow>, bool) {
    let has_more = rows.len() > limit as usize;
    let rows = rows
        .into_iter()
        .take(limit as usize)
        .map(ReportRow::from)
        .collect();
    (rows, has_more)
}

fn direction_keyword(direction: Direction) -> &'static str {
    match direction {
        Direction::Ascending => "ASC",
        Direction::Descending => "DESC",
    }
}

/// Pushes the SQL of a page: `limit + 1` rows after `after`, read by `plan`.
fn push_page<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, request: PageRequest<'_>) {
    let PageRequest {
        scope,
        query,
        plan,
        after,
        limit,
        now,
    } = request;
    let field = query.sort.field;
    sql.push(SELECT_ROWS);
    let sort_expr = match plan {
        Plan::WalkSortIndex => {
            // SQLite's planner cannot know how many rows match, so it is told which index to
            // walk (PostgreSQL estimates from its statistics).
            if DB::DIALECT == Dialect::Sqlite {
                sql.push(format!(" INDEXED BY {}", sort_index(field)));
            }
            sort_expression(DB::DIALECT, field)
        }
        Plan::SortMatches => opaque_sort_expression(DB::DIALECT, field),
    };
    push_conditions(sql, scope, query, now);
    let narrowed = !query.filters.is_empty() || !query.service_plans.is_empty();
    if plan == Plan::WalkSortIndex && narrowed && is_group_column(field) {
        push_sort_values_that_occur(sql, scope, query, now);
    }
    let direction = direction_keyword(query.sort.direction);
    let comparison = match query.sort.direction {
        Direction::Ascending => ">",
        Direction::Descending => "<",
    };
    if let Some(keyset) = after {
        // The leading `>=` (or `<=`) is a plain range on the sort index, so SQLite seeks straight
        // to the position; the OR only sorts out rows that tie on the sort value.
        sql.push(format!(" AND {sort_expr} {comparison}= "));
        push_sort_value(sql, field, &keyset.value);
        sql.push(format!(" AND ({sort_expr} {comparison} "));
        push_sort_value(sql, field, &keyset.value);
        sql.push(format!(" OR u.id {comparison} "));
        DB::bind_i64(sql, keyset.id);
        sql.push(")");
    }
    sql.push(format!(
        " ORDER BY {sort_expr} {direction}, u.id {direction} LIMIT "
    ));
    DB::bind_i64(sql, i64::from(limit) + 1);
}

/// How many rows a download reads at a time: about half a megabyte of JSON.
const DOWNLOAD_BATCH: u32 = 2_000;

/// Every row of the query in its sort order, read a page at a time as the consumer pulls:
/// memory stays flat however many rows match. The pages are read in one transaction, so the
/// whole result is one snapshot. The stream owns what it needs, so it can outlive the request
/// handler that made it (an HTTP body, a mail attachment).
pub fn stream(
    pool: Pool,
    scope: Scope,
    query: ReportQuery,
    now: DateTime<Utc>,
) -> impl Stream<Item = Result<ReportRow, sqlx::Error>> + Send + 'static {
    stream_in_batches(pool, scope, query, now, DOWNLOAD_BATCH)
}

fn stream_in_batches(
    pool: Pool,
    scope: Scope,
    query: ReportQuery,
    now: DateTime<Utc>,
    batch: u32,
) -> impl Stream<Item = Result<ReportRow, sqlx::Error>> + Send + 'static {
    async_stream::try_stream! {
        let matching = count(&pool, scope, &query, now).await?;
        let plan = plan(&pool, scope, &query, matching, batch, now).await?;
        let mut snapshot = Snapshot::begin(&pool).await?;
        let mut after: Option<Keyset> = None;
        loop {
            let request = PageRequest {
                scope,
                query: &query,
                plan,
                after: after.as_ref(),
                limit: batch,
                now,
            };
            let (rows, more) = snapshot.page(request).await?;
            after = rows.last().map(|row| Keyset::of(row, query.sort.field, plan));
            for row in rows {
                yield row;
            }
            if !more {
                break;
            }
        }
        snapshot.commit().await?;
    }
}

/// The pages of a download, read in one transaction that sees one state of the database.
enum Snapshot {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Snapshot {
    async fn begin(pool: &Pool) -> Result<Snapshot, sqlx::Error> {
        Ok(match pool {
            Pool::Sqlite(pool) => Snapshot::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                Snapshot::Postgres(tx)
            }
        })
    }

    async fn page(
        &mut self,
        request: PageRequest<'_>,
    ) -> Result<(Vec<ReportRow>, bool), sqlx::Error> {
        match self {
            Snapshot::Sqlite(tx) => page_in_one_value(tx, request).await,
            // PostgreSQL's driver streams rows without SQLite's per-row hand-over.
            Snapshot::Postgres(tx) => {
                let mut sql = QueryBuilder::new("");
                push_page(&mut sql, request);
                let rows: Vec<RowRecord> = sql.build_query_as().fetch_all(&mut **tx).await?;
                Ok(page_of(rows, request.limit))
            }
        }
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Snapshot::Sqlite(tx) => tx.commit().await,
            Snapshot::Postgres(tx) => tx.commit().await,
        }
    }
}

/// The users the query matches within the scope, as a bulk action takes them: at most
/// `limit`, in id order (the sort does not matter to who is matched).
pub async fn matching_bulk_targets<'a>(
    executor: impl Into<super::Executor<'a>>,
    scope: Scope,
    query: &ReportQuery,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<BulkTarget>, sqlx::Error> {
    on_backend!(executor, |connection| {
        let mut sql = QueryBuilder::new(format!("SELECT {BULK_TARGET_COLUMNS} FROM users u"));
        push_conditions(&mut sql, scope, query, now);
        sql.push(" ORDER BY u.id LIMIT ");
        Engine::bind_i64(&mut sql, i64::try_from(limit).unwrap_or(i64::MAX));
        sql.build_query_as().fetch_all(connection).await
    })
}

/// How many rows match the query within the scope.
pub async fn count(
    pool: &Pool,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // SQLite, only substring searches over everyone: its search index counts their matches
    // without reading users.
    let phrases: Option<Vec<String>> = query.filters.iter().map(search_phrase).collect();
    if let (Pool::Sqlite(pool), Scope::AllCustomers, true, Some(phrases)) =
        (pool, scope, query.service_plans.is_empty(), phrases)
    {
        if !phrases.is_empty() {
            let total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM users_search WHERE users_search MATCH ?")
                    .bind(phrases.join(" AND "))
                    .fetch_one(pool)
                    .await?;
            return Ok(u64::try_from(total).unwrap_or(0));
        }
    }
    let index = match pool {
        Pool::Sqlite(_) => counting_index(pool, scope, query, now).await?,
        Pool::Postgres(_) => None,
    };
    let total: i64 = on_backend!(pool, |connection| {
        // `user_counts` has the same column names as `users`, so the same conditions apply.
        let (mut sql, rows) = if query.filters.iter().all(is_grouped) {
            let sql = QueryBuilder::new(SUM_OF_GROUPS);
            (sql, Rows::Groups)
        } else {
            let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM users u");
            if let Some(index) = index {
                sql.push(format!(" INDEXED BY {index}"));
            }
            (sql, Rows::Users)
        };
        push_conditions_where(&mut sql, rows, scope, query, now, |_| true);
        sql.build_query_scalar().fetch_one(connection).await?
    });
    Ok(u64::try_from(total).unwrap_or(0))
}

/// The users of the `user_counts` groups the conditions after it keep (a BIGINT on both
/// engines: PostgreSQL sums BIGINTs into NUMERIC).
const SUM_OF_GROUPS: &str = "SELECT CAST(COALESCE(SUM(u.n), 0) AS BIGINT) FROM user_counts u";

/// The index of a per-user column; it carries status, license and Managed By (migration 0027).
fn per_user_index(field: ReportField) -> Option<&'static str> {
    match field {
        ReportField::UserName
        | ReportField::UserEmail
        | ReportField::EndpointsUsageMb
        | ReportField::CreatedOn => Some(sort_index(field)),
        _ => None,
    }
}

/// The index a total mixing grouped and per-user filters counts in, when SQLite's own choice
/// would be poor. Without statistics SQLite takes a grouped filter's index (`status = ?`) and
/// reads each match's row to test the rest; when most users pass the grouped filters, that is
/// most rows. The per-user filter's range in its column's index is then no longer, and the
/// grouped columns that index carries are tested without reading rows (all of them, for
/// status, license and Managed By: the count reads index entries only). Over everyone only:
/// one customer's scope is a test on a column that index does not carry.
async fn counting_index(
    pool: &Pool,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) -> Result<Option<&'static str>, sqlx::Error> {
    let grouped = query.filters.iter().any(is_grouped);
    if scope != Scope::AllCustomers || !query.service_plans.is_empty() || !grouped {
        return Ok(None);
    }
    // A substring search is answered by the search index, not a range of the column's.
    let Some(index) = query
        .filters
        .iter()
        .filter(|filter| filter.operator() != Operator::Contains)
        .find_map(|filter| per_user_index(filter.field()))
    else {
        return Ok(None);
    };
    let grouped_matches: i64 = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new(SUM_OF_GROUPS);
        push_conditions_where(&mut sql, Rows::Groups, scope, query, now, is_grouped);
        sql.build_query_scalar().fetch_one(connection).await?
    });
    let in_scope = count_in_scope(pool, scope).await?;
    Ok((u64::try_from(grouped_matches).unwrap_or(0) * 2 > in_scope).then_some(index))
}

/// The cheaper way to read the pages of `query`, of whose rows `matching` match.
pub async fn plan(
    pool: &Pool,
    scope: Scope,
    query: &ReportQuery,
    matching: u64,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Plan, sqlx::Error> {
    let in_scope = count_in_scope(pool, scope).await?;
    let speedup = walk_speedup(scope, query);
    let uniform = Plan::for_total(matching, in_scope / speedup, limit);
    let field = query.sort.field;
    let narrowed = !query.filters.is_empty() || !query.service_plans.is_empty();
    let grouped = query.filters.iter().all(is_grouped);
    if uniform == Plan::SortMatches || !narrowed || !grouped || !is_group_column(field) {
        return Ok(uniform);
    }
    // Matches may bunch up in the sort order (Pending users in a few customers, say), so the
    // estimate above can be far off. `user_counts` tells, value by value in sort order, how
    // many users a walk reads before the page is full: every user of each value whose matches
    // do not fill the page, and of the value that fills it, about its share of users per match
    // (a walk only visits values that have matches).
    let expression = sort_expression(pool.dialect(), field);
    let direction = direction_keyword(query.sort.direction);
    let values: Vec<(i64, i64)> = on_backend!(pool, |connection| {
        let mut sql =
            QueryBuilder::new("SELECT CAST(SUM(u.n) AS BIGINT), CAST(SUM(CASE WHEN 1 = 1");
        push_narrowing(&mut sql, Rows::Groups, query, now, |_| true);
        sql.push(" THEN u.n ELSE 0 END) AS BIGINT) FROM user_counts u");
        push_scope(&mut sql, scope);
        sql.push(format!(
            " GROUP BY {expression} ORDER BY {expression} {direction}"
        ));
        sql.build_query_as().fetch_all(connection).await?
    });
    let (mut read, mut found) = (0_i64, 0_i64);
    let wanted = i64::from(limit) + 1;
    for (users, matches) in values {
        if matches <= 0 {
            continue;
        }
        let needed = wanted - found;
        if matches >= needed {
            read += needed.saturating_mul(users) / matches;
            break;
        }
        read += users;
        found += matches;
    }
    Ok(
        if u64::try_from(read).unwrap_or(u64::MAX) / speedup <= matching {
            Plan::WalkSortIndex
        } else {
            Plan::SortMatches
        },
    )
}

/// How many times cheaper a walk visits a user than sorting reads a match, when the sort's
/// index carries every column the query tests (migration 0026): the walk then reads index
/// entries only, where sorting reads each match's row. Measured: about 0.3 µs against 1.5 µs.
const CARRIED_WALK_SPEEDUP: u64 = 5;

/// The fields whose columns the indexes of the sorts in [`SORTS_CARRYING`] hold after the sort
/// value and id.
const CARRIED: [ReportField; 7] = {
    use ReportField::*;
    [
        CustomerName,
        UserStatus,
        EndpointsLicense,
        ManagedBy,
        CustomAttributeValue,
        EndpointsUsageMb,
        CreatedOn,
    ]
};

/// The sorts whose index carries the [`CARRIED`] columns.
const SORTS_CARRYING: [ReportField; 2] = [ReportField::CustomerName, ReportField::CreatedOn];

fn walk_speedup(scope: Scope, query: &ReportQuery) -> u64 {
    let sort_index_carries = SORTS_CARRYING.contains(&query.sort.field);
    // A customer's scope is a test on the customer's id, which the index does not carry.
    let carried = sort_index_carries
        && scope == Scope::AllCustomers
        && query.service_plans.is_empty()
        && query.filters.iter().all(|f| CARRIED.contains(&f.field()));
    if carried {
        CARRIED_WALK_SPEEDUP
    } else {
        1
    }
}

/// How many users the scope holds.
async fn count_in_scope(pool: &Pool, scope: Scope) -> Result<u64, sqlx::Error> {
    let total: i64 = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new(SUM_OF_GROUPS);
        push_scope(&mut sql, scope);
        sql.build_query_scalar().fetch_one(connection).await?
    });
    Ok(u64::try_from(total).unwrap_or(0))
}

/// Whether `user_counts` holds what `filter` tests, so a total filtered by it is a sum there:
/// a grouped column, or whether the custom attribute value is empty.
fn is_grouped(filter: &Filter) -> bool {
    is_group_column(filter.field()) || tests_attribute_emptiness(filter)
}

/// "Custom attribute value is empty": the one per-user test `user_counts` holds, as a column
/// of its own (migration 0028).
fn tests_attribute_emptiness(filter: &Filter) -> bool {
    (filter.field(), filter.operator()) == (ReportField::CustomAttributeValue, Operator::IsEmpty)
}

/// Whether `user_counts` groups users by this field, so a total filtered on it is a sum there.
fn is_group_column(field: ReportField) -> bool {
    !matches!(
        field,
        ReportField::UserName
            | ReportField::UserEmail
            | ReportField::EndpointsUsageMb
            | ReportField::CreatedOn
            | ReportField::CustomAttributeValue
    )
}

/// The values of the enumerable fields with their counts, over every row in the scope, summed
/// from `user_counts` (a few hundred rows) rather than counted over the users.
pub async fn facets(pool: &Pool, scope: Scope) -> Result<ReportFacets, sqlx::Error> {
    Ok(ReportFacets {
        service_plans: facet(pool, scope, "customer_service_plan").await?,
        customers: facet(pool, scope, "customer_name").await?,
        profiles: facet(pool, scope, "profile_name").await?,
        user_statuses: facet(pool, scope, "status").await?,
        endpoints_licenses: facet(pool, scope, "license").await?,
        managed_by: facet(pool, scope, "managed_by").await?,
    })
}

async fn facet(
    pool: &Pool,
    scope: Scope,
    column: &'static str,
) -> Result<Vec<FacetValue>, sqlx::Error> {
    let order = pool.dialect().binary(&format!("u.{column}"));
    let values: Vec<(String, i64)> = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new(format!(
            "SELECT u.{column}, CAST(SUM(u.n) AS BIGINT) FROM user_counts u"
        ));
        push_scope(&mut sql, scope);
        sql.push(format!(
            " GROUP BY u.{column} HAVING SUM(u.n) > 0 ORDER BY {order}"
        ));
        sql.build_query_as().fetch_all(connection).await?
    });
    Ok(values
        .into_iter()
        .map(|(value, count)| FacetValue {
            value,
            count: u64::try_from(count).unwrap_or(0),
        })
        .collect())
}

/// Every report column is on the user row (the names of the customer, profile, region and
/// mapping are kept there by triggers, see migration 0020), so rows are read without joins.
const SELECT_ROWS: &str = concat!("SELECT ", row_columns!(), " FROM users u");

/// The SQL expression of a field. Only these fixed strings reach the SQL text; values are bound.
fn column(field: ReportField) -> &'static str {
    match field {
        ReportField::GlobalCustomerId => "u.customer_global_id",
        ReportField::CustomerName => "u.customer_name",
        ReportField::AccountName => "u.customer_account_name",
        ReportField::UserName => "u.user_name",
        ReportField::UserEmail => "u.email",
        ReportField::Profile => "u.profile_name",
        ReportField::UserStatus => "u.status",
        ReportField::EndpointsLicense => "u.license",
        ReportField::EndpointsUsageMb => "u.usage_mb",
        ReportField::CreatedOn => "u.created_at",
        ReportField::ManagedBy => "u.managed_by",
        ReportField::CustomAttributeName => "u.custom_attribute_name",
        ReportField::CustomAttributeValue => "u.custom_attribute_value",
        ReportField::StorageRegion => "u.storage_region_name",
        // Unlimited (NULL) stands above every quota, as `ReportRow::number` says.
        ReportField::QuotaGb => "COALESCE(u.quota_gb, 2147483647)",
        ReportField::Mapping => "u.mapping_name",
    }
}

/// People expect "acme" and "Acme" to sort together, so text sorts ignore ASCII case.
fn sort_expression(dialect: Dialect, field: ReportField) -> String {
    match field.kind() {
        FieldKind::Text | FieldKind::Enum => dialect.nocase(column(field)),
        FieldKind::Date => dialect.binary(column(field)),
        FieldKind::Number => column(field).to_owned(),
    }
}

/// The same order as [`sort_expression`], in a form no index matches, so SQLite reads the
/// matching rows by the filters' indexes and sorts them.
fn opaque_sort_expression(dialect: Dialect, field: ReportField) -> String {
    match field.kind() {
        FieldKind::Text | FieldKind::Enum => dialect.nocase(&format!("({} || '')", column(field))),
        FieldKind::Date => dialect.binary(&format!("({} || '')", column(field))),
        FieldKind::Number => format!("({} + 0)", column(field)),
    }
}

/// The `users_search` (migration 0021) query that finds the rows a `contains` filter on
/// per-user text selects; None for other filters, and for text under three characters (no
/// trigram to look up), which is matched by scanning.
fn search_phrase(filter: &Filter) -> Option<String> {
    let column = match filter.field() {
        ReportField::UserName => "user_name",
        ReportField::UserEmail => "email",
        ReportField::CustomAttributeValue => "custom_attribute_value",
        _ => return None,
    };
    match (filter.operator(), filter.operand()) {
        (Operator::Contains, Operand::Text(text)) if text.chars().count() >= 3 => {
            // Lowercased as the index is (ASCII only, like SQLite's lower()); quoted as a phrase.
            let text = text.to_ascii_lowercase().replace('"', "\"\"");
            Some(format!("{column} : \"{text}\""))
        }
        _ => None,
    }
}

/// The index that serves sorting by `field` (see migrations 0001 and 0020).
fn sort_index(field: ReportField) -> &'static str {
    match field {
        ReportField::GlobalCustomerId => "users_by_customer_global_id",
        ReportField::CustomerName => "users_by_customer_name",
        ReportField::AccountName => "users_by_account_name",
        ReportField::UserName => "users_by_name",
        ReportField::UserEmail => "users_by_email",
        ReportField::Profile => "users_by_profile_name",
        ReportField::UserStatus => "users_by_status",
        ReportField::EndpointsLicense => "users_by_license",
        ReportField::EndpointsUsageMb => "users_by_usage",
        ReportField::CreatedOn => "users_by_created",
        ReportField::ManagedBy => "users_by_managed_by",
        ReportField::CustomAttributeName => "users_by_attribute_name",
        ReportField::CustomAttributeValue => "users_by_attribute_value",
        ReportField::StorageRegion => "users_by_region_name",
        ReportField::QuotaGb => "users_by_quota",
        ReportField::Mapping => "users_by_mapping_name",
    }
}

/// A keyset's sort value, compared as the sort expression compares (without case for text).
fn push_sort_value<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    field: ReportField,
    value: &SortValue,
) {
    match value {
        SortValue::Text(text) => match (DB::DIALECT, field.kind()) {
            // SQLite's NOCASE on the column's side decides the comparison.
            (Dialect::Sqlite, _) | (_, FieldKind::Date) => DB::bind_text(sql, text.clone()),
            _ => DB::bind_nocase_text(sql, text.clone()),
        },
        SortValue::Number(number) => DB::bind_i64(sql, *number),
    };
}

fn push_scope<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, scope: Scope) {
    match scope {
        Scope::AllCustomers => {
            sql.push(" WHERE 1 = 1");
        }
        Scope::Customer(customer_id) => {
            sql.push(" WHERE u.customer_id = ");
            DB::bind_i64(sql, customer_id);
        }
    };
}

/// What the conditions test: users, or `user_counts`' groups of them (the same column names,
/// but emptiness of the custom attribute value is a column of its own there).
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    Users,
    Groups,
}

/// The scope, the service plans and every filter, on `users`.
fn push_conditions<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) {
    push_conditions_where(sql, Rows::Users, scope, query, now, |_| true);
}

/// The scope, the service plans and the filters `included` says.
fn push_conditions_where<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    rows: Rows,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
    included: impl Fn(&Filter) -> bool,
) {
    push_scope(sql, scope);
    push_narrowing(sql, rows, query, now, included);
}

/// ` AND …` for the service plans and the filters `included` says.
fn push_narrowing<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    rows: Rows,
    query: &ReportQuery,
    now: DateTime<Utc>,
    included: impl Fn(&Filter) -> bool,
) {
    if !query.service_plans.is_empty() {
        sql.push(" AND u.customer_service_plan IN (");
        DB::bind_texts(sql, &query.service_plans);
        sql.push(")");
    }
    for filter in query.filters.iter().filter(|f| included(f)) {
        sql.push(" AND ");
        if rows == Rows::Groups && tests_attribute_emptiness(filter) {
            sql.push(match DB::DIALECT {
                Dialect::Sqlite => "u.custom_attribute_value_empty = 1",
                Dialect::Postgres => "u.custom_attribute_value_empty",
            });
        } else {
            push_filter(sql, filter, now);
        }
    }
}

/// Walking the index of a grouped column (customer, profile, status…) under filters that
/// correlate with it (Managed By with the customer, say) would pass over long runs of rows that
/// cannot match. The sort values that do occur among matching rows are known from
/// `user_counts`, so the walk is limited to those runs of the index.
fn push_sort_values_that_occur<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) {
    let field = query.sort.field;
    let occurring = match DB::DIALECT {
        // The NOCASE of the left side decides SQLite's comparison.
        Dialect::Sqlite => column(field).to_owned(),
        Dialect::Postgres => sort_expression(DB::DIALECT, field),
    };
    sql.push(format!(
        " AND {} IN (SELECT DISTINCT {occurring} FROM user_counts u",
        sort_expression(DB::DIALECT, field),
    ));
    push_conditions_where(sql, Rows::Groups, scope, query, now, is_grouped);
    sql.push(" AND u.n > 0)");
}

fn push_filter<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, filter: &Filter, now: DateTime<Utc>) {
    let column = column(filter.field());
    match (filter.operator(), filter.operand()) {
        (_, Operand::Text(_) | Operand::Texts(_)) | (Operator::IsEmpty, _) => {
            push_text_filter(sql, filter);
        }
        (Operator::Eq, Operand::Number(n)) => {
            sql.push(format!("{column} = "));
            DB::bind_i64(sql, *n);
        }
        (Operator::Lt, Operand::Number(n)) => {
            sql.push(format!("{column} < "));
            DB::bind_i64(sql, *n);
        }
        (Operator::Gt, Operand::Number(n)) => {
            sql.push(format!("{column} > "));
            DB::bind_i64(sql, *n);
        }
        (Operator::Between, Operand::NumberRange(low, high)) => {
            sql.push(format!("{column} BETWEEN "));
            DB::bind_i64(sql, *low);
            sql.push(" AND ");
            DB::bind_i64(sql, *high);
        }
        // Days are UTC days: "before D" ends where D starts, "after D" starts where D+1 starts.
        (Operator::Before, Operand::Date(day)) => {
            sql.push(format!("{column} < "));
            DB::bind_text(sql, day_start(*day));
        }
        (Operator::After, Operand::Date(day)) => {
            sql.push(format!("{column} >= "));
            DB::bind_text(sql, day_start(next_day(*day)));
        }
        (Operator::Between, Operand::DateRange(from, to)) => {
            sql.push(format!("{column} >= "));
            DB::bind_text(sql, day_start(*from));
            sql.push(format!(" AND {column} < "));
            DB::bind_text(sql, day_start(next_day(*to)));
        }
        (Operator::InLastDays, Operand::Days(days)) => {
            let since = now - chrono::Duration::days(i64::from(*days));
            sql.push(format!("{column} >= "));
            DB::bind_text(sql, since.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        // `Filter::new` pairs every operator with its operand, so this matches nothing; should
        // that ever change, the filter excludes everything rather than everything passing.
        _ => {
            sql.push("0 = 1");
        }
    }
}

/// A filter on text: compared without case, as the report sorts.
fn push_text_filter<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, filter: &Filter) {
    let column = column(filter.field());
    // SQLite's LIKE ignores ASCII case itself, and the NOCASE of a bound value decides its
    // comparisons; on PostgreSQL both sides are folded (the indexes are on the folded columns).
    let compared = match DB::DIALECT {
        Dialect::Sqlite => column.to_owned(),
        Dialect::Postgres => DB::DIALECT.nocase(column),
    };
    let like = |sql: &mut QueryBuilder<'_, DB>, pattern: String| {
        sql.push(format!("{compared} LIKE "));
        match DB::DIALECT {
            Dialect::Sqlite => DB::bind_text(sql, pattern),
            Dialect::Postgres => DB::bind_nocase_text(sql, pattern),
        }
        sql.push(" ESCAPE '\\'");
    };
    match (filter.operator(), filter.operand()) {
        (Operator::Contains, Operand::Text(text)) => match search_phrase(filter) {
            Some(phrase) if DB::DIALECT == Dialect::Sqlite => {
                sql.push("u.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ");
                DB::bind_text(sql, phrase);
                sql.push(")");
            }
            _ => like(sql, format!("%{}%", escape_like(text))),
        },
        // The whole pattern is one bound value, so SQLite can turn the prefix into a range on
        // the column's (NOCASE) index.
        (Operator::StartsWith, Operand::Text(text)) => {
            like(sql, format!("{}%", escape_like(text)));
        }
        (Operator::Equals, Operand::Text(text)) => {
            sql.push(format!("{compared} = "));
            DB::bind_nocase_text(sql, text.clone());
        }
        // NOCASE, as the column's index is: same meaning for '', and the index can answer.
        (Operator::IsEmpty, _) => {
            sql.push(match DB::DIALECT {
                Dialect::Sqlite => format!("{column} = '' COLLATE NOCASE"),
                Dialect::Postgres => format!("{compared} = ''"),
            });
        }
        (Operator::AnyOf, Operand::Texts(values)) => {
            sql.push(format!("{} IN (", DB::DIALECT.nocase(column)));
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                match DB::DIALECT {
                    Dialect::Sqlite => DB::bind_text(sql, value.clone()),
                    Dialect::Postgres => DB::bind_nocase_text(sql, value.clone()),
                }
            }
            sql.push(")");
        }
        // `Filter::new` pairs every operator with its operand, so this matches nothing; should
        // that ever change, the filter excludes everything rather than everything passing.
        _ => {
            sql.push("0 = 1");
        }
    }
}

fn day_start(day: NaiveDate) -> String {
    format!("{}T00:00:00Z", day.format("%Y-%m-%d"))
}

fn next_day(day: NaiveDate) -> NaiveDate {
    day.checked_add_days(Days::new(1)).unwrap_or(day)
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct RowRecord {
    id: i64,
    customer_global_id: String,
    customer_name: String,
    customer_account_name: String,
    user_name: String,
    email: String,
    profile_name: String,
    status: String,
    license: String,
    usage_mb: i64,
    #[sqlx(try_from = "StoredTime")]
    created_at: DateTime<Utc>,
    managed_by: String,
    custom_attribute_name: String,
    custom_attribute_value: String,
    storage_region_name: String,
    quota_gb: Option<i64>,
    mapping_name: String,
}

impl From<RowRecord> for ReportRow {
    fn from(record: RowRecord) -> Self {
        let non_empty = |text: String| (!text.is_empty()).then_some(text);
        ReportRow {
            id: record.id,
            global_customer_id: record.customer_global_id,
            customer_name: record.customer_name,
            account_name: record.customer_account_name,
            user_name: record.user_name,
            user_email: record.email,
            profile: record.profile_name,
            user_status: record.status,
            endpoints_license: record.license,
            endpoints_usage_mb: record.usage_mb,
            created_on: record.created_at,
            managed_by: record.managed_by,
            custom_attribute_name: non_empty(record.custom_attribute_name),
            custom_attribute_value: non_empty(record.custom_attribute_value),
            storage_region: non_empty(record.storage_region_name),
            quota_gb: record.quota_gb.and_then(|q| u32::try_from(q).ok()),
            mapping: non_empty(record.mapping_name),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    /// A migrated database in a temporary folder (kept while the folder lives) with the demo's
    /// customers and `users` users, or empty for none.
    async fn database(users: u64) -> (tempfile::TempDir, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let pool = super::super::connect(&url).await.expect("database");
        if users > 0 {
            crate::demo::seed(&pool, users).await.expect("demo data");
        }
        (dir, pool)
    }

    /// The plan counts on these columns being in the index: the migration must have put them
    /// there, and a walk is cheaper only where all the query tests is carried.
    #[tokio::test]
    async fn walks_count_on_columns_their_index_carries() {
        let (_dir, pool) = database(0).await;
        for sort in SORTS_CARRYING {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_info(?)")
                .bind(sort_index(sort))
                .fetch_all(&pool)
                .await
                .expect("index columns");
            for field in CARRIED {
                let name = column(field).trim_start_matches("u.");
                assert!(
                    columns.iter().any(|c| c == name),
                    "{sort:?} index lacks {name}"
                );
            }
        }
        for field in ReportField::ALL {
            let Some(index) = per_user_index(field) else {
                continue;
            };
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_info(?)")
                .bind(index)
                .fetch_all(&pool)
                .await
                .expect("index columns");
            let carried_by_per_user_indexes = [
                ReportField::UserStatus,
                ReportField::EndpointsLicense,
                ReportField::ManagedBy,
            ];
            for carried in carried_by_per_user_indexes {
                let name = column(carried).trim_start_matches("u.");
                assert!(columns.iter().any(|c| c == name), "{index} lacks {name}");
            }
        }
        let speedup = |scope: Scope, query: &str| {
            walk_speedup(
                scope,
                &ReportQuery::from_query_string(query).expect("query"),
            )
        };
        assert!(speedup(Scope::AllCustomers, "filter=user_status.any_of%3APending") > 1);
        assert!(
            speedup(
                Scope::AllCustomers,
                "filter=user_status.any_of%3APending&sort=-created_on"
            ) > 1
        );
        assert_eq!(
            speedup(
                Scope::AllCustomers,
                "filter=user_status.any_of%3APending&sort=profile"
            ),
            1
        );
        assert_eq!(
            speedup(Scope::AllCustomers, "filter=user_name.starts_with%3AMa"),
            1
        );
        assert_eq!(speedup(Scope::AllCustomers, "plan=Enterprise"), 1);
        assert_eq!(
            speedup(Scope::Customer(1), "filter=user_status.any_of%3APending"),
            1
        );
    }

    /// A total that mixes a grouped filter most users pass with a per-user one is counted in
    /// the per-user column's index; whichever index counts, the total is the number of rows.
    #[tokio::test]
    async fn mixed_totals_count_every_matching_row() {
        let (_dir, pool) = database(150).await;
        let now = Utc::now();
        let cases = [
            (
                "filter=user_status.any_of%3AActive&filter=endpoints_usage_mb.gt%3A1000",
                Scope::AllCustomers,
                true,
            ),
            (
                "filter=user_status.any_of%3AActive&filter=user_name.starts_with%3AA",
                Scope::AllCustomers,
                true,
            ),
            (
                "filter=endpoints_license.any_of%3Aactive&filter=created_on.after%3A2024-06-01",
                Scope::AllCustomers,
                true,
            ),
            (
                "filter=user_status.any_of%3AActive&filter=custom_attribute_value.is_empty%3A",
                Scope::AllCustomers,
                false,
            ),
            // Few pass the grouped filter: SQLite's own choice (the status index) is the cheap one.
            (
                "filter=user_status.any_of%3APreserved&filter=endpoints_usage_mb.gt%3A0",
                Scope::AllCustomers,
                false,
            ),
            (
                "filter=user_status.any_of%3AActive&filter=endpoints_usage_mb.gt%3A1000",
                Scope::Customer(1),
                false,
            ),
            (
                "filter=profile.any_of%3ADefault%2CEngineering%2CExecutives%2CFinance%2CSales&filter=endpoints_usage_mb.gt%3A1000",
                Scope::AllCustomers,
                true,
            ),
            (
                "filter=user_status.any_of%3AActive&filter=user_email.contains%3Aali",
                Scope::AllCustomers,
                false,
            ),
            // Emptiness of the attribute value is counted in `user_counts` (migration 0028).
            (
                "filter=custom_attribute_value.is_empty%3A",
                Scope::AllCustomers,
                false,
            ),
            (
                "filter=custom_attribute_value.is_empty%3A&filter=profile.any_of%3ADefault",
                Scope::AllCustomers,
                false,
            ),
        ];
        let with_empty_values: i64 = sqlx::query_scalar(
            "SELECT customer_id FROM users WHERE custom_attribute_value = '' ORDER BY id LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .expect("a customer");
        let one_customer = (
            "filter=custom_attribute_value.is_empty%3A",
            Scope::Customer(with_empty_values),
            false,
        );
        for (text, scope, indexed) in cases.into_iter().chain([one_customer]) {
            let query = ReportQuery::from_query_string(text).expect("query");
            let chosen = counting_index(&pool.clone().into(), scope, &query, now)
                .await
                .expect("index");
            assert_eq!(chosen.is_some(), indexed, "{text} {scope:?}: {chosen:?}");
            let total = count(&pool.clone().into(), scope, &query, now)
                .await
                .expect("count");
            let every_row = PageRequest {
                scope,
                query: &query,
                plan: Plan::SortMatches,
                after: None,
                limit: 10_000,
                now,
            };
            let (rows, _) = page(&pool.clone().into(), every_row).await.expect("rows");
            assert!(!rows.is_empty(), "{text} {scope:?}: the case has matches");
            assert_eq!(total, rows.len() as u64, "{text} {scope:?}");
        }
    }

    /// Every sort both ways, with no filter (the sort's index is walked), a filter most rows
    /// match and one few match (the matches are sorted): the download, read seven rows at a
    /// time, is the whole result in the table's order, every cell as the table reads it.
    #[tokio::test]
    async fn a_download_read_in_pages_is_the_whole_result_in_order() {
        let (_dir, pool) = database(150).await;
        let now = Utc::now();
        let mut plans_seen = std::collections::BTreeSet::<String>::new();
        for field in ReportField::ALL {
            for sort in [field.key().to_owned(), format!("-{}", field.key())] {
                for filter in [
                    "",
                    "user_status.any_of:Active",
                    "user_status.any_of:Preserved",
                ] {
                    let pairs = [
                        ("sort".to_owned(), sort.clone()),
                        ("filter".to_owned(), filter.to_owned()),
                    ];
                    let pairs: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
                    let query = ReportQuery::from_decoded(&pairs).expect("query");
                    let whole_result = PageRequest {
                        scope: Scope::AllCustomers,
                        query: &query,
                        plan: Plan::SortMatches,
                        after: None,
                        limit: 10_000,
                        now,
                    };
                    let (whole, more) = page(&pool.clone().into(), whole_result)
                        .await
                        .expect("whole result");
                    assert!(!more);
                    let downloaded: Vec<ReportRow> = stream_in_batches(
                        pool.clone().into(),
                        Scope::AllCustomers,
                        query.clone(),
                        now,
                        7,
                    )
                    .try_collect()
                    .await
                    .expect("download");
                    assert!(whole.len() > 7, "{sort} {filter}: the result spans pages");
                    let matching = count(&pool.clone().into(), Scope::AllCustomers, &query, now)
                        .await
                        .expect("count");
                    let plan = plan(
                        &pool.clone().into(),
                        Scope::AllCustomers,
                        &query,
                        matching,
                        7,
                        now,
                    )
                    .await
                    .expect("plan");
                    plans_seen.insert(format!("{plan:?}"));
                    assert_eq!(downloaded, whole, "{sort} {filter}");
                }
            }
        }
        assert_eq!(
            plans_seen.len(),
            2,
            "both ways of reading pages: {plans_seen:?}"
        );
    }
}
