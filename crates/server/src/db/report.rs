//! SQL for the User Provisioning report: filtered, sorted, keyset-paged rows, totals and facets.

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use futures_util::{Stream, TryStreamExt};
use provisio_api::report::{
    Direction, FacetValue, FieldKind, Filter, Operand, Operator, ReportFacets, ReportField,
    ReportQuery, ReportRow,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::Scope;

/// The position of a row in a sorted result: its sort value and id, the tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub value: SortValue,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Number(i64),
}

impl Keyset {
    /// Where `row` stands in a result sorted by `field`.
    pub fn of(row: &ReportRow, field: ReportField) -> Keyset {
        let value = match field.kind() {
            FieldKind::Number => SortValue::Number(row.number(field)),
            _ => SortValue::Text(row.cell(field)),
        };
        Keyset { value, id: row.id }
    }
}

/// One page of rows after `after` (or from the start), and whether more follow.
pub async fn page(
    pool: &SqlitePool,
    scope: Scope,
    query: &ReportQuery,
    after: Option<&Keyset>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(Vec<ReportRow>, bool), sqlx::Error> {
    let mut sql = QueryBuilder::<Sqlite>::new(SELECT_ROWS);
    push_conditions(&mut sql, scope, query, now);
    let sort_expr = sort_expression(query.sort.field);
    let (comparison, direction) = match query.sort.direction {
        Direction::Ascending => (">", "ASC"),
        Direction::Descending => ("<", "DESC"),
    };
    if let Some(keyset) = after {
        // The leading `>=` (or `<=`) is a plain range on the sort index, so SQLite seeks straight
        // to the position; the OR only sorts out rows that tie on the sort value.
        sql.push(format!(" AND {sort_expr} {comparison}= "));
        push_sort_value(&mut sql, &keyset.value);
        sql.push(format!(" AND ({sort_expr} {comparison} "));
        push_sort_value(&mut sql, &keyset.value);
        sql.push(format!(" OR u.id {comparison} "));
        sql.push_bind(keyset.id);
        sql.push(")");
    }
    sql.push(format!(
        " ORDER BY {sort_expr} {direction}, u.id {direction} LIMIT "
    ));
    sql.push_bind(i64::from(limit) + 1);
    let mut rows: Vec<ReportRow> = sql
        .build_query_as::<RowRecord>()
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(ReportRow::from)
        .collect();
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, has_more))
}

/// Every row of the query in its sort order, read as the consumer pulls: memory stays flat
/// however many rows match. The stream owns what it needs, so it can outlive the request
/// handler that made it (an HTTP body, a mail attachment).
pub fn stream(
    pool: SqlitePool,
    scope: Scope,
    query: ReportQuery,
    now: DateTime<Utc>,
) -> impl Stream<Item = Result<ReportRow, sqlx::Error>> + Send + 'static {
    async_stream::try_stream! {
        let mut sql = QueryBuilder::<Sqlite>::new(SELECT_ROWS);
        push_conditions(&mut sql, scope, &query, now);
        let direction = match query.sort.direction {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        };
        let sort_expr = sort_expression(query.sort.field);
        sql.push(format!(" ORDER BY {sort_expr} {direction}, u.id {direction}"));
        let mut records = sql.build_query_as::<RowRecord>().fetch(&pool);
        while let Some(record) = records.try_next().await? {
            yield ReportRow::from(record);
        }
    }
}

/// How many rows match the query within the scope.
pub async fn count(
    pool: &SqlitePool,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // Joins only when the query looks at customer or profile columns: counting a million users
    // through two joins costs ten times what counting the users alone does.
    let touches =
        |fields: &[ReportField]| query.filters.iter().any(|f| fields.contains(&f.field()));
    let mut from = String::from("FROM users u");
    if !query.service_plans.is_empty()
        || touches(&[
            ReportField::GlobalCustomerId,
            ReportField::CustomerName,
            ReportField::AccountName,
        ])
    {
        from.push_str(" JOIN customers c ON c.id = u.customer_id");
    }
    if touches(&[ReportField::Profile]) {
        from.push_str(" JOIN profiles p ON p.id = u.profile_id");
    }
    if touches(&[ReportField::StorageRegion]) {
        from.push_str(" LEFT JOIN storage_regions sr ON sr.id = u.storage_region_id");
    }
    if touches(&[ReportField::Mapping]) {
        from.push_str(" LEFT JOIN mappings m ON m.id = u.mapping_id");
    }
    let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT COUNT(*) {from}"));
    push_conditions(&mut sql, scope, query, now);
    let total: i64 = sql.build_query_scalar().fetch_one(pool).await?;
    Ok(u64::try_from(total).unwrap_or(0))
}

