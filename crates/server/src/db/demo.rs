//! Writes generated demo data (see [`crate::demo`]) into the database.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::demo::{DemoCustomer, DemoUser};

/// True when the database holds no customers yet, i.e. on first start.
pub async fn is_empty(pool: &super::Pool) -> Result<bool, sqlx::Error> {
    let customers: i64 = super::on_backend!(pool, |connection| sqlx::query_scalar(
        "SELECT COUNT(*) FROM customers"
    )
    .fetch_one(connection)
    .await?);
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

/// The row ids of the customer with this global id, its profiles and regions in row order
/// (the order they were given).
pub async fn customer_ids(
    conn: &mut SqliteConnection,
    global_id: &str,
) -> Result<Option<CustomerIds>, sqlx::Error> {
    let Some(customer_id): Option<i64> =
        sqlx::query_scalar("SELECT id FROM customers WHERE global_id = ?")
            .bind(global_id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let profile_ids =
        sqlx::query_scalar("SELECT id FROM profiles WHERE customer_id = ? ORDER BY id")
            .bind(customer_id)
            .fetch_all(&mut *conn)
            .await?;
    let region_ids =
        sqlx::query_scalar("SELECT id FROM storage_regions WHERE customer_id = ? ORDER BY id")
            .bind(customer_id)
            .fetch_all(conn)
            .await?;
    Ok(Some(CustomerIds {
        customer_id,
        profile_ids,
        region_ids,
    }))
}

/// Row ids of a customer and of its profiles and storage regions.
pub struct CustomerIds {
    pub customer_id: i64,
    pub profile_ids: Vec<i64>,
    pub region_ids: Vec<i64>,
}

/// Rows per INSERT statement: 18 bound values each stays under SQLite's variable limit.
const USERS_PER_STATEMENT: usize = 1500;

/// Inserts users in one transaction, many rows per statement, with the names the report reads
/// from the user row already filled in (so the trigger that fills them has nothing to do).
pub async fn insert_users(
    pool: &SqlitePool,
    demo_customers: &[DemoCustomer],
    customers: &[CustomerIds],
    users: impl Iterator<Item = DemoUser>,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let load = BulkLoad::begin(&mut tx).await?;
    let mut inserted = 0u64;
    let mut batch = Vec::with_capacity(USERS_PER_STATEMENT);
    let mut users = users.peekable();
    while users.peek().is_some() {
        batch.clear();
        batch.extend(users.by_ref().take(USERS_PER_STATEMENT));
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO users (customer_id, user_name, email, profile_id, storage_region_id, \
             status, license, usage_mb, created_at, managed_by, custom_attribute_name, \
             custom_attribute_value, customer_global_id, customer_name, customer_account_name, \
             customer_service_plan, profile_name, storage_region_name) ",
        );
        sql.push_values(&batch, |mut row, user| {
            let ids = &customers[user.customer];
            let customer = &demo_customers[user.customer];
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
                .push_bind(&user.custom_attribute_value)
                .push_bind(&customer.global_id)
                .push_bind(&customer.name)
                .push_bind(&customer.account_name)
                .push_bind(customer.service_plan)
                .push_bind(customer.profiles[user.profile])
                .push_bind(customer.storage_regions[user.storage_region]);
        });
        inserted += sql.build().execute(&mut *tx).await?.rows_affected();
    }
    load.finish(&mut tx).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// A load of many users: the indexes of `users` are dropped first and built again after it,
/// since building an index once over sorted rows costs a fraction of updating it a million
/// times; the substring search index likewise is filled once, not row by row by its trigger
/// (seconds at a million users, against minutes).
struct BulkLoad {
    indexes: Vec<String>,
    search_trigger: String,
    loaded_after: i64,
}

impl BulkLoad {
    async fn begin(conn: &mut SqliteConnection) -> Result<BulkLoad, sqlx::Error> {
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX \"{name}\""))
                .execute(&mut *conn)
                .await?;
        }
        let search_trigger: String = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'users_search_insert'",
        )
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("DROP TRIGGER users_search_insert")
            .execute(&mut *conn)
            .await?;
        let loaded_after = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM users")
            .fetch_one(&mut *conn)
            .await?;
        Ok(BulkLoad {
            indexes: indexes
                .into_iter()
                .map(|(_, definition)| definition)
                .collect(),
            search_trigger,
            loaded_after,
        })
    }

    async fn finish(self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        for definition in &self.indexes {
            sqlx::query(definition).execute(&mut *conn).await?;
        }
        sqlx::query(
            "INSERT INTO users_search (rowid, user_name, email, custom_attribute_value) \
             SELECT id, lower(user_name), lower(email), lower(custom_attribute_value) FROM users \
             WHERE id > ?",
        )
        .bind(self.loaded_after)
        .execute(&mut *conn)
        .await?;
        sqlx::query(&self.search_trigger).execute(conn).await?;
        Ok(())
    }
}

