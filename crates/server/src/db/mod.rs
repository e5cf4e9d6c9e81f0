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
pub mod users;
pub mod views;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Which customers' data a caller may see. Every data query takes one, so none can forget it.
pub use crate::principal::{Principal, Scope};

/// Write transactions (those that read before they write) take turns here rather than in
/// SQLite: SQLite makes a blocked writer sleep and poll (its busy handler), which wastes most
/// of the time under concurrent writes, while this queue hands the turn over the moment the
/// writer before finishes. Single-statement writes go to SQLite directly; its busy timeout
/// covers them.
static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A transaction that holds the write turn and SQLite's write lock from its start. (A deferred
/// transaction that reads first fails at once with SQLITE_BUSY when another connection wrote
/// in between; no busy timeout helps a snapshot that is already stale.)
pub struct WriteTransaction {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl WriteTransaction {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

pub async fn write_transaction(pool: &SqlitePool) -> Result<WriteTransaction, sqlx::Error> {
    let turn = WRITER.lock().await;
    Ok(WriteTransaction {
        tx: pool.begin_with("BEGIN IMMEDIATE").await?,
        _turn: turn,
    })
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
            format!(
                "this version of Provisio serves from SQLite only (`copy-database` can already \
                 fill a PostgreSQL database); {EXAMPLE}"
            )
            .into(),
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
