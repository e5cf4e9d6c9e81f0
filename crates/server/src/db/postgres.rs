//! PostgreSQL: the schema (`migrations/postgres`, the same tables and columns as SQLite's) and
//! connecting to it.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    scheme
        .is_some_and(|s| s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql"))
}

/// Connects to the PostgreSQL database at `url` and migrates it. When several processes start
/// together, sqlx's advisory lock lets one migrate while the others wait.
pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name("provisio");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_told_apart() {
        assert!(is_postgres_url("postgres://u@host/db"));
        assert!(is_postgres_url("PostgreSQL://host:5432/db?sslmode=require"));
        assert!(!is_postgres_url("sqlite://data/provisio.db?mode=rwc"));
        assert!(!is_postgres_url("data/postgres.db"));
        assert!(!is_postgres_url("postgres:"));
    }
}
