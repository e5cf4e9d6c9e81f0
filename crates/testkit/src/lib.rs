//! One setup for the server's integration tests and the end-to-end tests: a temporary SQLite
//! file, migrated and seeded with demo data, and the application's state over it with
//! subscription mail written to an outbox folder.

use std::error::Error;
use std::path::PathBuf;

use provisio_server::delivery::mail::Mailer;
use provisio_server::delivery::{Deliverer, MailSettings};
use provisio_server::demo::DemoAdmin;
use provisio_server::{db, demo, AppState};

pub type Failure = Box<dyn Error + Send + Sync>;

/// The engines the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A seeded database in a folder of its own, removed when this is dropped.
pub struct SeededDatabase {
    /// The seeded SQLite database (on PostgreSQL, the one that was copied there).
    pub pool: sqlx::SqlitePool,
    /// The database the application runs on: `pool`, or its copy on PostgreSQL.
    pub database: db::Pool,
    /// The demo admins with their one-time passwords.
    pub admins: Vec<DemoAdmin>,
    /// Where `state`'s deliveries write their mail (.eml files).
    pub outbox: PathBuf,
    dir: tempfile::TempDir,
}

impl SeededDatabase {
    /// The demo's customers, admins and `users` users.
    pub async fn new(users: u64) -> Result<SeededDatabase, Failure> {
        SeededDatabase::on(Backend::Sqlite, users).await
    }

    /// The same on `backend`: on PostgreSQL, a fresh database on the test cluster that the
    /// seeded SQLite database is copied into (`copy-database`).
    pub async fn on(backend: Backend, users: u64) -> Result<SeededDatabase, Failure> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("provisio.db").display()
        );
        let pool = db::connect(&url).await?;
        let seeded = demo::seed(&pool, users).await?;
        let database = match backend {
            Backend::Sqlite => db::Pool::from(&pool),
            Backend::Postgres => {
                let target = db::postgres::connect(&postgres::fresh_database().await?).await?;
                db::copy::copy(&pool, &target).await?;
                db::Pool::from(target)
            }
        };
        Ok(SeededDatabase {
            pool,
            database,
            admins: seeded.admins,
            outbox: dir.path().join("outbox"),
            dir,
        })
    }

    /// The folder holding the database, for other files a test needs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The application's state over this database; subscriptions are delivered to the outbox,
    /// their links pointing at `public_url`.
    pub fn state(&self, public_url: &str) -> Result<AppState, Failure> {
        let settings = mail_settings(Mailer::outbox(self.outbox.clone())?, public_url)?;
        Ok(AppState {
            deliverer: Some(Deliverer::new(self.database.clone(), settings)),
            ..AppState::new(self.database.clone())
        })
    }
}

/// Mail settings for tests: `mailer`, a fixed sender, links to `public_url`.
pub fn mail_settings(mailer: Mailer, public_url: &str) -> Result<MailSettings, Failure> {
    Ok(MailSettings {
        mailer,
        from: "Provisio <provisio@provisio.example>".parse()?,
        public_url: public_url.to_owned(),
    })
}

/// The throw-away PostgreSQL cluster `cargo xtask test` starts (or `cargo xtask postgres`, for
/// running tests by hand).
pub mod postgres {
    use sqlx::Connection;

    use super::Failure;

    /// Where the cluster is: a URL of its maintenance database, as a superuser.
    pub const URL_VARIABLE: &str = "PROVISIO_TEST_POSTGRES_URL";

    /// The URL of a new, empty database of its own on the test cluster.
    pub async fn fresh_database() -> Result<String, Failure> {
        let server = std::env::var(URL_VARIABLE)
            .ok()
            .filter(|url| !url.is_empty());
        let Some(server) = server else {
            return Err(format!(
                "{URL_VARIABLE} is not set: run `cargo xtask test`, or start a cluster with \
                 `cargo xtask postgres` and export what it prints"
            )
            .into());
        };
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(&server).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        let (base, _) = server
            .rsplit_once('/')
            .ok_or("the cluster URL names no database")?;
        Ok(format!("{base}/{name}"))
    }
}
