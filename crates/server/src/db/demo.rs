//! Writes generated demo data (see [`crate::demo`]) into the database.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::demo::{DemoCustomer, DemoUser};

/// True when the database holds no customers yet, i.e. on first start.
pub async fn is_empty(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(pool)
        .await?;
    Ok(customers == 0)
}

/// Inserts customers with their profiles and regions; returns, per customer, its row id and
/// the row ids of its profiles and regions, in the order given.
pub async fn insert_customers(
    pool: &SqlitePool,
    customers: &[DemoCustomer],
) -> Result<Vec<CustomerIds>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(customers.len());
    for customer in customers {
        let customer_id: i64 = sqlx::query_scalar(
            "INSERT INTO customers (global_id, name, account_name, service_plan, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&customer.global_id)
        .bind(&customer.name)
        .bind(&customer.account_name)
        .bind(customer.service_plan)
        .bind(&customer.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let mut profile_ids = Vec::new();
        for profile in &customer.profiles {
            profile_ids.push(
                sqlx::query_scalar(
                    "INSERT INTO profiles (customer_id, name) VALUES (?, ?) RETURNING id",
                )
                .bind(customer_id)
                .bind(profile)
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        let mut region_ids = Vec::new();
        for region in &customer.storage_regions {
            region_ids.push(
                sqlx::query_scalar(
                    "INSERT INTO storage_regions (customer_id, name) VALUES (?, ?) RETURNING id",
                )
                .bind(customer_id)
                .bind(region)
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        ids.push(CustomerIds {
            customer_id,
            profile_ids,
            region_ids,
        });
    }
    tx.commit().await?;
    Ok(ids)
}

/// Row ids of a customer and of its profiles and storage regions.
pub struct CustomerIds {
    pub customer_id: i64,
    pub profile_ids: Vec<i64>,
    pub region_ids: Vec<i64>,
}

/// Rows per INSERT statement: 12 bound values each stays under SQLite's variable limit.
const USERS_PER_STATEMENT: usize = 2000;

/// Inserts users in one transaction, many rows per statement.
pub async fn insert_users(
    pool: &SqlitePool,
    customers: &[CustomerIds],
    users: impl Iterator<Item = DemoUser>,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut inserted = 0u64;
    let mut batch = Vec::with_capacity(USERS_PER_STATEMENT);
    let mut users = users.peekable();
    while users.peek().is_some() {
        batch.clear();
        batch.extend(users.by_ref().take(USERS_PER_STATEMENT));
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO users (customer_id, user_name, email, profile_id, storage_region_id, \
             status, license, usage_mb, created_at, managed_by, custom_attribute_name, \
             custom_attribute_value) ",
        );
        sql.push_values(&batch, |mut row, user| {
            let ids = &customers[user.customer];
            row.push_bind(ids.customer_id)
                .push_bind(&user.user_name)
                .push_bind(&user.email)
                .push_bind(ids.profile_ids[user.profile])
                .push_bind(ids.region_ids[user.storage_region])
                .push_bind(user.status)
                .push_bind(user.license)
                .push_bind(user.usage_mb)
                .push_bind(&user.created_at)
                .push_bind(user.managed_by)
                .push_bind(&user.custom_attribute_name)
                .push_bind(&user.custom_attribute_value);
        });
        inserted += sql.build().execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}
