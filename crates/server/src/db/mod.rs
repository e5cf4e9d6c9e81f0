//! All SQL lives under this module: one file per table family.

pub mod admins;
pub mod audit;
pub mod copy;
pub mod customers;
pub mod demo;
pub mod mappings;
pub mod postgres;
pub mod provisioning;
pub mod provisioning_log;
pub mod provisioning_status;
pub mod report;
pub mod scim_filter;
pub mod scim_groups;
pub mod scim_tokens;
pub mod scim_users;
pub mod subscriptions;
pub mod time;
pub mod users;
pub mod views;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Which customers' data a caller may see. Every data query takes one, so none can forget it.
pub use crate::principal::{Principal, Scope};

/// The database Provisio runs on. Code in this module runs each statement through
/// [`on_backend!`], which compiles it once per engine: a query that does not build for both
/// fails the build, and the server's tests run it on both.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(sqlx::PgPool),
}

impl From<SqlitePool> for Pool {
    fn from(pool: SqlitePool) -> Self {
        Pool::Sqlite(pool)
    }
}

impl From<&Pool> for Pool {
    fn from(pool: &Pool) -> Self {
        pool.clone()
    }
}

impl From<&SqlitePool> for Pool {
    fn from(pool: &SqlitePool) -> Self {
        Pool::Sqlite(pool.clone())
    }
}

impl From<sqlx::PgPool> for Pool {
    fn from(pool: sqlx::PgPool) -> Self {
        Pool::Postgres(pool)
    }
}

/// Where a statement runs: a pool (a connection is taken for it) or an open transaction.
pub enum Executor<'a> {
    Pool(&'a Pool),
    Transaction(&'a mut WriteTransaction),
    /// A connection of one engine that a caller already holds (a read snapshot, say).
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl<'a> From<&'a mut sqlx::SqliteConnection> for Executor<'a> {
    fn from(connection: &'a mut sqlx::SqliteConnection) -> Self {
        Executor::Sqlite(connection)
    }
}

impl<'a> From<&'a mut sqlx::Transaction<'_, sqlx::Sqlite>> for Executor<'a> {
    fn from(tx: &'a mut sqlx::Transaction<'_, sqlx::Sqlite>) -> Self {
        Executor::Sqlite(tx)
    }
}

impl<'a> From<&'a mut sqlx::Transaction<'_, sqlx::Postgres>> for Executor<'a> {
    fn from(tx: &'a mut sqlx::Transaction<'_, sqlx::Postgres>) -> Self {
        Executor::Postgres(tx)
    }
}

impl<'a> From<&'a mut sqlx::PgConnection> for Executor<'a> {
    fn from(connection: &'a mut sqlx::PgConnection) -> Self {
        Executor::Postgres(connection)
    }
}

impl<'a> From<&'a Pool> for Executor<'a> {
    fn from(pool: &'a Pool) -> Self {
        Executor::Pool(pool)
    }
}

impl<'a> From<&'a mut WriteTransaction> for Executor<'a> {
    fn from(tx: &'a mut WriteTransaction) -> Self {
        Executor::Transaction(tx)
    }
}

/// A connection of one engine, taken from a pool or borrowed from a transaction.
pub enum Connection<'a> {
    Sqlite(Lease<'a, sqlx::Sqlite>),
    Postgres(Lease<'a, sqlx::Postgres>),
}

pub enum Lease<'a, DB: sqlx::Database> {
    Pooled(sqlx::pool::PoolConnection<DB>),
    Borrowed(&'a mut DB::Connection),
}

impl<DB: sqlx::Database> std::ops::Deref for Lease<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        match self {
            Lease::Pooled(connection) => connection,
            Lease::Borrowed(connection) => connection,
        }
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for Lease<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Lease::Pooled(connection) => connection,
            Lease::Borrowed(connection) => connection,
        }
    }
}

