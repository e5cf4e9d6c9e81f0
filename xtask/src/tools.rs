//! Installs the build and test tools when they are missing, and stays quiet when they are present.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const SCIM2_TESTER_VERSION: &str = "0.5.2";
pub const SCIM2_CLI_VERSION: &str = "0.6.0";
/// The API contract run's property-based tester, and the generator under it: a fixed seed
/// gives the same requests only with the same versions.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
pub const HYPOTHESIS_VERSION: &str = "6.170.17";

/// Puts the project's own `node_modules/.bin` (wasm-opt) and cargo's bin directory first on PATH.
pub fn put_on_path(root: &Path) -> Result<()> {
    let mut paths = vec![root.join("node_modules").join(".bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
    {
        paths.push(home.join("bin"));
    }
    if let Some(existing) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    let joined = std::env::join_paths(paths).context("building PATH")?;
    // Single-threaded at this point: nothing else reads the environment concurrently.
    std::env::set_var("PATH", joined);
    Ok(())
}

/// The wasm target, trunk, wasm-bindgen-cli (the Cargo.lock version) and wasm-opt (binaryen).
pub fn ensure_build_tools(root: &Path) -> Result<()> {
    if !output_of("rustup", &["target", "list", "--installed"]).contains("wasm32-unknown-unknown") {
        install(
            "wasm32 target",
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }
    if !output_of("trunk", &["--version"]).contains(TRUNK_VERSION) {
        install(
            "trunk",
            Command::new("cargo").args([
                "install",
                "--locked",
                "trunk",
                "--version",
                TRUNK_VERSION,
            ]),
        )?;
    }
    let bindgen = wasm_bindgen_version(root)?;
    check_trunk_pin(root, &bindgen)?;
    if !output_of("wasm-bindgen", &["--version"]).contains(&bindgen) {
        // Not --locked: the CLI's own lockfile names a crate the registry no longer has.
        install(
            "wasm-bindgen-cli",
            Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &bindgen]),
        )?;
    }
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    if !output_of(&wasm_opt.to_string_lossy(), &["--version"])
        .contains(&format!("version {BINARYEN_VERSION}"))
    {
        install(
            "binaryen (wasm-opt)",
            Command::new("npm").args(["ci", "--no-audit", "--no-fund"]),
        )?;
    }
    Ok(())
}

/// Chromium and ChromeDriver from Debian, for the browser and end-to-end tests.
pub fn ensure_browser() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// Installs Debian packages, refreshing the package lists once if the first try fails (a fresh
/// machine may have stale ones).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let list = packages.join(" ");
    println!("==> installing {list}");
    let install = || apt(&[&["install", "-y"][..], packages].concat());
    let installed = install() || (apt(&["update"]) && install());
    if !installed {
        bail!("could not install {list} with apt-get (run as root?)");
    }
    Ok(())
}

/// The Python test tools, pinned, in the project's own `.venv`: the SCIM compliance suite
/// (python-scim's scim2-tester behind its `scim2` command line) and schemathesis for the API
/// contract. Returns the path of `scim2` (schemathesis sits beside it).
pub fn ensure_python_tools(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    let cli = venv.join("bin").join("scim2");
    let pip = venv.join("bin").join("pip");
    let wanted = format!("scim2-tester=={SCIM2_TESTER_VERSION}");
    let contract = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    let installed = output_of(&pip.to_string_lossy(), &["freeze"]);
    if cli.exists()
        && [&wanted, &contract]
            .iter()
            .all(|w| installed.lines().any(|l| l == *w))
    {
        return Ok(cli);
    }
    let venv_made = || {
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !pip.exists() && !venv_made() {
        // Debian ships the venv module separately.
        let _ = Command::new("apt-get")
            .args(["install", "-y", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if !venv_made() {
            bail!("could not create {} with python3 -m venv", venv.display());
        }
    }
    install(
        "scim2-tester, scim2-cli and schemathesis",
        Command::new(&pip).args([
            "install",
            "--quiet",
            &wanted,
            &format!("scim2-cli=={SCIM2_CLI_VERSION}"),
            // Their own dependencies, pinned too, so a release upstream cannot change a result.
            "scim2-client==0.13.2",
            "scim2-models==0.12.3",
            &contract,
            &format!("hypothesis=={HYPOTHESIS_VERSION}"),
        ]),
    )?;
    Ok(cli)
}

/// The wasm-bindgen version Cargo.lock resolved; the CLI must match it exactly.
fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// Trunk.toml pins the wasm-bindgen version; a stale pin would fail the offline build obscurely.
fn check_trunk_pin(root: &Path, version: &str) -> Result<()> {
    let trunk = std::fs::read_to_string(root.join("Trunk.toml")).context("reading Trunk.toml")?;
    if !trunk.contains(&format!("wasm_bindgen = \"{version}\"")) {
        bail!("Trunk.toml must pin wasm_bindgen = \"{version}\", the version in Cargo.lock");
    }
    Ok(())
}

fn output_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn install(what: &str, command: &mut Command) -> Result<()> {
    println!("==> installing {what} (once)");
    let status = command
        .status()
        .with_context(|| format!("installing {what}"))?;
    if !status.success() {
        bail!("installing {what} failed with {status}");
    }
    Ok(())
}
