//! PostgreSQL's schema against SQLite's, and `copy-database` from a seeded SQLite database into
//! a fresh database on the test cluster.

use provisio_api::report::{ReportField, ReportQuery, ReportRow};
use provisio_server::db;
use provisio_server::db::copy::{layout_difference, postgres_layout, sqlite_layout, CopyError};
use provisio_server::db::report::{self, Keyset, PageRequest};
use provisio_server::db::Scope;
use provisio_testkit::{postgres, Failure, SeededDatabase};
use sqlx::{PgPool, SqlitePool};

type Rows = Vec<Vec<Option<String>>>;

/// Every table's rows as text, sorted (booleans as 0 and 1, as SQLite keeps them).
async fn sqlite_contents(pool: &SqlitePool, table: &str, columns: &[String]) -> Rows {
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
        .collect();
    let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
    let mut rows = fetch_text(sqlx::query(&sql).fetch_all(pool).await, columns.len());
    rows.sort();
    rows
}

async fn postgres_contents(pool: &PgPool, table: &str, columns: &[String]) -> Rows {
    let select: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "CASE WHEN pg_typeof(\"{c}\") = 'boolean'::regtype \
                 THEN (\"{c}\"::text::boolean)::int::text ELSE \"{c}\"::text END"
            )
        })
        .collect();
    let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
    let mut rows = fetch_text(sqlx::query(&sql).fetch_all(pool).await, columns.len());
    rows.sort();
    rows
}

fn fetch_text<R: sqlx::Row>(rows: Result<Vec<R>, sqlx::Error>, width: usize) -> Rows
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let rows = rows.expect("rows");
    rows.iter()
        .map(|row| {
            (0..width)
                .map(|i| {
                    let cell = row.try_get::<Option<String>, _>(i).expect("a text cell");
                    cell.map(|text| same_json_spelling(&text))
                })
                .collect()
        })
        .collect()
}

/// JSON as one spelling (PostgreSQL's JSONB prints it with spaces, SQLite keeps what was
/// written); other text as it is.
fn same_json_spelling(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => json.to_string(),
        _ => text.to_owned(),
    }
}

async fn fresh_postgres() -> Result<PgPool, Failure> {
    Ok(db::postgres::connect(&postgres::fresh_database().await?).await?)
}

/// Every table with its columns in a fixed order.
async fn tables(pool: &SqlitePool) -> Result<Vec<(String, Vec<String>)>, Failure> {
    let mut connection = pool.acquire().await?;
    let layout = sqlite_layout(&mut connection).await?;
    Ok(layout
        .into_iter()
        .map(|(table, columns)| (table, columns.into_iter().collect()))
        .collect())
}

#[tokio::test]
async fn the_postgres_schema_has_every_table_and_column_of_sqlite() -> Result<(), Failure> {
    let seeded = SeededDatabase::new(0).await?;
    let postgres = fresh_postgres().await?;
    let sqlite = sqlite_layout(&mut *seeded.pool.acquire().await?).await?;
    let other = postgres_layout(&mut *postgres.acquire().await?).await?;
    assert_eq!(layout_difference(&sqlite, &other), None);
    assert!(sqlite.contains_key("users") && sqlite.contains_key("user_counts"));
    Ok(())
}