/// The connection `executor` stands for.
pub async fn connection<'a>(
    executor: impl Into<Executor<'a>>,
) -> Result<Connection<'a>, sqlx::Error> {
    Ok(match executor.into() {
        Executor::Pool(Pool::Sqlite(pool)) => {
            Connection::Sqlite(Lease::Pooled(pool.acquire().await?))
        }
        Executor::Pool(Pool::Postgres(pool)) => {
            Connection::Postgres(Lease::Pooled(pool.acquire().await?))
        }
        Executor::Transaction(tx) => match &mut tx.tx {
            EngineTransaction::Sqlite(tx) => Connection::Sqlite(Lease::Borrowed(&mut **tx)),
            EngineTransaction::Postgres(tx) => Connection::Postgres(Lease::Borrowed(&mut **tx)),
        },
        Executor::Sqlite(connection) => Connection::Sqlite(Lease::Borrowed(connection)),
        Executor::Postgres(connection) => Connection::Postgres(Lease::Borrowed(connection)),
    })
}

/// Runs `$body` with `$connection` bound to the engine's own connection (`&mut
/// SqliteConnection` or `&mut PgConnection`) for `$executor` (a `&Pool` or a `&mut
/// WriteTransaction`): one text of the code, compiled for each engine.
macro_rules! on_backend {
    ($executor:expr, |$connection:ident| $body:expr) => {
        match $crate::db::connection($executor).await? {
            $crate::db::Connection::Sqlite(mut lease) => {
                let $connection = &mut *lease;
                $body
            }
            $crate::db::Connection::Postgres(mut lease) => {
                let $connection = &mut *lease;
                $body
            }
        }
    };
}
pub(crate) use on_backend;

/// How each engine spells what SQL leaves to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `expression` as a case-insensitive key: ASCII letters folded, as SQLite's NOCASE does
    /// (PostgreSQL's `lower` under the "C" collation folds exactly those). Indexes on text that
    /// is compared or sorted without case are built on this expression.
    pub fn nocase(self, expression: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{expression} COLLATE NOCASE"),
            Dialect::Postgres => format!("lower({expression} COLLATE \"C\")"),
        }
    }
}

impl Dialect {
    /// `expression` compared and sorted byte by byte, as SQLite's default collation does,
    /// whatever the PostgreSQL database's own collation.
    pub fn binary(self, expression: &str) -> String {
        match self {
            Dialect::Sqlite => expression.to_owned(),
            Dialect::Postgres => format!("{expression} COLLATE \"C\""),
        }
    }
}

/// An engine the dynamic SQL of this module (built with `QueryBuilder`) is written for: what
/// differs is spelled through [`Dialect`], and values are bound through these functions (so
/// the builders need no bounds per bound type).
pub trait Engine: sqlx::Database {
    const DIALECT: Dialect;

    fn bind_i64(sql: &mut sqlx::QueryBuilder<'_, Self>, value: i64);

    fn bind_text(sql: &mut sqlx::QueryBuilder<'_, Self>, value: String);

    /// Binds each value, separated by commas.
    fn bind_texts(sql: &mut sqlx::QueryBuilder<'_, Self>, values: &[String]) {
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            Self::bind_text(sql, value.clone());
        }
    }

    /// A bound text compared without case, as [`Dialect::nocase`] spells a column.
    fn bind_nocase_text(sql: &mut sqlx::QueryBuilder<'_, Self>, value: String) {
        match Self::DIALECT {
            Dialect::Sqlite => {
                Self::bind_text(sql, value);
                sql.push(" COLLATE NOCASE");
            }
            Dialect::Postgres => {
                sql.push("lower(CAST(");
                Self::bind_text(sql, value);
                sql.push(" AS TEXT) COLLATE \"C\")");
            }
        }
    }
}

impl Engine for sqlx::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn bind_i64(sql: &mut sqlx::QueryBuilder<'_, Self>, value: i64) {
        sql.push_bind(value);
    }

    fn bind_text(sql: &mut sqlx::QueryBuilder<'_, Self>, value: String) {
        sql.push_bind(value);
    }
}

