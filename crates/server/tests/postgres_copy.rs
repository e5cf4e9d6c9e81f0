//! PostgreSQL's schema against SQLite's, and `copy-database` from a seeded SQLite database into
//! a fresh database on the test cluster.

use provisio_server::db;
use provisio_server::db::copy::{layout_difference, postgres_layout, sqlite_layout, CopyError};
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
                .map(|i| row.try_get::<Option<String>, _>(i).expect("a text cell"))
                .collect()
        })
        .collect()
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
