//! Listing SCIM resources: conditions built from SCIM `filter` expressions (fixed SQL with every
//! value bound, so a filter can never inject SQL), and the paged, customer-scoped queries.

use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor, SqlitePool};

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `column = value`, case-insensitively; the column is qualified by its table's alias
    /// (`u.` for users, `g.` for groups).
    Equals(&'static str, String),
    /// A user's `active`.
    Active(bool),
    /// A group has the user with this SCIM id as a member.
    HasMember(String),
    And(Box<Condition>, Box<Condition>),
}

fn push_condition(sql: &mut QueryBuilder<'_, Sqlite>, condition: &Condition) {
    match condition {
        Condition::Equals(column, value) => {
            sql.push(format!(" {column} = "));
            sql.push_bind(value.clone());
            sql.push(" COLLATE NOCASE");
        }
        Condition::Active(true) => {
            sql.push(" u.status != 'Preserved'");
        }
        Condition::Active(false) => {
            sql.push(" u.status = 'Preserved'");
        }
        Condition::HasMember(user) => {
            sql.push(
                " EXISTS (SELECT 1 FROM scim_group_members m JOIN users mu ON mu.id = m.user_id \
                 WHERE m.group_id = g.id AND mu.scim_deleted = 0 AND mu.scim_id = ",
            );
            sql.push_bind(user.clone());
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

/// A SCIM resource table as lists read it.
pub(super) struct Listing {
    /// `SELECT … FROM <table> <alias>`.
    pub select: &'static str,
    /// `FROM <table> <alias>`, for the count.
    pub from: &'static str,
    /// The rows a customer's listing holds, with one `?` for the customer (e.g.
    /// `u.customer_id = ? AND u.scim_deleted = 0`).
    pub scope: &'static str,
    /// The stable order pages follow.
    pub order: &'static str,
}

impl Listing {
    fn push_where(
        &self,
        sql: &mut QueryBuilder<'_, Sqlite>,
        customer_id: i64,
        condition: Option<&Condition>,
    ) {
        let (before, after) = self.scope.split_once('?').unwrap_or((self.scope, ""));
        sql.push(" WHERE ");
        sql.push(before);
        sql.push_bind(customer_id);
        sql.push(after);
        if let Some(condition) = condition {
            sql.push(" AND");
            push_condition(sql, condition);
        }
    }

    /// One page (1-based `start_index`) of the customer's resources matching `condition`,
    /// and their total.
    pub async fn page<R>(
        &self,
        pool: &SqlitePool,
        customer_id: i64,
        condition: Option<&Condition>,
        start_index: i64,
        count: i64,
    ) -> Result<(Vec<R>, i64), sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        let mut total_sql = QueryBuilder::<Sqlite>::new(format!("SELECT COUNT(*) {}", self.from));
        self.push_where(&mut total_sql, customer_id, condition);
        let total: i64 = total_sql.build_query_scalar().fetch_one(pool).await?;
        let mut sql = QueryBuilder::<Sqlite>::new(self.select);
        self.push_where(&mut sql, customer_id, condition);
        sql.push(format!(" ORDER BY {} LIMIT ", self.order));
        sql.push_bind(count);
        sql.push(" OFFSET ");
        sql.push_bind(start_index.saturating_sub(1).max(0));
        Ok((sql.build_query_as().fetch_all(pool).await?, total))
    }

    /// The customer's resource whose `column` equals `value`.
    pub async fn find<'c, R>(
        &self,
        executor: impl SqliteExecutor<'c>,
        customer_id: i64,
        column: &'static str,
        value: &str,
    ) -> Result<Option<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        let mut sql = QueryBuilder::<Sqlite>::new(self.select);
        self.push_where(&mut sql, customer_id, None);
        sql.push(format!(" AND {column} = "));
        sql.push_bind(value.to_owned());
        sql.build_query_as().fetch_optional(executor).await
    }
}