impl Engine for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    fn bind_i64(sql: &mut sqlx::QueryBuilder<'_, Self>, value: i64) {
        sql.push_bind(value);
    }

    fn bind_text(sql: &mut sqlx::QueryBuilder<'_, Self>, value: String) {
        sql.push_bind(value);
    }
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl Executor<'_> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Executor::Pool(pool) => pool.dialect(),
            Executor::Transaction(tx) => match tx.tx {
                EngineTransaction::Sqlite(_) => Dialect::Sqlite,
                EngineTransaction::Postgres(_) => Dialect::Postgres,
            },
            Executor::Sqlite(_) => Dialect::Sqlite,
            Executor::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// Write transactions (those that read before they write) take turns here rather than in
/// SQLite: SQLite makes a blocked writer sleep and poll (its busy handler), which wastes most
/// of the time under concurrent writes, while this queue hands the turn over the moment the
/// writer before finishes. Single-statement writes go to SQLite directly; its busy timeout
/// covers them.
static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A transaction for a read-check-write. On SQLite it holds the write turn and SQLite's write
/// lock from its start (a deferred transaction that reads first fails at once with
/// SQLITE_BUSY when another connection wrote in between; no busy timeout helps a snapshot that
/// is already stale). On PostgreSQL it is a plain transaction: the conditional writes and
/// constraints decide races, across every instance on the database.
pub struct WriteTransaction {
    tx: EngineTransaction,
    _turn: Option<tokio::sync::MutexGuard<'static, ()>>,
}

enum EngineTransaction {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl WriteTransaction {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.tx {
            EngineTransaction::Sqlite(tx) => tx.commit().await,
            EngineTransaction::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.tx {
            EngineTransaction::Sqlite(tx) => tx.rollback().await,
            EngineTransaction::Postgres(tx) => tx.rollback().await,
        }
    }

    /// The SQLite connection, for SQL that is SQLite's alone (demo seeding, which always
    /// seeds SQLite; PostgreSQL gets the demo copied).
    pub fn sqlite(&mut self) -> Result<&mut sqlx::SqliteConnection, sqlx::Error> {
        match &mut self.tx {
            EngineTransaction::Sqlite(tx) => Ok(tx),
            EngineTransaction::Postgres(_) => Err(sqlx::Error::Configuration(
                "this operation runs on SQLite only".into(),
            )),
        }
    }
}

pub async fn write_transaction(pool: impl Into<Pool>) -> Result<WriteTransaction, sqlx::Error> {
    match pool.into() {
        Pool::Sqlite(pool) => {
            let turn = WRITER.lock().await;
            Ok(WriteTransaction {
                tx: EngineTransaction::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
                _turn: Some(turn),
            })
        }
        Pool::Postgres(pool) => Ok(WriteTransaction {
            tx: EngineTransaction::Postgres(pool.begin().await?),
            _turn: None,
        }),
    }
}

/// A transaction for a sequence of reads that must see one state of the database (no write
/// turn on SQLite, whose deferred transactions read one snapshot; REPEATABLE READ on
/// PostgreSQL).
pub async fn read_transaction(pool: &Pool) -> Result<WriteTransaction, sqlx::Error> {
    Ok(match pool {
        Pool::Sqlite(pool) => WriteTransaction {
            tx: EngineTransaction::Sqlite(pool.begin().await?),
            _turn: None,
        },
        Pool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
            WriteTransaction {
                tx: EngineTransaction::Postgres(tx),
                _turn: None,
            }
        }
    })
}

/// Answers when the database does.
pub async fn ping(pool: &Pool) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query("SELECT 1")
        .execute(connection)
        .await?
        .rows_affected());
    Ok(())
}