/// The values of the enumerable fields with their counts, over every row in the scope.
pub async fn facets(pool: &SqlitePool, scope: Scope) -> Result<ReportFacets, sqlx::Error> {
    Ok(ReportFacets {
        service_plans: facet(pool, scope, "customer_id", "customers", "service_plan").await?,
        customers: facet(pool, scope, "customer_id", "customers", "name").await?,
        profiles: facet(pool, scope, "profile_id", "profiles", "name").await?,
        user_statuses: facet(pool, scope, "status", "", "").await?,
        endpoints_licenses: facet(pool, scope, "license", "", "").await?,
        managed_by: facet(pool, scope, "managed_by", "", "").await?,
    })
}

/// Counts users by `users_column` on its index, then, for a column of a small table (customers,
/// profiles), names the groups by joining the few counted ids rather than every user.
async fn facet(
    pool: &SqlitePool,
    scope: Scope,
    users_column: &'static str,
    named_by_table: &'static str,
    name_column: &'static str,
) -> Result<Vec<FacetValue>, sqlx::Error> {
    let scope_clause = match scope {
        Scope::AllCustomers => "",
        Scope::Customer(_) => " WHERE u.customer_id = ?",
    };
    let counted = format!(
        "SELECT u.{users_column} AS k, COUNT(*) AS n FROM users u{scope_clause} GROUP BY u.{users_column}"
    );
    let text = if named_by_table.is_empty() {
        format!("SELECT k, n FROM ({counted}) ORDER BY k")
    } else {
        format!(
            "SELECT t.{name_column}, SUM(x.n) FROM ({counted}) x \
             JOIN {named_by_table} t ON t.id = x.k GROUP BY t.{name_column} ORDER BY t.{name_column}"
        )
    };
    let mut sql = sqlx::query_as::<_, (String, i64)>(&text);
    if let Scope::Customer(customer_id) = scope {
        sql = sql.bind(customer_id);
    }
    let values = sql.fetch_all(pool).await?;
    Ok(values
        .into_iter()
        .map(|(value, count)| FacetValue {
            value,
            count: u64::try_from(count).unwrap_or(0),
        })
        .collect())
}

const SELECT_ROWS: &str = "SELECT u.id, c.global_id, c.name AS customer_name, c.account_name, \
     u.user_name, u.email, p.name AS profile, u.status, u.license, u.usage_mb, u.created_at, \
     u.managed_by, u.custom_attribute_name, u.custom_attribute_value, \
     sr.name AS storage_region, u.quota_gb, m.name AS mapping \
     FROM users u \
     JOIN customers c ON c.id = u.customer_id \
     JOIN profiles p ON p.id = u.profile_id \
     LEFT JOIN storage_regions sr ON sr.id = u.storage_region_id \
     LEFT JOIN mappings m ON m.id = u.mapping_id";

/// The SQL expression of a field. Only these fixed strings reach the SQL text; values are bound.
fn column(field: ReportField) -> &'static str {
    match field {
        ReportField::GlobalCustomerId => "c.global_id",
        ReportField::CustomerName => "c.name",
        ReportField::AccountName => "c.account_name",
        ReportField::UserName => "u.user_name",
        ReportField::UserEmail => "u.email",
        ReportField::Profile => "p.name",
        ReportField::UserStatus => "u.status",
        ReportField::EndpointsLicense => "u.license",
        ReportField::EndpointsUsageMb => "u.usage_mb",
        ReportField::CreatedOn => "u.created_at",
        ReportField::ManagedBy => "u.managed_by",
        ReportField::CustomAttributeName => "u.custom_attribute_name",
        ReportField::CustomAttributeValue => "u.custom_attribute_value",
        ReportField::StorageRegion => "COALESCE(sr.name, '')",
        // Unlimited (NULL) stands above every quota, as `ReportRow::number` says.
        ReportField::QuotaGb => "COALESCE(u.quota_gb, 2147483647)",
        ReportField::Mapping => "COALESCE(m.name, '')",
    }
}

/// People expect "acme" and "Acme" to sort together, so text sorts ignore ASCII case.
fn sort_expression(field: ReportField) -> String {
    match field.kind() {
        FieldKind::Text | FieldKind::Enum => format!("{} COLLATE NOCASE", column(field)),
        FieldKind::Number | FieldKind::Date => column(field).to_owned(),
    }
}

fn push_sort_value(sql: &mut QueryBuilder<'_, Sqlite>, value: &SortValue) {
    match value {
        SortValue::Text(text) => sql.push_bind(text.clone()),
        SortValue::Number(number) => sql.push_bind(*number),
    };
}

fn push_scope(sql: &mut QueryBuilder<'_, Sqlite>, scope: Scope) {
    match scope {
        Scope::AllCustomers => sql.push(" WHERE 1 = 1"),
        Scope::Customer(customer_id) => sql.push(" WHERE u.customer_id = ").push_bind(customer_id),
    };
}

