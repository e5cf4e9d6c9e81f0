//! A throw-away PostgreSQL cluster for one test run: Debian's server binaries, a data folder in
//! the temporary directory, a free loopback port, trust authentication (nothing but this
//! machine's loopback can reach it), and no durability (the cluster dies with the run).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::tools;

/// The oldest server the project supports.
const OLDEST_MAJOR: u32 = 15;
/// The superuser the cluster is created with; tests connect as it.
const SUPERUSER: &str = "provisio";

/// A running cluster; stopped and removed when dropped.
pub struct Cluster {
    bin: PathBuf,
    folder: PathBuf,
    run_as: Option<&'static str>,
    /// A URL of the cluster's maintenance database (`postgres`), as the superuser.
    pub url: String,
}

impl Cluster {
    /// Installs PostgreSQL when missing, then creates and starts a new cluster.
    pub fn start() -> Result<Cluster> {
        let bin = match server_binaries() {
            Some(bin) => bin,
            None => {
                tools::apt_install(&["postgresql", "postgresql-contrib"])?;
                server_binaries().context("PostgreSQL's server binaries after installing them")?
            }
        };
        // PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` user
        // Debian's package creates.
        let run_as = is_root().then_some("postgres");
        let folder = std::env::temp_dir().join(format!("provisio-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder)?;
        if let Some(user) = run_as {
            ensure(Command::new("chown").arg(format!("{user}:")).arg(&folder))?;
        }
        let port = free_port()?;
        let cluster = Cluster {
            url: format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres"),
            bin,
            folder,
            run_as,
        };
        println!("==> starting a throw-away PostgreSQL cluster on 127.0.0.1:{port}");
        let data = cluster.folder.join("data");
        ensure(
            cluster
                .command("initdb")
                .arg("--pgdata")
                .arg(&data)
                .args([
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                ])
                .args(["--locale", "C.UTF-8", "--no-sync"])
                .stdout(std::process::Stdio::null()),
        )?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c max_connections=300 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            cluster.folder.display()
        );
        ensure(
            cluster
                .command("pg_ctl")
                .arg("--pgdata")
                .arg(&data)
                .arg("--log")
                .arg(cluster.folder.join("server.log"))
                .args(["--wait", "--options", &options, "start"])
                .stdout(std::process::Stdio::null()),
        )?;
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("--pgdata")
            .arg(self.folder.join("data"))
            .args(["--mode", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The newest installed server's `bin` folder (`/usr/lib/postgresql/<major>/bin` on Debian).
fn server_binaries() -> Option<PathBuf> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (major >= OLDEST_MAJOR && bin.join("initdb").exists()).then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ensure(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}
