//! `provisio-server`: serves the Provisio REST API and the built web app.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use provisio_api::auth::Role;
use provisio_server::auth::scim_rate::ScimRateLimit;
use provisio_server::delivery::mail::Mailer;
use provisio_server::delivery::{self, Deliverer, MailSettings};
use provisio_server::http;
use provisio_server::{app, auth, db, demo, provisioning_watch, AppOptions, AppState};
use tracing_subscriber::EnvFilter;

/// Provisio: user provisioning for MSPs and their customers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Database URL: SQLite (`sqlite://path?mode=rwc`, or a file path; the file is created on
    /// first start) or PostgreSQL (`postgres://user@host/database`, an existing database).
    /// Other schemes are refused.
    #[arg(
        long,
        global = true,
        env = "PROVISIO_DATABASE_URL",
        default_value = "sqlite://data/provisio.db?mode=rwc"
    )]
    database: String,

    #[command(flatten)]
    serve: ServeArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

/// How long requests in flight may take to finish once a stop is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How often the scheduler looks for due subscriptions.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(15);
/// How often new provisioning events are indexed, customers' provisioning states checked for
/// notifications, and old events removed.
const WATCH_INTERVAL: Duration = Duration::from_secs(15);
/// How often the WAL is checkpointed in the background.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PROVISIO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Directory of the built web app (trunk's dist). Without it only the API is served.
    #[arg(long, env = "PROVISIO_STATIC_DIR")]
    static_dir: Option<PathBuf>,

    /// Seed demo customers, users and admins when the database is empty (the default).
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

    /// Mark the session cookie Secure; set this when clients reach Provisio over HTTPS.
    #[arg(long, env = "PROVISIO_SECURE_COOKIES")]
    secure_cookies: bool,

    /// SCIM requests per second each token may make (bursts of twice that); more get 429.
    #[arg(long, env = "PROVISIO_SCIM_RATE_LIMIT", default_value_t = auth::scim_rate::DEFAULT_PER_SECOND,
          value_parser = clap::value_parser!(u32).range(1..))]
    scim_rate_limit: u32,

    /// Send subscription mail through this SMTP server: `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:password@host:465` (TLS), `smtp://localhost:25` (plain).
    /// Without it, messages are written as .eml files into the outbox folder.
    #[arg(long, env = "PROVISIO_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,

    /// Where messages go when no SMTP server is set.
    #[arg(long, env = "PROVISIO_OUTBOX_DIR", default_value = "data/outbox")]
    outbox_dir: PathBuf,

    /// The sender of subscription mail.
    #[arg(
        long,
        env = "PROVISIO_MAIL_FROM",
        default_value = "Provisio <provisio@localhost>"
    )]
    mail_from: String,

    /// Serve Prometheus metrics at /metrics on this address (off unless given); keep it off
    /// the public network.
    #[arg(long, env = "PROVISIO_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,

    /// Provisioning events older than this many days are removed.
    #[arg(long, env = "PROVISIO_PROVISIONING_LOG_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    provisioning_log_retention_days: u32,

    /// The console's address as mail recipients reach it, for links in messages
    /// (default: http:// and the listen address).
    #[arg(long, env = "PROVISIO_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent copy of the database to a new file, also while a server is running
    /// on it. Restore by stopping the server and putting the copy in the database's place.
    Backup {
        /// The copy to write; it must not exist yet.
        #[arg(long)]
        to: PathBuf,
    },
    /// Copy an embedded SQLite database (migrated first, as a start would) into an empty
    /// PostgreSQL database, every table in one transaction, verifying the row counts.
    CopyDatabase {
        /// The SQLite database to copy (default: --database).
        #[arg(long)]
        from: Option<String>,
        /// The PostgreSQL database to fill, e.g. postgres://provisio@db.internal/provisio.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin. The password comes from PROVISIO_ADMIN_PASSWORD or a prompt, never a flag.
    Create {
        #[arg(long)]
        email: String,
        /// msp_admin, customer_admin or read_only.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Display name; defaults to the email.
        #[arg(long)]
        name: Option<String>,
        /// Global Customer ID of the customer a customer admin (or customer viewer) belongs to.
        #[arg(long)]
        customer: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::from_key(text).ok_or_else(|| "use msp_admin, customer_admin or read_only".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = EnvFilter::try_from_env("PROVISIO_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // JSON lines for log collectors; each request's lines carry its span (method, path and
    // request id).
    if std::env::var("PROVISIO_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let cli = Cli::parse();
    if let Some(Command::CopyDatabase { from, to }) = &cli.command {
        return copy_database(from.as_deref().unwrap_or(&cli.database), to).await;
    }
    let pool = db::open(&cli.database).await?;
    match cli.command {
        Some(Command::Admin(AdminCommand::Create {
            email,
            role,
            name,
            customer,
        })) => create_admin(&pool, email, role, name, customer).await,
        Some(Command::Backup { to }) => {
            let db::Pool::Sqlite(sqlite) = &pool else {
                return Err(
                    "backup copies an embedded SQLite database; back PostgreSQL up with \
                            its own tools (pg_dump, or the server's continuous archiving)"
                        .into(),
                );
            };
            if to.exists() {
                return Err(format!("{} exists already; choose a new file", to.display()).into());
            }
            db::backup(sqlite, &to).await?;
            println!("Wrote a copy of the database to {}.", to.display());
            Ok(())
        }
        Some(Command::CopyDatabase { .. }) => Ok(()),
        None => serve(pool, cli.serve).await,
    }
}

async fn copy_database(from: &str, to: &str) -> Result<(), Box<dyn std::error::Error>> {
    if !db::postgres::is_postgres_url(to) {
        return Err("--to takes a PostgreSQL URL: postgres://user@host/database".into());
    }
    let source = db::connect(from).await?;
    let target = db::postgres::connect(to).await?;
    let copied = db::copy::copy(&source, &target).await?;
    for table in &copied {
        println!("{:>10} rows  {}", table.rows, table.table);
    }
    println!("Copied {} tables; every row count matches.", copied.len());
    Ok(())
}

/// Mapping re-evaluations a stopped server left running go on from their last batch.
async fn resume_jobs(pool: &db::Pool) -> Result<(), sqlx::Error> {
    let resumed = provisio_server::reevaluation::resume(pool).await?;
    if resumed > 0 {
        tracing::info!(jobs = resumed, "resumed mapping re-evaluations");
    }
    Ok(())
}

/// Writes the web app's compressed copies once, before serving it (see `static_files`).
async fn compress_web_app(dir: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = dir else {
        tracing::warn!("no --static-dir given: serving the API only");
        return Ok(());
    };
    let started = Instant::now();
    match tokio::task::spawn_blocking(move || http::static_files::precompress(&dir)).await? {
        Ok(written) => tracing::info!(written, elapsed = ?started.elapsed(),
            "compressed the web app's files"),
        Err(error) => tracing::warn!(%error,
            "could not write compressed copies of the web app; serving it uncompressed"),
    }
    Ok(())
}

async fn serve(pool: db::Pool, args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    resume_jobs(&pool).await?;
    if args.demo && !args.no_demo && db::demo::is_empty(&pool).await? {
        seed_demo(&pool, args.demo_users).await?;
    }
    let options = AppOptions {
        static_dir: args.static_dir.clone(),
    };
    compress_web_app(options.static_dir.clone()).await?;
    let state = AppState {
        secure_cookies: args.secure_cookies,
        scim_rate: Arc::new(ScimRateLimit::new(
            NonZeroU32::new(args.scim_rate_limit).ok_or("--scim-rate-limit must be at least 1")?,
        )),
        ..AppState::new(pool.clone())
    };
    if let Some(metrics_address) = args.metrics_listen {
        serve_metrics(metrics_address, pool.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    let settings = mail_settings(&args, address)?;
    if let db::Pool::Sqlite(sqlite) = &pool {
        db::spawn_checkpointer(sqlite.clone(), CHECKPOINT_INTERVAL);
    }
    provisioning_watch::spawn(
        state.pool.clone(),
        settings.clone(),
        args.provisioning_log_retention_days,
        WATCH_INTERVAL,
    );
    let deliverer = Deliverer::new(state.pool.clone(), settings);
    let (stop_scheduler, scheduler_stop) = tokio::sync::watch::channel(false);
    let scheduler =
        delivery::spawn_scheduler(deliverer.clone(), SCHEDULER_INTERVAL, scheduler_stop);
    let state = AppState {
        deliverer: Some(deliverer),
        ..state
    };
    println!("Provisio is listening on http://{address}");
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        app(state, &options).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop_requested().await;
        tracing::info!("stopping: no new connections; finishing requests in flight");
        let _ = stopping.send(());
    });
    // Requests in flight, and a delivery being sent, get a bounded time to finish; a stop never
    // hangs on a stuck client or mail server.
    let grace = async {
        let _ = stopped.await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::pin!(grace);
    tokio::select! {
        served = server => served?,
        () = &mut grace => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight at the end of the grace period");
            return Ok(());
        }
    }
    let _ = stop_scheduler.send(true);
    tokio::select! {
        _ = scheduler => {}
        () = &mut grace => tracing::warn!("a delivery was still being sent at the end of the grace period"),
    }
    Ok(())
}

/// Seeds the demo customers, users, admins, SCIM provisioning and its log; prints the demo
/// admins' passwords once.
async fn seed_demo(pool: &db::Pool, users: u64) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let seeded = demo::seed_everything(pool, users).await?;
    tracing::info!(users = seeded.users, elapsed = ?started.elapsed(), "seeded demo data");
    println!("Demo admins (passwords are shown only now; they are stored hashed):");
    for admin in &seeded.admins {
        let scope = admin
            .customer
            .map(|c| format!(" of {c}"))
            .unwrap_or_default();
        println!(
            "  {:<34} {}  ({}{scope})",
            admin.email,
            admin.password,
            admin.role.label()
        );
    }
    Ok(())
}

/// Serves Prometheus metrics on their own address, apart from the public one.
async fn serve_metrics(
    address: SocketAddr,
    pool: db::Pool,
) -> Result<(), Box<dyn std::error::Error>> {
    let handle = provisio_server::metrics::install()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!(
        "Metrics are served on http://{}/metrics",
        listener.local_addr()?
    );
    let router = provisio_server::metrics::router(handle, pool);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// How mail leaves (SMTP or the outbox), from whom, and the console address links use.
fn mail_settings(
    args: &ServeArgs,
    address: SocketAddr,
) -> Result<MailSettings, Box<dyn std::error::Error>> {
    let mailer = match &args.smtp_url {
        Some(url) => {
            println!(
                "Subscription mail goes through the SMTP server in PROVISIO_SMTP_URL / --smtp-url"
            );
            Mailer::smtp(url)?
        }
        None => {
            let outbox = std::path::absolute(&args.outbox_dir)?;
            println!(
                "Subscription mail is written as .eml files into {} (set --smtp-url to send it)",
                outbox.display()
            );
            Mailer::outbox(outbox)?
        }
    };
    let from: lettre::message::Mailbox = args
        .mail_from
        .parse()
        .map_err(|e| format!("--mail-from '{}' is not an address: {e}", args.mail_from))?;
    Ok(MailSettings {
        mailer,
        from,
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}")),
    })
}

/// Ctrl-C, or SIGTERM (what service managers and orchestrators send).
async fn stop_requested() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

async fn create_admin(
    pool: &db::Pool,
    email: String,
    role: Role,
    name: Option<String>,
    customer: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let customer_id = match customer {
        Some(global_id) => Some(
            db::customers::find_by_global_id(pool, &global_id)
                .await?
                .ok_or_else(|| format!("no customer has the Global Customer ID {global_id}"))?
                .id,
        ),
        None => None,
    };
    match (role, customer_id) {
        (Role::CustomerAdmin, None) => return Err("a customer admin needs --customer".into()),
        (Role::MspAdmin, Some(_)) => {
            return Err("an MSP admin sees every customer; drop --customer".into())
        }
        _ => {}
    }
    let password = match std::env::var("PROVISIO_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => rpassword::prompt_password("Password for the new admin: ")?,
    };
    if password.chars().count() < provisio_api::auth::MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password needs at least {} characters",
            provisio_api::auth::MIN_PASSWORD_CHARS
        )
        .into());
    }
    let hash = auth::password::hash(password).await?;
    let display_name = name.unwrap_or_else(|| email.clone());
    db::admins::insert(
        pool,
        &db::admins::NewAdmin {
            email: &email,
            display_name: &display_name,
            password_hash: &hash,
            role,
            customer_id,
        },
    )
    .await?;
    println!("Created {email} ({}).", role.label());
    Ok(())
}