/// Makes the customer's users that `identity_provider` manages SCIM resources, as if it had
/// pushed them: SCIM ids, names, and directory attributes (department, title, a few guests,
/// the work address of their storage region). Their department is the custom attribute's
/// value when the customer's custom attribute is the department.
pub async fn provision_scim_users(
    conn: &mut SqliteConnection,
    customer_id: i64,
    identity_provider: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET \
           scim_id = (SELECT substr(global_id, 1, 24) FROM customers c WHERE c.id = customer_id) \
                     || printf('%012x', id), \
           external_id = printf('%08x-0000-4000-8000-%012x', customer_id, id), \
           scim_user_name = email, scim_display_name = user_name, \
           given_name = substr(user_name, 1, instr(user_name, ' ') - 1), \
           family_name = substr(user_name, instr(user_name, ' ') + 1), \
           email_type = 'work', email_primary = 1, updated_at = created_at, \
           scim_attributes = json_object( \
             'department', CASE WHEN custom_attribute_name = 'department' \
               THEN custom_attribute_value \
               ELSE json_extract('[\"Finance\",\"Sales\",\"Engineering\",\"HR\",\"Legal\",\"Operations\",\"Marketing\"]', \
                                 '$[' || (id % 7) || ']') END, \
             'title', json_extract('[\"Analyst\",\"Manager\",\"Specialist\",\"Director\",\"Associate\"]', \
                                   '$[' || (id % 5) || ']'), \
             'userType', CASE WHEN id % 31 = 0 THEN 'Guest' ELSE 'Member' END, \
             'addresses.type', 'work', \
             'locality', CASE (SELECT name FROM storage_regions r WHERE r.id = storage_region_id) \
               WHEN 'US East (N. Virginia)' THEN 'New York' WHEN 'US West (Oregon)' THEN 'Seattle' \
               WHEN 'EU (Frankfurt)' THEN 'Frankfurt' WHEN 'EU (Ireland)' THEN 'Dublin' \
               WHEN 'Asia Pacific (Sydney)' THEN 'Sydney' ELSE 'Toronto' END, \
             'country', CASE (SELECT name FROM storage_regions r WHERE r.id = storage_region_id) \
               WHEN 'EU (Frankfurt)' THEN 'DE' WHEN 'EU (Ireland)' THEN 'IE' \
               WHEN 'Asia Pacific (Sydney)' THEN 'AU' WHEN 'Canada (Central)' THEN 'CA' \
               ELSE 'US' END) \
         WHERE customer_id = ? AND managed_by = ? AND +scim_id IS NULL",
    )
    .bind(customer_id)
    .bind(identity_provider)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds a SCIM group of the customer whose members are its SCIM users with this
