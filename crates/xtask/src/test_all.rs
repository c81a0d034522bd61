//! `cargo xtask test`: the one command that runs every test (what `.ci/run` calls).
//!
//! 1. Installs the system tools the tests drive (Poppler for PDF checks, Debian's Chromium
//!    and ChromeDriver for browser tests) when they are missing and we may (root + apt).
//! 2. Checks that PostgreSQL answers: the storage suites run against SQLite *and*
//!    PostgreSQL, and a run without PostgreSQL is a failure, not a silent skip.
//! 3. Runs `cargo test --workspace`, then the SCORM 2004 conformance suite.

use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, bail};

/// Tools the tests need: (binary to look for, Debian package that has it).
const TOOLS: &[(&str, &str)] = &[
    ("pdftotext", "poppler-utils"),
    ("pdffonts", "poppler-utils"),
    ("pdftoppm", "poppler-utils"),
    ("chromium", "chromium"),
    ("chromedriver", "chromium-driver"),
];

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn run(args: &[&str]) -> anyhow::Result<ExitCode> {
    let extra: Vec<&str> = args.to_vec();
    install_tools()?;
    let postgres_url = std::env::var("LMS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
    check_postgres(&postgres_url)?;

    let workspace = workspace_root()?;
    // The conformance gate first, so the closing lines of the run are cargo test's own.
    eprintln!("xtask: SCORM 2004 4th Edition conformance suite (gate: crates/lms-cts/known-failures.txt)");
    let known = workspace.join("crates/lms-cts/known-failures.txt");
    let known = known.to_string_lossy().into_owned();
    let cts = crate::cts::run(&["--known-failures", &known])?;
    if cts != ExitCode::SUCCESS {
        eprintln!("xtask: the SCORM conformance gate failed (see above)");
        return Ok(cts);
    }

    eprintln!("xtask: cargo test --workspace (SQLite and PostgreSQL at {postgres_url})");
    let status = Command::new(cargo())
        .current_dir(&workspace)
        .args(["test", "--workspace", "--locked"])
        .args(&extra)
        .env("LMS_TEST_POSTGRES_URL", &postgres_url)
        .env("LMS_REQUIRE_POSTGRES", "1")
        .status()
        .context("running cargo test")?;
    if !status.success() {
        eprintln!("xtask: cargo test failed");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("xtask: all tests passed");
    Ok(ExitCode::SUCCESS)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

pub fn workspace_root() -> anyhow::Result<std::path::PathBuf> {
    let manifest_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest_dir.ancestors().nth(2).context("xtask is not inside the workspace")?.to_path_buf())
}

fn have(binary: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
        .unwrap_or(false)
}

fn install_tools() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = TOOLS.iter().filter(|(bin, _)| !have(bin)).map(|(_, pkg)| *pkg).collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    if !is_root || !have("apt-get") {
        bail!(
            "the tests need these Debian packages, which are not installed: {} (install them with apt-get as root)",
            missing.join(" ")
        );
    }
    eprintln!("xtask: installing {} (apt-get)", missing.join(" "));
    let update = Command::new("apt-get").args(["update", "-qq"]).status().context("apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed");
    }
    let install = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("apt-get install")?;
    if !install.success() {
        bail!("apt-get install {} failed", missing.join(" "));
    }
    Ok(())
}

/// Fails unless something accepts connections at the URL's host and port.
fn check_postgres(url: &str) -> anyhow::Result<()> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host_port = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host_port = host_port.split(['/', '?']).next().unwrap_or("127.0.0.1:5432");
    let host_port = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
    let addrs: Vec<_> = host_port.to_socket_addrs().with_context(|| format!("resolving {host_port}"))?.collect();
    for addr in &addrs {
        if TcpStream::connect_timeout(addr, Duration::from_secs(3)).is_ok() {
            return Ok(());
        }
    }
    bail!(
        "PostgreSQL is not reachable at {host_port} ({url}). The storage tests must run against PostgreSQL too; start it (Debian: pg_ctlcluster <version> main start) or set LMS_TEST_POSTGRES_URL"
    )
}