/// Writes a consistent copy of the database to `to` (a new file) while it serves: SQLite's
/// `VACUUM INTO` reads one snapshot, so writes made meanwhile are either wholly in the copy or
/// not at all.
pub async fn backup(pool: &SqlitePool, to: &std::path::Path) -> Result<(), sqlx::Error> {
    let path = to
        .to_str()
        .ok_or_else(|| sqlx::Error::Configuration("the backup path is not valid UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(path)
        .execute(pool)
        .await?;
    Ok(())
}

/// Opens (creating when missing) the SQLite database at `url`, in WAL mode, and migrates it.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = sqlite_options(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // 32 MiB of pages per connection (SQLite's default is 2 MiB): a write touches a leaf of
        // each of the users table's two dozen indexes, and at a million users those leaves
        // otherwise come from the OS on every write.
        .pragma("cache_size", "-32768")
        // Reads map the database file instead of copying each page out of the OS's cache: a
        // download walks a million rows' pages, and copying them took a third of its time.
        // 2 GiB is SQLite's own ceiling (SQLITE_MAX_MMAP_SIZE); past it, pages are read.
        .pragma("mmap_size", "2147418112")
        // Checkpoints run in the background (`spawn_checkpointer`), not in the commit of
        // whichever write crosses the threshold: under a steady stream of readers a checkpoint
        // rarely completes, so inline it was retried, with an fsync, on every commit. The
        // threshold stays as a bound (200 MiB of WAL) for processes that run no checkpointer.
        .pragma("wal_autocheckpoint", "50000");
    if let Some(parent) = options.get_filename().parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Opens the database a URL names: PostgreSQL for `postgres://` and `postgresql://`, SQLite
/// for `sqlite://` or a file path; migrated either way. Other schemes are refused.
pub async fn open(url: &str) -> Result<Pool, sqlx::Error> {
    if postgres::is_postgres_url(url) {
        return Ok(Pool::Postgres(postgres::connect(url).await?));
    }
    Ok(Pool::Sqlite(connect(url).await?))
}

impl Pool {
    /// Open connections, and how many of them are idle: for the metrics.
    pub fn connections(&self) -> (u32, usize) {
        match self {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }
}

/// Parses a SQLite URL (or a bare file path). Any other scheme is refused: SQLite's own parser
/// would take `postgres://host/db` for a file path and quietly create a folder named `postgres:`.
fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    const EXAMPLE: &str = "use a SQLite URL such as sqlite://data/provisio.db?mode=rwc";
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme)
        // One letter is a Windows drive (`C:\\…`), not a scheme.
        .filter(|scheme| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("sqlite") => SqliteConnectOptions::from_str(url),
        Some("postgres" | "postgresql") => Err(sqlx::Error::Configuration(
            format!("a PostgreSQL URL is opened by `db::open`, not as SQLite; {EXAMPLE}").into(),
        )),
        Some(other) => Err(sqlx::Error::Configuration(
            format!("unsupported database URL scheme `{other}:`; {EXAMPLE}").into(),
        )),
    }
}

/// Copies committed pages from the WAL into the database every `every`, off the write path.
pub fn spawn_checkpointer(pool: SqlitePool, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_url_that_is_not_sqlite_is_refused_without_creating_anything() {
        for url in [
            "postgres://postgres@127.0.0.1:15432/provisio".to_owned(),
            "postgresql://localhost/provisio".to_owned(),
            "mysql://localhost/provisio".to_owned(),
        ] {
            let err = connect(&url).await.expect_err(&url).to_string();
            let scheme = url.split(':').next().unwrap_or_default();
            assert!(
                err.contains("PostgreSQL") || err.contains(&format!("`{scheme}:`")),
                "{url}: {err}"
            );
            assert!(err.contains("sqlite://"), "{url}: {err}");
        }
        // Tests run in the crate's folder: SQLite's parser would have created `postgres:` here.
        assert!(!std::path::Path::new("postgres:").exists());
    }

    #[tokio::test]
    async fn sqlite_urls_and_bare_paths_open() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        connect(&url).await.expect("sqlite URL");
        let path = dir.path().join("b.db");
        connect(&path.display().to_string())
            .await
            .expect("bare path");
        assert!(path.exists());
    }
}
