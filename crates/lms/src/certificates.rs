//! `lms certificates …`: the sample (no database), issuance by hand, revocation, re-issue,
//! verification, batch rendering of an offering and the personnel-file export (both as zip,
//! with a progress bar), templates and settings.

use std::io::{BufWriter, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use lms_certificate::{Fonts, Language, Orientation};
use lms_store::{ExportFilter, IssueRequest, ManualCertificate, Store};

use super::StorageArgs;

#[derive(Subcommand)]
pub enum Command {
    /// Render a sample certificate from the built-in template (no database needed).
    Sample {
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
        /// The holder's name (default "Jürgen Groß-Weiß").
        #[arg(long)]
        name: Option<String>,
        /// English instead of German.
        #[arg(long)]
        english: bool,
        /// A4 landscape instead of portrait.
        #[arg(long)]
        landscape: bool,
        /// Render the sample training history instead of a certificate.
        #[arg(long)]
        history: bool,
    },
    /// Issue (or reuse) the certificates of everyone who completed an offering and write them
    /// all into a zip (with metadata.json and metadata.csv).
    Render {
        #[arg(long)]
        offering: i64,
        /// The zip to write.
        #[arg(long)]
        out: PathBuf,
        /// Rendering threads (default: the number of cores).
        #[arg(long)]
        workers: Option<NonZeroUsize>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Personnel-file export: valid certificates (of one person and/or a period), training
    /// histories, metadata.json and metadata.csv, as a zip.
    Export {
        /// Only this person.
        #[arg(long)]
        person: Option<String>,
        /// Certificates whose last training day is on or after this day (YYYY-MM-DD).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// … and on or before this day.
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Leave out the training-history PDFs.
        #[arg(long)]
        no_history: bool,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Issue a certificate by hand.
    Issue {
        #[arg(long)]
        person: String,
        #[arg(long)]
        course: String,
        /// A day attended (YYYY-MM-DD); repeat for several.
        #[arg(long = "date", required = true)]
        dates: Vec<NaiveDate>,
        #[arg(long)]
        minutes: u32,
        /// The issuing org unit (its name is printed, its template used).
        #[arg(long)]
        org_unit: String,
        #[arg(long)]
        trainer: Option<String>,
        /// Also write the PDF here.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Issue certificates for every completion that has none yet.
    Pending {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Revoke a certificate.
    Revoke {
        code: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Re-issue a certificate (new code; the old one is kept as superseded).
    Reissue {
        code: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Show a certificate's status; with --pdf, check a file against the issued one.
    /// Exit 1 when the certificate is not valid or the file does not match.
    Verify {
        code: String,
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set the template of an org unit (or the default) from a JSON file.
    SetTemplate {
        file: PathBuf,
        /// Without it, the default for every unit without its own.
        #[arg(long)]
        org_unit: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set the public base URL that verification links and QR codes point to.
    SetBaseUrl {
        url: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sample { out, name, english, landscape, history } => sample(&out, name.as_deref(), english, landscape, history).await,
        Command::Render { offering, out, workers, storage } => {
            let store = open(&storage).await?;
            let workers = workers.unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN));
            let total = store.offering_completers(offering).await?.len() as u64;
            let bar = progress_bar(total, "rendering");
            let started = Instant::now();
            let report = write_zip(&out, |file| {
                let bar = bar.clone();
                let progress: lms_store::CertificateProgress = Arc::new(move |done, _| bar.set_position(done));
                store.render_offering_certificates(offering, None, Utc::now(), workers, file, Some(progress))
            })
            .await;
            bar.finish_and_clear();
            let report = report?;
            for failed in &report.failed {
                eprintln!("no certificate for {}: {}", failed.personnel_number, failed.message);
            }
            println!(
                "{}: {} issued, {} already issued, {} failed in {:.2?}",
                out.display(),
                report.issued,
                report.existing,
                report.failed.len(),
                started.elapsed()
            );
            Ok(if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Export { person, from, to, no_history, out, storage } => {
            let store = open(&storage).await?;
            let filter = ExportFilter { personnel_number: person, from, to, include_history: !no_history };
            let bar = progress_bar(0, "exporting");
            let started = Instant::now();
            let report = write_zip(&out, |file| {
                let bar = bar.clone();
                let progress: lms_store::CertificateProgress = Arc::new(move |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                });
                store.export_certificates(&filter, Utc::now(), file, Some(progress))
            })
            .await;
            bar.finish_and_clear();
            let report = report?;
            println!(
                "{}: {} certificates of {} people, {} training histories in {:.2?}",
                out.display(),
                report.certificates,
                report.people,
                report.histories,
                started.elapsed()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Issue { person, course, dates, minutes, org_unit, trainer, out, storage } => {
            let store = open(&storage).await?;
            let request = IssueRequest::Manual(ManualCertificate {
                personnel_number: person,
                course_title: course,
                dates,
                duration_minutes: minutes,
                trainer,
                org_unit_id: org_unit,
                course_id: None,
            });
            let issued = match store.issue_certificate(&request, Some("cli"), Utc::now()).await {
                Ok(Some(issued)) => issued,
                Ok(None) => anyhow::bail!("nothing to certify"),
                Err(e @ (lms_store::Error::Invalid { .. } | lms_store::Error::NotFound { .. })) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(out) = out {
                let pdf = store.certificate_pdf(&issued.code).await?;
                std::fs::write(&out, pdf).with_context(|| format!("writing {}", out.display()))?;
            }
            println!("{} {}", issued.code, issued.certificate.verification_url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Pending { storage } => {
            let store = open(&storage).await?;
            let codes = store.issue_pending_certificates(Utc::now()).await?;
            for code in &codes {
                println!("{code}");
            }
            eprintln!("{} certificate(s) issued", codes.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke { code, reason, storage } => {
            let store = open(&storage).await?;
            match store.revoke_certificate(&code, &reason, Some("cli"), Utc::now()).await {
                Ok(issued) => {
                    println!("{} revoked", issued.code);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ (lms_store::Error::Invalid { .. } | lms_store::Error::NotFound { .. })) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Reissue { code, out, storage } => {
            let store = open(&storage).await?;
            let issued = match store.reissue_certificate(&code, Some("cli"), Utc::now()).await {
                Ok(issued) => issued,
                Err(e @ (lms_store::Error::Invalid { .. } | lms_store::Error::NotFound { .. })) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(out) = out {
                std::fs::write(&out, store.certificate_pdf(&issued.code).await?).with_context(|| format!("writing {}", out.display()))?;
            }
            println!("{} replaces {}", issued.code, issued.replaces.unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { code, pdf, storage } => {
            let store = open(&storage).await?;
            let issued = match store.certificate(&code).await {
                Ok(Some(issued)) => issued,
                Ok(None) => {
                    println!("{code}: no such certificate");
                    return Ok(ExitCode::from(1));
                }
                Err(e @ lms_store::Error::Invalid { .. }) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            let c = &issued.certificate;
            println!(
                "{}: {} — {}, {}, issued {} by {}",
                issued.code,
                issued.status.as_str(),
                c.holder_name,
                c.course_title,
                issued.issued_at.format("%Y-%m-%d"),
                c.department
            );
            let mut ok = issued.status == lms_store::CertificateStatus::Valid;
            if let Some(path) = pdf {
                let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                let (_, check) = store.check_certificate_pdf(&issued.code, &bytes).await?.context("the certificate vanished")?;
                if check.matches {
                    println!("{}: matches the issued PDF", path.display());
                } else {
                    println!("{}: does NOT match the issued PDF (sha256 {})", path.display(), check.uploaded_sha256);
                    ok = false;
                }
            }
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::SetTemplate { file, org_unit, storage } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let template = match lms_certificate::Template::from_json(&text) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return Ok(ExitCode::from(1));
                }
            };
            let store = open(&storage).await?;
            let sha = store.set_certificate_template(org_unit.as_deref(), &template, Some("cli")).await?;
            println!("template {sha} set for {}", org_unit.as_deref().unwrap_or("the default"));
            Ok(ExitCode::SUCCESS)
        }
        Command::SetBaseUrl { url, storage } => {
            let store = open(&storage).await?;
            match store.set_certificate_base_url(&url).await {
                Ok(url) => {
                    println!("verification links: {url}/verify/CODE");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ lms_store::Error::Invalid { .. }) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

async fn open(storage: &StorageArgs) -> anyhow::Result<Store> {
    Store::open(&storage.config()).await.context("opening the store")
}

fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Writes a zip to `<out>.part` and renames it to `out` once complete.
async fn write_zip<T, F, Fut>(out: &Path, produce: F) -> anyhow::Result<T>
where
    F: FnOnce(BufWriter<std::fs::File>) -> Fut,
    Fut: Future<Output = Result<T, lms_store::Error>>,
{
    let part = out.with_extension("zip.part");
    let file = std::fs::File::create(&part).with_context(|| format!("creating {}", part.display()))?;
    match produce(BufWriter::with_capacity(256 * 1024, file)).await {
        Ok(value) => {
            std::fs::rename(&part, out).with_context(|| format!("renaming {} to {}", part.display(), out.display()))?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e.into())
        }
    }
}

async fn sample(out: &Path, name: Option<&str>, english: bool, landscape: bool, history: bool) -> anyhow::Result<ExitCode> {
    let language = if english { Language::English } else { Language::German };
    let orientation = if landscape { Orientation::Landscape } else { Orientation::Portrait };
    let name = name.map(str::to_string);
    let rendered = tokio::task::spawn_blocking(move || {
        let template = lms_certificate::sample_template(language, orientation);
        let fonts = Fonts::builtin();
        let issued_at = lms_certificate::sample_issued_at();
        if history {
            let person = lms_certificate::sample_person(name.as_deref());
            lms_certificate::render_history(&person, &lms_certificate::sample_history(12), &template, &fonts, issued_at)
        } else {
            lms_certificate::render(&lms_certificate::sample_certificate(name.as_deref()), &template, &fonts, issued_at)
        }
    })
    .await?;
    let pdf = match rendered {
        Ok(pdf) => pdf,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    file.write_all(&pdf).with_context(|| format!("writing {}", out.display()))?;
    println!("{}: {} bytes, PDF/A-2u", out.display(), pdf.len());
    Ok(ExitCode::SUCCESS)
}
