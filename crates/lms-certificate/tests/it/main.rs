//! Integration tests of lms-certificate. Every PDF produced here goes through `check_pdf`:
//! PDF/A-2u validation (page_validation: the 2b rules plus Unicode mapping, 0 failed rules), `pdffonts` (every font
//! embedded, subset, with a Unicode map), `pdftotext` (expected text, umlauts included) and
//! `pdftoppm` (first page not blank). Poppler tools come from Debian's `poppler-utils`; when
//! they are missing the tests say so on stderr and fail if `CI` is set.

mod codes;
mod documents;
mod formatting;
mod generated;
mod templates;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use page_validation::{ValidationOptions, ValidationProfile, validate_pdf_bytes};

/// Whether pdffonts/pdftotext/pdftoppm are installed. Missing tools: loud on stderr; a panic
/// if `CI` is set (CI must run every check).
fn poppler_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| {
        ["pdffonts", "pdftotext", "pdftoppm"]
            .iter()
            .all(|tool| Command::new(tool).arg("-v").output().is_ok())
    });
    if !available {
        let message = "poppler-utils (pdffonts, pdftotext, pdftoppm) are not installed: \
                       `apt-get install -y poppler-utils`. The font, text and raster checks are SKIPPED.";
        if std::env::var_os("CI").is_some() {
            panic!("{message} CI is set, so this is a failure.");
        }
        eprintln!("WARNING: {message}");
    }
    available
}

fn scratch_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lms-certificate-it-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    })
    .clone()
}

fn run(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What `check_pdf` found, for further assertions.
#[derive(Debug)]
pub struct Checked {
    pub pages: usize,
    /// `pdftotext` output with runs of whitespace collapsed to one space (None without poppler).
    pub text: Option<String>,
}

/// Runs every archival and sanity check on `pdf` and asserts that each `expected` snippet
/// appears in the extracted text.
pub fn check_pdf(name: &str, pdf: &[u8], expected: &[&str]) -> Checked {
    assert!(pdf.starts_with(b"%PDF-1.7"), "{name}: not a PDF 1.7 file");
    // PDF/A-2u (what the file declares) = all PDF/A-2b rules + Unicode mapping rules.
    let report = validate_pdf_bytes(
        pdf,
        &ValidationOptions::default().profile(ValidationProfile::PdfA2u),
    )
    .unwrap_or_else(|e| panic!("{name}: validator could not read the PDF: {e}"));
    assert!(
        report.is_compliant && report.rules.failed == 0 && report.failures.is_empty(),
        "{name}: not PDF/A-2u:\n{report}"
    );
    assert!(
        report.rules.passed > 100,
        "{name}: validator checked too few rules:\n{report}"
    );
    let pages = report.document.page_count;
    // Forcing the 2b profile: every rule passes except the one that compares the declared
    // conformance level (the file says "U", the profile wants "B").
    let b = validate_pdf_bytes(
        pdf,
        &ValidationOptions::default().profile(ValidationProfile::PdfA2b),
    )
    .unwrap_or_else(|e| panic!("{name}: validator could not read the PDF: {e}"));
    let unexpected: Vec<_> = b
        .failures
        .iter()
        .filter(|f| f.rule_id != "ISO 19005-2:2011:6.6.4:3")
        .collect();
    assert!(
        unexpected.is_empty() && b.rules.failed <= 1,
        "{name}: PDF/A-2b failures:\n{b}"
    );
    // Without a forced profile the validator reads the declaration from the XMP: 2u.
    let declared = validate_pdf_bytes(pdf, &ValidationOptions::default()).expect("validate");
    assert_eq!(
        declared.profile,
        ValidationProfile::PdfA2u,
        "{name}: declared profile"
    );
    assert!(declared.is_compliant, "{name}:\n{declared}");

    if !poppler_available() {
        return Checked { pages, text: None };
    }
    let path = scratch_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write scratch PDF");
    let file = path.to_str().expect("utf-8 path");

    let fonts = run("pdffonts", &[file]);
    let font_lines: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        !font_lines.is_empty(),
        "{name}: pdffonts lists no fonts:\n{fonts}"
    );
    for line in &font_lines {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let n = columns.len();
        assert!(n >= 7, "{name}: unexpected pdffonts line {line:?}");
        let (emb, sub, uni) = (columns[n - 5], columns[n - 4], columns[n - 3]);
        assert_eq!(
            (emb, sub, uni),
            ("yes", "yes", "yes"),
            "{name}: font not embedded+subset+unicode: {line}"
        );
        assert!(
            columns[0].contains('+'),
            "{name}: subset font name lacks a tag: {line}"
        );
    }

    let raw_text = run("pdftotext", &["-enc", "UTF-8", file, "-"]);
    let text = raw_text.split_whitespace().collect::<Vec<_>>().join(" ");
    for snippet in expected {
        assert!(
            text.contains(snippet),
            "{name}: text lacks {snippet:?}; got:\n{text}"
        );
    }

    let prefix = scratch_dir().join(format!("{name}-page"));
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            file,
            prefix.to_str().expect("utf-8"),
        ],
    );
    let png_path = find_png(&prefix);
    let (ink, total) = non_white_pixels(&png_path);
    std::fs::remove_file(&png_path).ok();
    std::fs::remove_file(&path).ok();
    assert!(
        ink * 100 > total,
        "{name}: first page looks blank ({ink} of {total} pixels not white)"
    );
    Checked {
        pages,
        text: Some(text),
    }
}

fn find_png(prefix: &Path) -> PathBuf {
    let dir = prefix.parent().expect("dir");
    let stem = prefix.file_name().and_then(|s| s.to_str()).expect("stem");
    std::fs::read_dir(dir)
        .expect("read scratch dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.starts_with(stem) && s.ends_with(".png"))
        })
        .unwrap_or_else(|| panic!("pdftoppm wrote no PNG for {stem}"))
}

/// Counts pixels that are clearly not white (any channel below 200).
fn non_white_pixels(path: &Path) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("open png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut buffer = vec![0; reader.output_buffer_size().expect("png size")];
    let info = reader.next_frame(&mut buffer).expect("png frame");
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "pdftoppm PNG depth");
    let pixels = &buffer[..info.buffer_size()];
    let total = pixels.len() / channels;
    let ink = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3.min(channels)).any(|&v| v < 200))
        .count();
    (ink, total)
}

/// Renders the first page at 150 dpi and decodes the QR code(s) on it (poppler + rqrr).
/// `None` without poppler.
pub fn decode_qr_codes(name: &str, pdf: &[u8]) -> Option<Vec<String>> {
    if !poppler_available() {
        return None;
    }
    let path = scratch_dir().join(format!("{name}-qr.pdf"));
    std::fs::write(&path, pdf).expect("write scratch PDF");
    let prefix = scratch_dir().join(format!("{name}-qr-page"));
    run(
        "pdftoppm",
        &[
            "-png",
            "-gray",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            path.to_str().expect("utf-8"),
            prefix.to_str().expect("utf-8"),
        ],
    );
    let png_path = find_png(&prefix);
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).expect("open png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut buffer = vec![0; reader.output_buffer_size().expect("png size")];
    let info = reader.next_frame(&mut buffer).expect("png frame");
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    std::fs::remove_file(&png_path).ok();
    std::fs::remove_file(&path).ok();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        buffer[(y * width + x) * channels]
    });
    Some(
        image
            .detect_grids()
            .into_iter()
            .map(|grid| {
                grid.decode()
                    .map(|(_, text)| text)
                    .unwrap_or_else(|e| format!("undecodable: {e}"))
            })
            .collect(),
    )
}
