//! Conditions on SCIM resources, built from SCIM `filter` expressions: fixed SQL with every
//! value bound, so a filter can never inject SQL.

use sqlx::{QueryBuilder, Sqlite};

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

pub(super) fn push_condition(sql: &mut QueryBuilder<'_, Sqlite>, condition: &Condition) {
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
