//! Listing SCIM resources: conditions built from SCIM `filter` expressions (fixed SQL with every
//! value bound, so a filter can never inject SQL), and the paged, customer-scoped queries.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder};

use super::{on_backend, Dialect, Engine, Executor, Pool};

/// The user attributes a filter may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAttribute {
    UserName,
    ExternalId,
    DisplayName,
    Id,
    Email,
}

/// The group attributes a filter may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAttribute {
    DisplayName,
    ExternalId,
    Id,
}

impl UserAttribute {
    fn column(self) -> &'static str {
        match self {
            UserAttribute::UserName => "u.scim_user_name",
            UserAttribute::ExternalId => "u.external_id",
            UserAttribute::DisplayName => "u.scim_display_name",
            UserAttribute::Id => "u.scim_id",
            UserAttribute::Email => "u.email",
        }
    }
}

impl GroupAttribute {
    fn column(self) -> &'static str {
        match self {
            GroupAttribute::DisplayName => "g.display_name",
            GroupAttribute::ExternalId => "g.external_id",
            GroupAttribute::Id => "g.scim_id",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A user attribute equals the value, case-insensitively.
    User(UserAttribute, String),
    /// A group attribute equals the value, case-insensitively.
    Group(GroupAttribute, String),
    /// A user's `active`.
    Active(bool),
    /// A group has the user with this SCIM id as a member.
    HasMember(String),
    And(Box<Condition>, Box<Condition>),
}

fn push_condition<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, condition: &Condition) {
    match condition {
        Condition::User(attribute, value) => push_equals(sql, attribute.column(), value),
        Condition::Group(attribute, value) => push_equals(sql, attribute.column(), value),
        Condition::Active(true) => {
            sql.push(" u.status != 'Preserved'");
        }
        Condition::Active(false) => {
            sql.push(" u.status = 'Preserved'");
        }
        Condition::HasMember(user) => {
            sql.push(
                " EXISTS (SELECT 1 FROM scim_group_members m JOIN users mu ON mu.id = m.user_id \
                 WHERE m.group_id = g.id AND NOT mu.scim_deleted AND mu.scim_id = ",
            );
            DB::bind_text(sql, user.clone());
            sql.push(")");
        }
        Condition::And(left, right) => {
            sql.push(" (");
            push_condition(sql, left);
            sql.push(" AND");
            push_condition(sql, right);
            sql.push(")");
        }
    }
}

fn push_equals<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, column: &'static str, value: &str) {
    match DB::DIALECT {
        Dialect::Sqlite => sql.push(format!(" {column} = ")),
        Dialect::Postgres => sql.push(format!(" {} = ", DB::DIALECT.nocase(column))),
    };
    DB::bind_nocase_text(sql, value.to_owned());
}

/// A SCIM resource table as lists read it.
pub(super) struct Listing {
    /// `SELECT … FROM <table> <alias>`.
    pub select: &'static str,
    /// `FROM <table> <alias>`, for the count.
    pub from: &'static str,
    /// The column naming the customer a row belongs to (`u.customer_id`).
    pub customer: &'static str,
    /// What else a row needs to be listed (`NOT u.scim_deleted`), or "".
    pub live: &'static str,
    /// The stable order pages follow.
    pub order: &'static str,
}

impl Listing {
    fn push_where<DB: Engine>(
        &self,
        sql: &mut QueryBuilder<'_, DB>,
        customer_id: i64,
        condition: Option<&Condition>,
    ) {
        sql.push(format!(" WHERE {} = ", self.customer));
        DB::bind_i64(sql, customer_id);
        if !self.live.is_empty() {
            sql.push(format!(" AND {}", self.live));
        }
        if let Some(condition) = condition {
            sql.push(" AND");
            push_condition(sql, condition);
        }
    }

    /// One page (1-based `start_index`) of the customer's resources matching `condition`,
    /// and their total.
    pub async fn page<R>(
        &self,
        pool: &Pool,
        customer_id: i64,
        condition: Option<&Condition>,
        start_index: i64,
        count: i64,
    ) -> Result<(Vec<R>, i64), sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        on_backend!(pool, |connection| {
            let mut total_sql = QueryBuilder::new(format!("SELECT COUNT(*) {}", self.from));
            self.push_where(&mut total_sql, customer_id, condition);
            let total: i64 = total_sql
                .build_query_scalar()
                .fetch_one(&mut *connection)
                .await?;
            let mut sql = QueryBuilder::new(self.select);
            self.push_where(&mut sql, customer_id, condition);
            sql.push(format!(" ORDER BY {} LIMIT ", self.order));
            Engine::bind_i64(&mut sql, count);
            sql.push(" OFFSET ");
            Engine::bind_i64(&mut sql, start_index.saturating_sub(1).max(0));
            Ok((sql.build_query_as().fetch_all(connection).await?, total))
        })
    }

    /// The customer's resource whose `column` equals `value`. On PostgreSQL the row stays
    /// locked until the caller's transaction ends, so a read-modify-write (a SCIM PATCH)
    /// reads the version the one before it wrote rather than racing it (SQLite's writers
    /// take turns from the start of their transaction).
    pub async fn find<'a, R>(
        &self,
        executor: impl Into<Executor<'a>>,
        customer_id: i64,
        column: &'static str,
        value: &str,
    ) -> Result<Option<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let executor = executor.into();
        let dialect = executor.dialect();
        on_backend!(executor, |connection| {
            let mut sql = QueryBuilder::new(self.select);
            self.push_where(&mut sql, customer_id, None);
            sql.push(format!(" AND {column} = "));
            Engine::bind_text(&mut sql, value.to_owned());
            if dialect == Dialect::Postgres {
                sql.push(" FOR UPDATE");
            }
            sql.build_query_as().fetch_optional(connection).await
        })
    }
}