/// department (and, when given, country).
pub async fn insert_group(
    conn: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    name: &str,
    department: &str,
    country: Option<&str>,
    at: &str,
) -> Result<(), sqlx::Error> {
    let group_id: i64 = sqlx::query_scalar(
        "INSERT INTO scim_groups (customer_id, scim_id, display_name, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(customer_id)
    .bind(scim_id)
    .bind(name)
    .bind(at)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO scim_group_members (group_id, user_id) \
         SELECT ?, id FROM users WHERE customer_id = ? AND +scim_id IS NOT NULL \
         AND json_extract(scim_attributes, '$.department') = ? \
         AND (? IS NULL OR json_extract(scim_attributes, '$.country') = ?)",
    )
    .bind(group_id)
    .bind(customer_id)
    .bind(department)
    .bind(country)
    .bind(country)
    .execute(conn)
    .await?;
    Ok(())
}

/// A demo SCIM token; its secret is random and never shown, so no one can use it.
pub async fn insert_token(
    conn: &mut SqliteConnection,
    customer_id: i64,
    name: &str,
    identity_provider: &str,
    created_at: &str,
    expires_at: &str,
) -> Result<i64, sqlx::Error> {
    let secret = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query_scalar(
        "INSERT INTO scim_tokens (customer_id, name, identity_provider, prefix, token_hash, \
         created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 'demo', ?, ?) RETURNING id",
    )
    .bind(customer_id)
    .bind(name)
    .bind(identity_provider)
    .bind(format!("pvs_{}", &secret[..8]))
    .bind(crate::auth::hash_token(&secret))
    .bind(created_at)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// A SCIM user as the demo log names them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScimIdentity {
    pub id: i64,
    pub scim_id: String,
    pub external_id: Option<String>,
    pub email: String,
    pub user_name: String,
}

/// Up to `limit` of the customer's SCIM users.
pub async fn scim_identities(
    conn: &mut SqliteConnection,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<ScimIdentity>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, scim_id, external_id, email, user_name FROM users \
         WHERE customer_id = ? AND scim_id IS NOT NULL ORDER BY id LIMIT ?",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// One made-up provisioning event.
pub struct DemoEvent {
    pub at: String,
    pub customer_id: i64,
    pub token_id: i64,
    pub action: &'static str,
    pub outcome: &'static str,
    pub identity: String,
    pub user: Option<ScimIdentity>,
    pub changes: String,
    pub error: Option<&'static str>,
    pub error_code: Option<&'static str>,
    pub http_status: Option<u16>,
    pub request_id: String,
    pub duration_ms: i64,
    pub client_address: &'static str,
}

pub async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[DemoEvent],
) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(500) {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO provisioning_events (at, customer_id, token_id, action, kind, outcome, \
             identity, source_id, target_id, changes, error, error_code, http_status, request_id, \
             duration_ms, client_address, user_id) ",
        );
        sql.push_values(chunk, |mut row, e| {
            row.push_bind(&e.at)
                .push_bind(e.customer_id)
                .push_bind(e.token_id)
                .push_bind(e.action)
                .push_bind(super::provisioning::kind_of(e.action).key())
                .push_bind(e.outcome)
                .push_bind(&e.identity)
                .push_bind(e.user.as_ref().and_then(|u| u.external_id.clone()))
                .push_bind(e.user.as_ref().map(|u| u.scim_id.clone()))
                .push_bind(&e.changes)
                .push_bind(e.error)
                .push_bind(e.error_code)
                .push_bind(e.http_status)
                .push_bind(&e.request_id)
                .push_bind(e.duration_ms)
                .push_bind(e.client_address)
                .push_bind(e.user.as_ref().map(|u| u.id));
        });
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records the demo token's last use as its last accepted request in the demo log.
pub async fn touch_token(conn: &mut SqliteConnection, token_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE scim_tokens SET (last_used_at, last_used_address) =          (SELECT at, client_address FROM provisioning_events           WHERE token_id = ?1 AND http_status IS NOT 401 ORDER BY at DESC LIMIT 1)          WHERE id = ?1",
    )
    .bind(token_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Dates the mappings' first placement of the demo users back to `at`, when the demo
/// customers were onboarded, so the log's recent days show the identity providers' traffic.
pub async fn backdate_first_placements(
    conn: &mut SqliteConnection,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE provisioning_events SET at = ? \
         WHERE action = 'place' AND token_id IS NULL AND admin_email IS NULL",
    )
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
