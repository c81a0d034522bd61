//! Bad templates and bad certificate data are reported as errors (data), never panics.
//! The expected messages live in `template_errors.txt` (refresh with `UPDATE_EXPECT=1`).

use lms_certificate::*;
use serde_json::{Value, json};

fn builtin_json() -> Value {
    serde_json::from_str(&Template::builtin(Language::German, Orientation::Portrait).to_json())
        .expect("builtin JSON")
}

/// Sets the value at a JSON pointer (`/blocks/3/text`) in the built-in template and loads it.
fn template_with(pointer: &str, value: Value) -> String {
    let mut json = builtin_json();
    match json.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => {
            let (parent, key) = pointer.rsplit_once('/').expect("pointer");
            json.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap_or_else(|| panic!("no object at {parent}"))
                .insert(key.to_string(), value);
        }
    }
    match Template::from_json(&json.to_string()) {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

fn render_with(change: impl FnOnce(&mut Certificate, &mut Template)) -> String {
    let mut certificate = sample_certificate(None);
    let mut template = Template::builtin(Language::German, Orientation::Portrait);
    change(&mut certificate, &mut template);
    match render(
        &certificate,
        &template,
        &Fonts::builtin(),
        sample_issued_at(),
    ) {
        Ok(pdf) => format!(
            "ok ({} page)",
            crate::check_pdf("template-case", &pdf, &[]).pages
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn template_and_data_errors() {
    let mut out = String::new();
    let mut case = |name: &str, result: String| {
        out.push_str(&format!("{name}: {result}\n"));
    };
    case("builtin", template_with("/name", json!("renamed")));
    case(
        "unknown placeholder",
        template_with("/blocks/3/text", json!("{nmae}")),
    );
    case(
        "unclosed brace",
        template_with("/blocks/3/text", json!("Hallo {name")),
    );
    case(
        "stray closing brace",
        template_with("/blocks/3/text", json!("name}")),
    );
    case(
        "escaped braces",
        template_with("/blocks/3/text", json!("{{name}} {name}")),
    );
    case(
        "block off page",
        template_with("/blocks/0/x_mm", json!(500.0)),
    );
    case(
        "block past right edge",
        template_with("/blocks/0/width_mm", json!(200.0)),
    );
    case(
        "zero width",
        template_with("/blocks/0/width_mm", json!(0.0)),
    );
    case(
        "zero max lines",
        template_with("/blocks/0/max_lines", json!(0)),
    );
    case(
        "negative font size",
        template_with("/blocks/0/size_pt", json!(-3.0)),
    );
    case(
        "zero min size",
        template_with("/blocks/1/min_size_pt", json!(0.0)),
    );
    case(
        "personnel number in title",
        template_with("/title", json!("Bescheinigung {personnel_number}")),
    );
    case(
        "details unknown placeholder",
        template_with("/details/rows/0/value", json!("{foo}")),
    );
    case(
        "details too wide",
        template_with("/details/value_width_mm", json!(190.0)),
    );
    case("qr too big", template_with("/qr/size_mm", json!(300.0)));
    case("qr past edge", template_with("/qr/x_mm", json!(190.0)));
    case(
        "logo not a png",
        template_with("/logo/png", json!("bm90IGEgcG5nIGF0IGFsbCwganVzdCB0ZXh0")),
    );
    case("logo not base64", template_with("/logo/png", json!("###")));
    case("colour word", template_with("/accent", json!("blue")));
    case("language fr", template_with("/language", json!("fr")));
    case(
        "orientation",
        template_with("/orientation", json!("diagonal")),
    );
    case("unknown field", template_with("/colour", json!("#000000")));
    case(
        "caption placeholder",
        template_with("/signature/caption/0", json!("{signatory}")),
    );
    case(
        "rule thickness",
        template_with("/rules/0/thickness_pt", json!(0.0)),
    );
    case(
        "frame inset",
        template_with("/frame/inset_mm", json!(200.0)),
    );
    case(
        "not json",
        Template::from_json("not json")
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string()),
    );
    case(
        "oversized json",
        Template::from_json(&" ".repeat(MAX_TEMPLATE_BYTES + 1))
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string()),
    );

    case("sample renders", render_with(|_, _| {}));
    case(
        "empty name",
        render_with(|c, _| c.holder_name = "  ".into()),
    );
    case(
        "newline in name",
        render_with(|c, _| c.holder_name = "Anna\nBerg".into()),
    );
    case(
        "name too long",
        render_with(|c, _| c.holder_name = "ä".repeat(501)),
    );
    case(
        "name without glyphs",
        render_with(|c, _| c.holder_name = "山田 太郎".into()),
    );
    case("no dates", render_with(|c, _| c.dates.clear()));
    case(
        "too many dates",
        render_with(|c, _| c.dates = vec![c.dates[0]; MAX_DATES + 1]),
    );
    case(
        "course too long for three lines",
        render_with(|c, _| {
            c.course_title = "Verwaltungsdigitalisierungsgrundlagenschulung ".repeat(10)
        }),
    );
    case(
        "name too long for two lines",
        render_with(|c, _| c.holder_name = "Hubertus-Maximilian ".repeat(12)),
    );
    case(
        "trainer required but absent",
        render_with(|c, t| {
            c.trainer = None;
            t.blocks[2].text = "Leitung: {trainer}".into();
        }),
    );
    case(
        "trainer optional and absent",
        render_with(|c, t| {
            c.trainer = None;
            t.blocks[2].text = "Leitung: {trainer}".into();
            t.blocks[2].optional = true;
        }),
    );
    case(
        "url too long for a QR code",
        render_with(|c, t| {
            c.verification_url = format!("https://x.example/{}", "Ä".repeat(130));
            t.blocks.retain(|b| !b.text.contains("{verification_url}"));
        }),
    );
    case(
        "broken logo at render",
        render_with(|_, t| {
            if let Some(logo) = &mut t.logo {
                logo.png =
                    PngImage::new(b"\x89PNG\r\n\x1a\n0000IHDR\0\0\0\x10\0\0\0\x10garbage".to_vec());
            }
        }),
    );
    case(
        "garbage font",
        Fonts::from_ttf(b"nope".to_vec(), vec![], vec![], vec![])
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string()),
    );
    case(
        "history entry without dates",
        render_history(
            &sample_person(None),
            &[HistoryEntry {
                dates: vec![],
                ..sample_history(1)[0].clone()
            }],
            &Template::builtin(Language::German, Orientation::Portrait),
            &Fonts::builtin(),
            sample_issued_at(),
        )
        .map(|_| "ok".to_string())
        .unwrap_or_else(|e| e.to_string()),
    );
    expect_test::expect_file!["template_errors.txt"].assert_eq(&out);
}

/// Tiny deterministic generator so the fuzz-ish tests are reproducible.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mangled_template_json_never_panics() {
    let original = Template::builtin(Language::English, Orientation::Landscape).to_json();
    // Cut the base64 logo short so mutations hit the structure, not just image bytes.
    let mut json: Value = serde_json::from_str(&original).expect("json");
    json["logo"]["png"] = json!(base64_of_logo());
    let text = json.to_string();
    let mut rng = Lcg(7);
    let mut accepted = 0;
    for _ in 0..400 {
        let mut bytes = text.clone().into_bytes();
        for _ in 0..1 + rng.next() % 4 {
            let i = (rng.next() as usize) % bytes.len();
            bytes[i] = b"{}[]\":,0-9e.x \\n"[(rng.next() % 16) as usize];
        }
        let mangled = String::from_utf8_lossy(&bytes);
        if let Ok(template) = Template::from_json(&mangled) {
            accepted += 1;
            // Whatever was accepted must render or fail with an error, not panic.
            if let Ok(pdf) = render(
                &sample_certificate(None),
                &template,
                &Fonts::builtin(),
                sample_issued_at(),
            ) {
                crate::check_pdf("mangled-template", &pdf, &[]);
            }
        }
    }
    assert!(accepted < 400, "mutations should break most templates");
}

