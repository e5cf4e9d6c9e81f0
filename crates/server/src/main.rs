//! `provisio-server`: serves the Provisio REST API and the built web app.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use provisio_server::{app, db, demo, AppOptions, AppState};
use tracing_subscriber::EnvFilter;

/// Provisio: user provisioning for MSPs and their customers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "PROVISIO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// SQLite database URL; the file is created on first start.
    #[arg(
        long,
        env = "PROVISIO_DATABASE_URL",
        default_value = "sqlite://data/provisio.db?mode=rwc"
    )]
    database: String,

    /// Directory of the built web app (trunk's dist). Without it only the API is served.
    #[arg(long, env = "PROVISIO_STATIC_DIR")]
    static_dir: Option<PathBuf>,

    /// Seed demo customers and users when the database is empty (the default).
    #[arg(
        long,
        env = "PROVISIO_DEMO",
        overrides_with = "no_demo",
        default_value_t = true
    )]
    demo: bool,

    /// Start with an empty database instead of demo data.
    #[arg(long, overrides_with = "demo")]
    no_demo: bool,

    /// How many demo users to seed on first start.
    #[arg(long, env = "PROVISIO_DEMO_USERS", default_value_t = demo::DEFAULT_DEMO_USERS)]
    demo_users: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PROVISIO_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();

    let pool = db::connect(&cli.database).await?;
    if cli.demo && !cli.no_demo && db::demo::is_empty(&pool).await? {
        let started = Instant::now();
        let users = demo::seed(&pool, cli.demo_users).await?;
        tracing::info!(users, elapsed = ?started.elapsed(), "seeded demo data");
    }

    let options = AppOptions {
        static_dir: cli.static_dir,
    };
    if options.static_dir.is_none() {
        tracing::warn!("no --static-dir given: serving the API only");
    }
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    println!("Provisio is listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(AppState { pool }, &options))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
