//! Customers as admin screens list them.

use provisio_api::auth::CustomerRef;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::Scope;

pub async fn list(pool: &SqlitePool, scope: Scope) -> Result<Vec<CustomerRef>, sqlx::Error> {
    let mut sql = QueryBuilder::<Sqlite>::new("SELECT id, global_id, name FROM customers");
    if let Scope::Customer(id) = scope {
        sql.push(" WHERE id = ").push_bind(id);
    }
    sql.push(" ORDER BY name");
    let rows: Vec<(i64, String, String)> = sql.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(id, global_id, name)| CustomerRef {
            id,
            global_id,
            name,
        })
        .collect())
}

pub async fn find(
    pool: &SqlitePool,
    scope: Scope,
    id: i64,
) -> Result<Option<CustomerRef>, sqlx::Error> {
    Ok(list(pool, scope).await?.into_iter().find(|c| c.id == id))
}

pub async fn find_by_global_id(
    pool: &SqlitePool,
    global_id: &str,
) -> Result<Option<CustomerRef>, sqlx::Error> {
    sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, global_id, name FROM customers WHERE global_id = ?",
    )
    .bind(global_id)
    .fetch_optional(pool)
    .await
    .map(|row| {
        row.map(|(id, global_id, name)| CustomerRef {
            id,
            global_id,
            name,
        })
    })
}

/// Whose rows a scope holds, in words for file names and messages: the customer's name, or
/// all customers.
pub async fn label(pool: &SqlitePool, scope: Scope) -> Result<String, sqlx::Error> {
    Ok(match scope {
        Scope::AllCustomers => "all customers".to_owned(),
        Scope::Customer(id) => find(pool, scope, id)
            .await?
            .map(|customer| customer.name)
            .unwrap_or_else(|| format!("customer {id}")),
    })
}
