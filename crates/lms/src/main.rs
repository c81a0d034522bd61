//! `lms`: the server and the command-line tools.
//!
//! Exit codes: 0 success, 1 the input was refused (not importable, rejected rows), 2 usage
//! errors (clap's own), 3 anything else going wrong (database unreachable, disk full…).

mod certificates;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lms_package::archive::{ArchiveLimits, SafeArchive};
use lms_package::{ParseOptions, Severity};
use lms_store::{ImportOptions, PersonRow, Store, StoreConfig};

#[derive(Parser)]
#[command(name = "lms", version, about = "Learning-management core: SCORM, cmi5/xAPI, blended learning")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        #[command(flatten)]
        storage: StorageArgs,
        /// Address to listen on.
        #[arg(long, env = "LMS_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Largest accepted package upload, in bytes.
        #[arg(long, env = "LMS_MAX_UPLOAD_BYTES", default_value_t = 2 * 1024 * 1024 * 1024)]
        max_upload_bytes: u64,
        /// The xAPI version the LRS answers with when a request has no valid version header.
        #[arg(short = 'x', long, env = "LMS_XAPI_VERSION", default_value = "2.0.0", value_parser = parse_xapi_version)]
        xapi_version: lms_server::XapiVersion,
    },
    /// Work with e-learning packages.
    #[command(subcommand)]
    Package(PackageCommand),
    /// Work with people.
    #[command(subcommand)]
    People(PeopleCommand),
    /// Certificates of attendance: sample, issue, revoke, verify, render, export.
    #[command(subcommand)]
    Certificates(certificates::Command),
}

