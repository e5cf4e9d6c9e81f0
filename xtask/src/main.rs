//! `cargo xtask run | test`: the two commands that set up and drive Provisio on a fresh machine.

mod postgres;
mod tools;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <run | test | postgres | bench report | bench scim | bench mappings | bench logs | bench load | bench web>
  run           install missing tools, build the web app (release) and serve it with demo data
  test          install missing tools, then fmt, clippy (native + wasm32), native, browser and end-to-end tests
  postgres      a throw-away PostgreSQL cluster for running tests by hand, until Enter
  bench report  every sort and filter, facets and downloads over 1,000,000 users (PROVISIO_BENCH_USERS)
  bench scim    SCIM creates and PATCHes per second with concurrent clients on loopback
  bench mappings  preview and re-evaluation of 20 mappings over 100,000 users of one customer
  bench logs    the provisioning log's pages and every customer's status over 1,000,000 events
  bench load    60 s of 100 report readers and SCIM writes at 200/s over 1,000,000 users
  bench web     the web app's download and navigation to the report's first rows in headless Chromium";

fn main() -> Result<()> {
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    tools::put_on_path(&root)?;
    match std::env::args().nth(1).as_deref() {
        Some("run") => run(&root),
        Some("test") => test(&root),
        Some("postgres") => serve_postgres(),
        Some("bench") => match std::env::args().nth(2).as_deref() {
            Some(name @ ("report" | "scim" | "mappings" | "logs" | "load")) => step(
                &format!("{name} benchmark"),
                Command::new("cargo").args([
                    "bench",
                    "--package",
                    "provisio-server",
                    "--bench",
                    name,
                ]),
            ),
            Some("web") => bench_web(&root),
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Where tests find the throw-away PostgreSQL cluster (`provisio_testkit::postgres`).
const POSTGRES_URL_VARIABLE: &str = "PROVISIO_TEST_POSTGRES_URL";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(root: &Path) -> Result<()> {
    tools::ensure_build_tools(root)?;
    build_web_app()?;
    // PROVISIO_* variables pass through untouched: clap reads them in the server.
    let status = Command::new("cargo")
        .args(["run", "--release", "--package", "provisio-server", "--"])
        .arg("--static-dir")
        .arg(root.join("dist"))
        .status()
        .context("starting provisio-server")?;
    if !status.success() {
        bail!("provisio-server exited with {status}");
    }
    Ok(())
}

/// Builds the app as `run` does, then measures it in the browser (crates/e2e/benches/web.rs).
fn bench_web(root: &Path) -> Result<()> {
    tools::ensure_build_tools(root)?;
    tools::ensure_browser()?;
    build_web_app()?;
    step(
        "web benchmark",
        Command::new("cargo").args(["bench", "--package", "provisio-e2e", "--bench", "web"]),
    )
}

fn build_web_app() -> Result<()> {
    step("cargo fetch", Command::new("cargo").arg("fetch"))?;
    step(
        "trunk build --release",
        Command::new("trunk").args(["build", "--release"]),
    )
}

/// Tallies of every test runner, plus checks (fmt, clippy, builds) that failed.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failed_steps: Vec<String>,
}

/// Starts a throw-away cluster and waits for Enter, so `cargo test` can be run by hand against it.
fn serve_postgres() -> Result<()> {
    let cluster = postgres::Cluster::start()?;
    println!("export {POSTGRES_URL_VARIABLE}={}", cluster.url);
    println!("(press Enter to stop and remove the cluster)");
    std::io::stdin().read_line(&mut String::new())?;
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    tools::ensure_build_tools(root)?;
    tools::ensure_browser()?;
    let mut tally = Tally::default();
    // Without them only the compliance and contract tests fail (saying what is missing); the
    // rest still runs.
    let scim2_cli = tools::ensure_python_tools(root).unwrap_or_else(|err| {
        eprintln!("{err:#}");
        tally
            .failed_steps
            .push("installing scim2-tester and schemathesis".to_owned());
        root.join(".venv/bin/scim2")
    });

    check(
        &mut tally,
        "cargo fmt --check",
        Command::new("cargo").args(["fmt", "--all", "--check"]),
    );
    check(
        &mut tally,
        "clippy (native)",
        Command::new("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    check(
        &mut tally,
        "clippy (wasm32)",
        Command::new("cargo").args([
            "clippy",
            "--package",
            "provisio",
            "--package",
            "provisio-api",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
    );
    // The server's tests run on SQLite and on this cluster; without it only the PostgreSQL
    // ones fail, saying what is missing.
    let postgres = postgres::Cluster::start().map(Some).unwrap_or_else(|err| {
        eprintln!("{err:#}");
        tally.failed_steps.push("starting PostgreSQL".to_owned());
        None
    });
    let postgres_url = postgres.as_ref().map_or("", |cluster| cluster.url.as_str());
    run_tests(
        &mut tally,
        "native tests (SQLite and PostgreSQL)",
        Command::new("cargo")
            .args([
                "test",
                "--workspace",
                "--exclude",
                "provisio-e2e",
                "--no-fail-fast",
            ])
            .env(POSTGRES_URL_VARIABLE, postgres_url),
    );
    run_tests(
        &mut tally,
        "browser component tests (wasm-bindgen-test, headless Chromium)",
        Command::new("cargo")
            .args([
                "test",
                "--package",
                "provisio",
                "--target",
                "wasm32-unknown-unknown",
                "--tests",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            )
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    );
    match build_web_app() {
        Ok(()) => run_tests(
            &mut tally,
            "end-to-end tests (real server, headless Chromium)",
            Command::new("cargo")
                .args([
                    "test",
                    "--package",
                    "provisio-e2e",
                    "--no-fail-fast",
                    "--",
                    "--test-threads",
                    "1",
                ])
                .env("PROVISIO_E2E_DIST", root.join("dist"))
                .env(
                    "PROVISIO_SCHEMATHESIS",
                    scim2_cli.with_file_name("schemathesis"),
                )
                .env("PROVISIO_SCIM2_CLI", &scim2_cli)
                .env(POSTGRES_URL_VARIABLE, postgres_url),
        ),
        Err(err) => {
            eprintln!("{err:#}");
            tally.failed_steps.push("trunk build".to_owned());
        }
    }

    drop(postgres);
    println!();
    for name in &tally.failed_steps {
        println!("FAILED: {name}");
    }
    let failed = tally.failed + tally.failed_steps.len() as u64;
    println!("{} passed, {} failed", tally.passed, failed);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn step(name: &str, command: &mut Command) -> Result<()> {
    println!("==> {name}");
    let status = command
        .status()
        .with_context(|| format!("starting {name}"))?;
    if !status.success() {
        bail!("{name} failed with {status}");
    }
    Ok(())
}

fn check(tally: &mut Tally, name: &str, command: &mut Command) {
    if let Err(err) = step(name, command) {
        eprintln!("{err:#}");
        tally.failed_steps.push(name.to_owned());
    }
}

/// Runs a libtest-style runner, echoing its output and adding up its "test result" lines.
fn run_tests(tally: &mut Tally, name: &str, command: &mut Command) {
    println!("==> {name}");
    let child = command.stdout(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            eprintln!("starting {name}: {err}");
            tally.failed_steps.push(name.to_owned());
            return;
        }
    };
    let (mut passed, mut failed) = (0, 0);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some((p, f)) = parse_result_line(&line) {
                passed += p;
                failed += f;
            }
        }
    }
    let success = child.wait().map(|s| s.success()).unwrap_or(false);
    tally.passed += passed;
    tally.failed += failed;
    // A runner that fails without a failing test (a build error, a crash) still fails the run.
    if !success && failed == 0 {
        tally.failed_steps.push(name.to_owned());
    }
}

/// `test result: ok. 12 passed; 0 failed; ...` → (12, 0)
fn parse_result_line(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |label: &str| -> Option<u64> {
        rest.split([';', '.'])
            .map(str::trim)
            .find_map(|part| part.strip_suffix(label).map(str::trim))
            .and_then(|n| n.parse().ok())
    };
    Some((count("passed")?, count("failed")?))
}

#[cfg(test)]
mod tests {
    use super::parse_result_line;

    #[test]
    fn reads_libtest_summaries() {
        assert_eq!(
            parse_result_line("test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s"),
            Some((12, 0))
        );
        assert_eq!(
            parse_result_line("test result: FAILED. 3 passed; 2 failed; 0 ignored"),
            Some((3, 2))
        );
        assert_eq!(parse_result_line("running 3 tests"), None);
    }
}
