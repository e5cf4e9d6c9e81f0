//! Customers as admin screens list them.

use provisio_api::auth::CustomerRef;
use provisio_api::scim::CustomAttributeSetting;

use super::{on_backend, Dialect, Executor, Pool, Scope};

pub async fn list(pool: &Pool, scope: Scope) -> Result<Vec<CustomerRef>, sqlx::Error> {
    let order = pool.dialect().binary("name");
    let rows: Vec<(i64, String, String)> = on_backend!(pool, |connection| {
        let mut sql = sqlx::QueryBuilder::new("SELECT id, global_id, name FROM customers");
        if let Scope::Customer(id) = scope {
            sql.push(" WHERE id = ").push_bind(id);
        }
        sql.push(format!(" ORDER BY {order}, id"));
        sql.build_query_as().fetch_all(connection).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, global_id, name)| CustomerRef {
            id,
            global_id,
            name,
        })
        .collect())
}

pub async fn find(pool: &Pool, scope: Scope, id: i64) -> Result<Option<CustomerRef>, sqlx::Error> {
    Ok(list(pool, scope).await?.into_iter().find(|c| c.id == id))
}

pub async fn find_by_global_id(
    pool: &Pool,
    global_id: &str,
) -> Result<Option<CustomerRef>, sqlx::Error> {
    let row: Option<(i64, String, String)> = on_backend!(pool, |connection| sqlx::query_as(
        "SELECT id, global_id, name FROM customers WHERE global_id = $1",
    )
    .bind(global_id)
    .fetch_optional(connection)
    .await?);
    Ok(row.map(|(id, global_id, name)| CustomerRef {
        id,
        global_id,
        name,
    }))
}

/// Whose rows a scope holds, in words for file names and messages: the customer's name, or
/// all customers.
pub async fn label(pool: &Pool, scope: Scope) -> Result<String, sqlx::Error> {
    Ok(match scope {
        Scope::AllCustomers => "all customers".to_owned(),
        Scope::Customer(id) => find(pool, scope, id)
            .await?
            .map(|customer| customer.name)
            .unwrap_or_else(|| format!("customer {id}")),
    })
}

/// The customer's User-Identifier Custom Attribute setting.
pub async fn custom_attribute(
    pool: &Pool,
    customer_id: i64,
) -> Result<CustomAttributeSetting, sqlx::Error> {
    let (attribute, shown): (Option<String>, bool) = on_backend!(pool, |connection| {
        sqlx::query_as(
            "SELECT custom_attribute, custom_attribute_shown FROM customers WHERE id = $1",
        )
        .bind(customer_id)
        .fetch_one(connection)
        .await?
    });
    Ok(CustomAttributeSetting { attribute, shown })
}

/// Sets the customer's custom attribute and refills it on every SCIM user of theirs, in the
/// caller's transaction; how many users changed.
pub async fn set_custom_attribute<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    setting: &CustomAttributeSetting,
) -> Result<u64, sqlx::Error> {
    // Without a setting SCIM fills nothing, so what SCIM filled before is emptied.
    let refill = if setting.attribute.is_some() {
        "UPDATE users SET custom_attribute_name = a.name, custom_attribute_value = a.value \
         FROM scim_custom_attributes a WHERE a.id = users.id AND users.customer_id = $1 \
         AND (users.custom_attribute_name, users.custom_attribute_value) \
             IS DISTINCT FROM (a.name, a.value)"
    } else {
        "UPDATE users SET custom_attribute_name = '', custom_attribute_value = '' \
         WHERE customer_id = $1 AND scim_id IS NOT NULL \
         AND (custom_attribute_name <> '' OR custom_attribute_value <> '')"
    };
    let changed = on_backend!(executor, |connection| {
        sqlx::query(
            "UPDATE customers SET custom_attribute = $1, custom_attribute_shown = $2 \
             WHERE id = $3",
        )
        .bind(&setting.attribute)
        .bind(setting.shown)
        .bind(customer_id)
        .execute(&mut *connection)
        .await?;
        sqlx::query(refill)
            .bind(customer_id)
            .execute(connection)
            .await?
            .rows_affected()
    });
    Ok(changed)
}

/// Makes the caller's transaction the only one changing what belongs to the customer (its
/// mappings and their order, its SCIM tokens) until it ends. PostgreSQL checks a condition
/// such as "fewer than two active tokens" against the rows as they were when the statement
/// began, so two transactions could each pass it; locking the customer's row first makes
/// the second wait for the first and see what it wrote. SQLite's writers already take turns.
pub async fn lock<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<(), sqlx::Error> {
    let executor = executor.into();
    if executor.dialect() == Dialect::Sqlite {
        return Ok(());
    }
    let _locked: Option<i64> = on_backend!(executor, |connection| sqlx::query_scalar(
        "SELECT id FROM customers WHERE id = $1 FOR UPDATE"
    )
    .bind(customer_id)
    .fetch_optional(connection)
    .await?);
    Ok(())
}