fn push_conditions(
    sql: &mut QueryBuilder<'_, Sqlite>,
    scope: Scope,
    query: &ReportQuery,
    now: DateTime<Utc>,
) {
    push_scope(sql, scope);
    if !query.service_plans.is_empty() {
        sql.push(" AND c.service_plan IN (");
        let mut list = sql.separated(", ");
        for plan in &query.service_plans {
            list.push_bind(plan.clone());
        }
        sql.push(")");
    }
    for filter in &query.filters {
        sql.push(" AND ");
        push_filter(sql, filter, now);
    }
}

fn push_filter(sql: &mut QueryBuilder<'_, Sqlite>, filter: &Filter, now: DateTime<Utc>) {
    let column = column(filter.field());
    match (filter.operator(), filter.operand()) {
        (Operator::Contains, Operand::Text(text)) => {
            sql.push(format!("{column} LIKE '%' || "))
                .push_bind(escape_like(text))
                .push(" || '%' ESCAPE '\\'");
        }
        (Operator::StartsWith, Operand::Text(text)) => {
            sql.push(format!("{column} LIKE "))
                .push_bind(escape_like(text))
                .push(" || '%' ESCAPE '\\'");
        }
        (Operator::Equals, Operand::Text(text)) => {
            sql.push(format!("{column} = "))
                .push_bind(text.clone())
                .push(" COLLATE NOCASE");
        }
        (Operator::IsEmpty, _) => {
            sql.push(format!("{column} = ''"));
        }
        (Operator::AnyOf, Operand::Texts(values)) => {
            sql.push(format!("{column} COLLATE NOCASE IN ("));
            let mut list = sql.separated(", ");
            for value in values {
                list.push_bind(value.clone());
            }
            sql.push(")");
        }
        (Operator::Eq, Operand::Number(n)) => {
            sql.push(format!("{column} = ")).push_bind(*n);
        }
        (Operator::Lt, Operand::Number(n)) => {
            sql.push(format!("{column} < ")).push_bind(*n);
        }
        (Operator::Gt, Operand::Number(n)) => {
            sql.push(format!("{column} > ")).push_bind(*n);
        }
        (Operator::Between, Operand::NumberRange(low, high)) => {
            sql.push(format!("{column} BETWEEN "))
                .push_bind(*low)
                .push(" AND ")
                .push_bind(*high);
        }
        // Days are UTC days: "before D" ends where D starts, "after D" starts where D+1 starts.
        (Operator::Before, Operand::Date(day)) => {
            sql.push(format!("{column} < ")).push_bind(day_start(*day));
        }
        (Operator::After, Operand::Date(day)) => {
            sql.push(format!("{column} >= "))
                .push_bind(day_start(next_day(*day)));
        }
        (Operator::Between, Operand::DateRange(from, to)) => {
            sql.push(format!("{column} >= "))
                .push_bind(day_start(*from))
                .push(format!(" AND {column} < "))
                .push_bind(day_start(next_day(*to)));
        }
        (Operator::InLastDays, Operand::Days(days)) => {
            let since = now - chrono::Duration::days(i64::from(*days));
            sql.push(format!("{column} >= "))
                .push_bind(since.to_rfc3339_opts(SecondsFormat::Secs, true));
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

#[derive(sqlx::FromRow)]
struct RowRecord {
    id: i64,
    global_id: String,
    customer_name: String,
    account_name: String,
    user_name: String,
    email: String,
    profile: String,
    status: String,
    license: String,
    usage_mb: i64,
    created_at: DateTime<Utc>,
    managed_by: String,
    custom_attribute_name: String,
    custom_attribute_value: String,
    storage_region: Option<String>,
    quota_gb: Option<i64>,
    mapping: Option<String>,
}

impl From<RowRecord> for ReportRow {
    fn from(record: RowRecord) -> Self {
        let non_empty = |text: String| (!text.is_empty()).then_some(text);
        ReportRow {
            id: record.id,
            global_customer_id: record.global_id,
            customer_name: record.customer_name,
            account_name: record.account_name,
            user_name: record.user_name,
            user_email: record.email,
            profile: record.profile,
            user_status: record.status,
            endpoints_license: record.license,
            endpoints_usage_mb: record.usage_mb,
            created_on: record.created_at,
            managed_by: record.managed_by,
            custom_attribute_name: non_empty(record.custom_attribute_name),
            custom_attribute_value: non_empty(record.custom_attribute_value),
            storage_region: record.storage_region,
            quota_gb: record.quota_gb.and_then(|q| u32::try_from(q).ok()),
            mapping: record.mapping,
        }
    }
}