#[derive(Subcommand)]
enum PackageCommand {
    /// Parse a package (zip or folder) and print its model and every problem found.
    /// Exit 0 when it is importable, 1 when it is not.
    Inspect {
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Check only the manifest, not whether the files it names exist.
        #[arg(long)]
        manifest_only: bool,
    },
    /// Import a package (zip or folder) into the store.
    Import {
        path: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum PeopleCommand {
    /// Load people from an HR export (CSV with a header: personnel_number,name,org_unit[,roles]).
    Import {
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set a person's password (read from standard input, one line).
    SetPassword {
        personnel_number: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Create an API token for a person and print it (shown once).
    CreateToken {
        personnel_number: String,
        #[arg(long, default_value = "cli")]
        label: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// Data folder (SQLite database unless --database-url, and package files).
    #[arg(long, env = "LMS_DATA", default_value = "./lms-data")]
    data: PathBuf,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, env = "LMS_DATABASE_URL")]
    database_url: Option<String>,
}

impl StorageArgs {
    fn config(&self) -> StoreConfig {
        StoreConfig { data_dir: self.data.clone(), database_url: self.database_url.clone(), max_connections: 16 }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LMS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(3)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { storage, bind, max_upload_bytes, xapi_version } => {
            serve(storage, bind, max_upload_bytes, xapi_version).await
        }
        Command::Package(PackageCommand::Inspect { path, json, manifest_only }) => inspect(&path, json, manifest_only),
        Command::Package(PackageCommand::Import { path, storage }) => import(&path, &storage).await,
        Command::People(PeopleCommand::Import { file, storage }) => people_import(&file, &storage).await,
        Command::Certificates(command) => certificates::run(command).await,
        Command::People(PeopleCommand::SetPassword { personnel_number, storage }) => {
            let store = Store::open(&storage.config()).await?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
            store.set_password(&personnel_number, line.trim_end_matches(['\r', '\n'])).await?;
            eprintln!("password set for {personnel_number}");
            Ok(ExitCode::SUCCESS)
        }
        Command::People(PeopleCommand::CreateToken { personnel_number, label, storage }) => {
            let store = Store::open(&storage.config()).await?;
            if store.person(&personnel_number).await?.is_none() {
                anyhow::bail!("no person with personnel number {personnel_number:?}");
            }
            println!("{}", store.create_api_token(&personnel_number, &label).await?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_xapi_version(text: &str) -> Result<lms_server::XapiVersion, String> {
    match text {
        "2.0.0" => Ok(lms_server::XapiVersion::V2_0_0),
        "1.0.3" => Ok(lms_server::XapiVersion::V1_0_3),
        _ => Err(format!("{text:?} is not 2.0.0 or 1.0.3")),
    }
}

async fn serve(
    storage: StorageArgs,
    bind: SocketAddr,
    max_upload_bytes: u64,
    xapi_version: lms_server::XapiVersion,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&storage.config()).await.context("opening the store")?;
    tracing::info!(backend = ?store.backend(), data = %storage.data.display(), "store ready");
    if let Ok(token) = std::env::var("LMS_ADMIN_TOKEN") {
        if !token.is_empty() {
            store.ensure_bootstrap_admin(&token).await.context("LMS_ADMIN_TOKEN")?;
            tracing::info!("bootstrap admin 'admin' has the LMS_ADMIN_TOKEN bearer token");
        }
    }
    if let Ok(basic) = std::env::var("LMS_LRS_BASIC") {
        let (key, secret) = basic.split_once(':').context("LMS_LRS_BASIC must be key:secret")?;
        store.ensure_xapi_client(key, secret, &["all"]).await.context("LMS_LRS_BASIC")?;
        tracing::info!(key, "LRS client from LMS_LRS_BASIC has scope all");
    }
    let mut config = lms_server::ServerConfig::new(&storage.data);
    config.max_upload_bytes = max_upload_bytes;
    // SCORM content runs on its own origin (a second listener): LMS_CONTENT_BIND (default: the
    // main port + 1) and LMS_CONTENT_ORIGIN, the URL browsers reach it at (default http://<bind>).
    let content_bind: SocketAddr = match std::env::var("LMS_CONTENT_BIND") {
        Ok(text) => text.parse().with_context(|| format!("LMS_CONTENT_BIND {text:?} is not host:port"))?,
        Err(_) => SocketAddr::new(bind.ip(), bind.port().checked_add(1).context("the main port leaves no port for content")?),
    };
    config.content_origin = Some(match std::env::var("LMS_CONTENT_ORIGIN") {
        Ok(origin) => origin.trim_end_matches('/').to_string(),
        Err(_) => format!("http://{content_bind}"),
    });
    config.xapi_version = xapi_version;
    // The LMS's public URL: learner accounts' homePage and the base of activity IRIs in the
    // statements it writes. LMS_PUBLIC_URL, default http://<bind>.
    config.public_url = match std::env::var("LMS_PUBLIC_URL") {
        Ok(url) => url.trim_end_matches('/').to_string(),
        Err(_) => format!("http://{bind}"),
    };
    let state = lms_server::AppState::new(store, config).context("preparing the spool folder")?;
    let content_state = state.clone();
    tokio::try_join!(
        async { lms_server::serve(state, bind).await.with_context(|| format!("serving on {bind}")) },
        async {
            lms_server::serve_content(content_state, content_bind)
                .await
                .with_context(|| format!("serving content on {content_bind}"))
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn inspect(path: &Path, json: bool, manifest_only: bool) -> anyhow::Result<ExitCode> {
    let options = ParseOptions { manifest_only };
    let parsed = if path.is_dir() {
        lms_package::parse_dir(path, &options).with_context(|| format!("reading {}", path.display()))?
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        match SafeArchive::open(std::io::BufReader::new(file), &ArchiveLimits::default()) {
            Ok(archive) => lms_package::parse(&lms_package::ZipSource::new(archive), &options),
            Err(refused) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({ "importable": false, "error": refused.to_string(), "diagnostics": [] })
                    );
                } else {
                    eprintln!("error: the archive was refused: {refused}");
                }
                return Ok(ExitCode::from(1));
            }
        }
    };
    let importable = parsed.is_importable();
    if json {
        let value = serde_json::json!({
            "importable": importable,
            "package": parsed.package,
            "diagnostics": parsed.diagnostics,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        if let Some(package) = &parsed.package {
            print!("{}", lms_package::render_tree(package));
        }
        for d in &parsed.diagnostics {
            println!("{d}");
        }
        let errors = parsed.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let warnings = parsed.diagnostics.len() - errors;
        println!(
            "{}: {errors} error(s), {warnings} warning(s)",
            if importable { "importable" } else { "NOT importable" }
        );
    }
    Ok(if importable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A folder is zipped (stored, uncompressed) into a temporary file first, so folders and
/// zips go through the same checks.
fn zip_folder(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let tmp = tempfile::NamedTempFile::new()?;
    let mut writer = zip::ZipWriter::new(tmp.reopen()?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&folder)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                anyhow::bail!("{} is a symbolic link; packages must not contain links", path.display());
            }
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            writer.start_file(relative, options)?;
            let mut file = std::fs::File::open(&path)?;
            std::io::copy(&mut file, &mut writer)?;
        }
    }
    writer.finish()?.flush()?;
    Ok(tmp)
}

async fn import(path: &Path, storage: &StorageArgs) -> anyhow::Result<ExitCode> {
    let _folder_zip;
    let zip_path = if path.is_dir() {
        _folder_zip = zip_folder(path)?;
        _folder_zip.path().to_path_buf()
    } else {
        path.to_path_buf()
    };
    let store = Store::open(&storage.config()).await.context("opening the store")?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} importing [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress_bar = bar.clone();
    let progress = Box::new(move |done: u64, total: u64| {
        progress_bar.set_length(total);
        progress_bar.set_position(done);
    });
    let started = Instant::now();
    let result = store.import_package_zip(&zip_path, &ImportOptions::default(), Some(progress)).await;
    bar.finish_and_clear();
    match result {
        Ok(outcome) => {
            for d in &outcome.diagnostics {
                eprintln!("{d}");
            }
            let r = &outcome.record;
            if outcome.duplicate {
                println!("already stored: package {} ({} v{}, {:?}); nothing new written", r.id, r.standard, r.version, r.title);
            } else {
                println!(
                    "imported package {} ({} v{}, {:?}): {} files, {} bytes in {:.2?}",
                    r.id,
                    r.standard,
                    r.version,
                    r.title,
                    r.n_files,
                    r.total_size,
                    started.elapsed()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(lms_store::Error::NotImportable { diagnostics, .. }) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            eprintln!("error: the package is not importable; nothing was stored");
            Ok(ExitCode::from(1))
        }
        Err(lms_store::Error::Archive(refused)) => {
            eprintln!("error: the archive was refused: {refused}; nothing was stored");
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
}

async fn people_import(file: &Path, storage: &StorageArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let rows = read_people_csv(file)?;
    let n_rows = rows.len();
    let store = Store::open(&storage.config()).await.context("opening the store")?;
    let report = store.import_people(rows).await?;
    for unit in &report.created_org_units {
        eprintln!("created org unit {unit:?}");
    }
    for rejected in &report.rejected {
        eprintln!(
            "{}:{}: rejected {:?}: {}",
            file.display(),
            rejected.line,
            rejected.personnel_number,
            rejected.reason
        );
    }
    println!(
        "{n_rows} rows: {} created, {} updated, {} rejected in {:.2?}",
        report.created,
        report.updated,
        report.rejected.len(),
        started.elapsed()
    );
    Ok(if report.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Reads an HR export. Header names are matched case-insensitively; `;` or `,` separated
/// (detected from the header line); UTF-8 with or without BOM.
fn read_people_csv(file: &Path) -> anyhow::Result<Vec<PersonRow>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{} is not UTF-8; export it as UTF-8 CSV", file.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(pn), Some(name)) = (column("personnel_number"), column("name")) else {
        anyhow::bail!(
            "{}: the header must name the columns personnel_number and name (and optionally org_unit, roles); found {:?}",
            file.display(),
            headers
        );
    };
    let org = column("org_unit");
    let roles = column("roles");
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.with_context(|| format!("{}:{line}: unreadable CSV row", file.display()))?;
        let get = |idx: Option<usize>| idx.and_then(|i| record.get(i)).unwrap_or("").to_string();
        rows.push(PersonRow {
            line,
            personnel_number: get(Some(pn)),
            name: get(Some(name)),
            org_unit: get(org),
            roles: get(roles),
        });
    }
    Ok(rows)
}