#[tokio::test]
async fn a_copied_demo_database_holds_the_same_rows_and_keeps_them_right() -> Result<(), Failure> {
    let seeded = SeededDatabase::new(3_000).await?;
    let postgres = fresh_postgres().await?;
    let copied = db::copy::copy(&seeded.pool, &postgres).await?;
    assert!(copied.iter().any(|t| t.table == "users" && t.rows == 3_000));

    for (table, columns) in tables(&seeded.pool).await? {
        assert_eq!(
            sqlite_contents(&seeded.pool, &table, &columns).await,
            postgres_contents(&postgres, &table, &columns).await,
            "{table}"
        );
    }

    // The same writes on both: PostgreSQL's triggers keep the derived data as SQLite's do, and
    // new ids continue after the copied ones.
    let writes = [
        "UPDATE customers SET name = name || ' Renamed' WHERE id IN (SELECT MIN(id) FROM customers)",
        "UPDATE profiles SET name = 'Renamed profile' WHERE id IN (SELECT MIN(id) FROM profiles)",
        "UPDATE users SET status = 'Preserved', license = 'preserved' \
         WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 50)",
        // A user provisioned over SCIM, its customer's custom attribute, a group with it.
        "UPDATE users SET scim_id = 'scim-1', scim_user_name = user_name, \
         scim_attributes = '{\"department\":\"Sales\"}' WHERE id = (SELECT MAX(id) FROM users)",
        "UPDATE customers SET custom_attribute = 'department' \
         WHERE id = (SELECT customer_id FROM users WHERE scim_id = 'scim-1')",
        "UPDATE users SET scim_attributes = '{\"department\":\"Legal\"}' WHERE scim_id = 'scim-1'",
        "INSERT INTO scim_groups (customer_id, scim_id, display_name, created_at, updated_at) \
         SELECT customer_id, 'group-1', 'Group One', '2026-11-25T00:00:00Z', \
             '2026-11-25T00:00:00Z' FROM users WHERE scim_id = 'scim-1'",
        "INSERT INTO scim_group_members (group_id, user_id) \
         SELECT g.id, u.id FROM scim_groups g, users u \
         WHERE g.scim_id = 'group-1' AND u.scim_id = 'scim-1'",
        "UPDATE scim_groups SET scim_id = 'group-1b' WHERE scim_id = 'group-1'",
        "DELETE FROM scim_group_members",
        "INSERT INTO users (customer_id, user_name, email, profile_id, status, license, created_at) \
         SELECT customer_id, 'New Person', 'new.person@example.com', id, 'Pending', '-', \
             '2026-11-25T00:00:00Z' FROM profiles WHERE id IN (SELECT MAX(id) FROM profiles)",
        "DELETE FROM users WHERE id = (SELECT MIN(id) FROM users)",
    ];
    for sql in writes {
        sqlx::query(sql).execute(&seeded.pool).await?;
        sqlx::query(sql).execute(&postgres).await?;
    }
    for table in ["users", "user_counts", "population_versions", "scim_groups"] {
        let columns = tables(&seeded.pool)
            .await?
            .into_iter()
            .find(|(name, _)| name == table)
            .map(|(_, columns)| columns)
            .unwrap_or_default();
        assert_eq!(
            sqlite_contents(&seeded.pool, table, &columns).await,
            postgres_contents(&postgres, table, &columns).await,
            "{table} after the same writes"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_database_that_is_not_empty_is_refused_and_left_as_it_was() -> Result<(), Failure> {
    let seeded = SeededDatabase::new(100).await?;
    let postgres = fresh_postgres().await?;
    db::copy::copy(&seeded.pool, &postgres).await?;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&postgres)
        .await?;
    match db::copy::copy(&seeded.pool, &postgres).await {
        Err(CopyError::TargetNotEmpty { table, rows }) => assert!(rows > 0, "{table}"),
        other => panic!("a second copy: {other:?}"),
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&postgres)
        .await?;
    assert_eq!((before, after), (100, 100));
    Ok(())
}

/// Every page of `query` on `pool`, by keyset, read as the report API reads them.
async fn every_page(pool: &db::Pool, query: &ReportQuery, scope: Scope) -> (u64, Vec<ReportRow>) {
    let now = chrono::Utc::now();
    let total = report::count(pool, scope, query, now).await.expect("total");
    let plan = report::plan(pool, scope, query, total, 25, now)
        .await
        .expect("plan");
    let mut after = None;
    let mut rows = Vec::new();
    loop {
        let request = PageRequest {
            scope,
            query,
            plan,
            after: after.as_ref(),
            limit: 25,
            now,
        };
        let (page, more) = report::page(pool, request).await.expect("a page");
        after = page
            .last()
            .map(|row| Keyset::of(row, query.sort.field, plan));
        rows.extend(page);
        if !more {
            return (total, rows);
        }
    }
}

#[tokio::test]
async fn a_copied_database_answers_every_sort_and_filter_as_sqlite_does() -> Result<(), Failure> {
    let seeded = SeededDatabase::new(400).await?;
    let postgres = db::Pool::from(fresh_postgres().await?);
    db::copy::copy(
        &seeded.pool,
        match &postgres {
            db::Pool::Postgres(pool) => pool,
            db::Pool::Sqlite(_) => return Err("not PostgreSQL".into()),
        },
    )
    .await?;
    // Names that differ only in case, and text past ASCII, where collations disagree.
    for sql in [
        "UPDATE users SET user_name = 'alice Ärger' WHERE id % 7 = 0",
        "UPDATE users SET user_name = 'Alice ärger' WHERE id % 11 = 0",
        "UPDATE users SET user_name = 'ALICE zed' WHERE id % 13 = 0",
    ] {
        sqlx::query(sql).execute(&seeded.pool).await?;
        match &postgres {
            db::Pool::Postgres(pool) => sqlx::query(sql).execute(pool).await?,
            db::Pool::Sqlite(_) => return Err("not PostgreSQL".into()),
        };
    }
    let sqlite = db::Pool::from(&seeded.pool);
    let filters = [
        "",
        "filter=user_status.any_of%3AActive",
        "filter=user_name.contains%3Aalice",
        "filter=user_name.starts_with%3AALI",
        "filter=user_email.contains%3Ae",
        "filter=endpoints_usage_mb.gt%3A1000",
        "filter=created_on.in_last_days%3A400",
        "filter=custom_attribute_value.is_empty%3A",
        "filter=customer_name.equals%3Anorthwind%20traders",
        "filter=user_status.any_of%3Apending&filter=endpoints_usage_mb.lt%3A5000",
    ];
    let customer: i64 = sqlx::query_scalar("SELECT MIN(id) FROM customers")
        .fetch_one(&seeded.pool)
        .await?;
    for field in ReportField::ALL {
        for direction in ["", "-"] {
            for filter in filters {
                let sort = format!("sort={direction}{}", field.key());
                let text = [filter, &sort]
                    .iter()
                    .filter(|part| !part.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("&");
                let query = ReportQuery::from_query_string(&text)
                    .map_err(|err| format!("{text}: {err:?}"))?;
                for scope in [Scope::AllCustomers, Scope::Customer(customer)] {
                    let (sqlite_total, sqlite_rows) = every_page(&sqlite, &query, scope).await;
                    let (postgres_total, postgres_rows) =
                        every_page(&postgres, &query, scope).await;
                    assert_eq!(sqlite_total, postgres_total, "{text} {scope:?}: totals");
                    assert_eq!(sqlite_rows, postgres_rows, "{text} {scope:?}: rows");
                }
            }
        }
    }
    let (facets_sqlite, facets_postgres) = (
        report::facets(&sqlite, Scope::AllCustomers).await?,
        report::facets(&postgres, Scope::AllCustomers).await?,
    );
    assert_eq!(facets_sqlite, facets_postgres);
    Ok(())
}