fn base64_of_logo() -> String {
    let parsed: Value =
        serde_json::from_str(&Template::builtin(Language::German, Orientation::Portrait).to_json())
            .expect("json");
    parsed["logo"]["png"].as_str().expect("logo").to_string()
}

#[test]
fn arbitrary_names_render_or_fail_cleanly() {
    let pool: Vec<char> =
        "aäbßcdeéfgğhiıjklłmnñoöøpqrsśtuüvwxyzÆØÅ -'’.,()/&%$§\"\\{}<>山😀\u{0301}\u{200B}\u{00A0}"
            .chars()
            .collect();
    let mut rng = Lcg(42);
    let template = Template::builtin(Language::German, Orientation::Portrait);
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..60 {
        let len = (rng.next() % 70) as usize;
        let name: String = (0..len)
            .map(|_| pool[(rng.next() as usize) % pool.len()])
            .collect();
        match render(
            &sample_certificate(Some(&name)),
            &template,
            &Fonts::builtin(),
            sample_issued_at(),
        ) {
            Ok(pdf) => {
                ok += 1;
                crate::check_pdf("arbitrary-name", &pdf, &[]);
            }
            Err(
                Error::InvalidField { .. }
                | Error::MissingGlyph { .. }
                | Error::TextOverflow { .. },
            ) => failed += 1,
            Err(other) => panic!("unexpected error for {name:?}: {other}"),
        }
    }
    assert!(
        ok > 0 && failed > 0,
        "ok={ok} failed={failed}: the pool should produce both"
    );
}
