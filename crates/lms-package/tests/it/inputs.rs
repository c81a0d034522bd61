//! Unusual and damaged structure files given straight to the parser (in memory): encodings,
//! syntax errors, and mutated bytes that must never make it panic.

use lms_package::{parse, MemorySource, ParseOptions, Parsed};

const MANIFEST: &str = r#"<?xml version="1.0" encoding="ENCODING"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Café élève</title>
    <item identifier="i" identifierref="r"><title>Übung</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormType="sco" href="index.html"><file href="index.html"/></resource></resources>
</manifest>"#;

fn parse_manifest(bytes: Vec<u8>) -> Parsed {
    let source = MemorySource::new([("imsmanifest.xml".to_string(), bytes), ("index.html".to_string(), b"x".to_vec())]);
    parse(&source, &ParseOptions::default())
}

/// One line per diagnostic, `line:column code`, for compact expectations.
fn summary(parsed: &Parsed) -> Vec<String> {
    parsed.diagnostics.iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.code)).collect()
}

#[test]
fn manifests_in_other_encodings_are_decoded() {
    let utf8 = MANIFEST.replace("ENCODING", "UTF-8");
    let latin1: Vec<u8> = MANIFEST.replace("ENCODING", "ISO-8859-1").chars().map(|c| c as u32 as u8).collect();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(MANIFEST.replace("ENCODING", "UTF-16").encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend(utf8.as_bytes());
    for (name, bytes) in [("utf-8", utf8.into_bytes()), ("latin-1", latin1), ("utf-16", utf16), ("utf-8 bom", utf8_bom)] {
        let parsed = parse_manifest(bytes);
        assert!(parsed.is_importable(), "{name}: {}", parsed.render());
        let package = parsed.package.unwrap();
        assert_eq!(package.title, "Café élève", "{name}");
        assert_eq!(package.organizations[0].items[0].title, "Übung", "{name}");
    }
}

#[test]
fn xml_errors_are_located() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("unclosed attribute quote", r#"<manifest identifier="m><organizations/></manifest>"#, &["1:1 malformed-xml"]),
        ("stray end tag", "<manifest identifier=\"m\">\n  </item>\n</manifest>", &["2:3 malformed-xml"]),
        ("unclosed at end", "<manifest identifier=\"m\">\n  <organizations>", &["1:1 malformed-xml", "2:3 malformed-xml"]),
        ("undefined entity", "<manifest identifier=\"m\">\n<metadata><schema>&nbsp;</schema></metadata></manifest>", &["2:19 malformed-xml"]),
        ("empty file", "", &["1:1 malformed-xml"]),
        ("wrong root", "<html/>", &["1:1 not-a-manifest"]),
    ];
    for (name, text, expected) in cases {
        let parsed = parse_manifest(text.as_bytes().to_vec());
        let got = summary(&parsed);
        for e in *expected {
            assert!(got.contains(&e.to_string()), "{name}: expected `{e}` in {got:?}");
        }
        assert!(!parsed.is_importable(), "{name}");
    }
}

#[test]
fn absurdly_deep_nesting_is_cut_off_not_overflowed() {
    let item = "<item identifier=\"i\">";
    let prefix = "<manifest identifier=\"m\"><organizations><organization identifier=\"o\">";
    let deep = format!("{prefix}{}</organization></organizations></manifest>", item.repeat(5000));
    let parsed = parse_manifest(deep.into_bytes());
    // 256 elements may be open (manifest, organizations, organization, 253 items): the
    // 254th <item> is where the cut is reported.
    let column = (prefix.len() + 253 * item.len() + 1) as u32;
    let cut = parsed.diagnostics.iter().find(|d| d.code == "malformed-xml").expect("a malformed-xml diagnostic");
    assert_eq!((cut.location.line, cut.location.column), (1, column), "{}", cut.message);
    assert!(cut.message.contains("nested more than 256 levels"), "{}", cut.message);
    assert!(parsed.render().contains("item i"));
    assert!(!parsed.is_importable());
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_structure_files_never_panic() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content-samples");
    let structure_files = [
        "scorm2004-4th-sequencing/package/imsmanifest.xml",
        "scorm12-basic/package/imsmanifest.xml",
        "cmi5-basic/package/cmi5.xml",
        "xapi-basic/package/tincan.xml",
        "aicc-basic/package/course.au",
        "aicc-basic/package/course.cst",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for relative in structure_files {
        let path = samples.join(relative);
        let original = std::fs::read(&path).unwrap();
        let dir = path.parent().unwrap();
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for round in 0..150 {
            let mut bytes = original.clone();
            match round % 3 {
                0 => bytes.truncate((rng.next() as usize) % (bytes.len() + 1)),
                1 => {
                    for _ in 0..1 + rng.next() % 8 {
                        let at = (rng.next() as usize) % bytes.len();
                        let table = b"<>\"'&/=:?# \n\x00\xff,aZ";
                        bytes[at] = table[(rng.next() as usize) % table.len()];
                    }
                }
                _ => {
                    let from = (rng.next() as usize) % bytes.len();
                    let len = (rng.next() as usize) % 200;
                    let chunk: Vec<u8> = bytes[from..(from + len).min(bytes.len())].to_vec();
                    let at = (rng.next() as usize) % bytes.len();
                    bytes.splice(at..at, chunk);
                }
            }
            for file in files.iter_mut() {
                if file.0 == name {
                    file.1 = bytes.clone();
                }
            }
            let source = MemorySource::new(files.clone());
            let parsed = parse(&source, &ParseOptions::default());
            // Every diagnostic names a file (or the whole package) and has a message.
            assert!(parsed.diagnostics.iter().all(|d| !d.message.is_empty()));
            runs += 1;
        }
    }
    assert_eq!(runs, 900);
}

#[test]
fn manifests_without_namespace_declarations_are_read() {
    // Sloppy tools omit every xmlns; prefixes alone then identify the ADL elements.
    let text = r#"<manifest identifier="m">
  <metadata><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>T</title>
    <item identifier="i" identifierref="r"><title>I</title><adlcp:masteryscore>70</adlcp:masteryscore></item>
  </organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"/></resources>
</manifest>"#;
    let parsed = parse_manifest(text.as_bytes().to_vec());
    assert!(parsed.is_importable(), "{}", parsed.render());
    let package = parsed.package.unwrap();
    assert_eq!(package.organizations[0].items[0].launch.mastery_score, Some(70.0));
    assert_eq!(package.resources[0].scorm_type, Some(lms_package::ScormType::Sco));
}

#[test]
fn aicc_files_in_windows_1252_are_decoded() {
    let crs = b"[Course]\r\nCourse_ID=C1\r\nCourse_Title=Sicherheit f\xfcr Anf\xe4nger\r\n".to_vec();
    let au = b"\"System_ID\",\"File_Name\"\r\n\"A1\",\"index.html\"\r\n".to_vec();
    let des = b"\"System_ID\",\"Title\"\r\n\"A1\",\"Gr\xf6\xdfe\"\r\n".to_vec();
    let cst = b"\"Block\",\"Member\"\r\n\"ROOT\",\"A1\"\r\n".to_vec();
    let source = MemorySource::new([
        ("c.crs", crs),
        ("c.au", au),
        ("c.des", des),
        ("c.cst", cst),
        ("index.html", b"x".to_vec()),
    ]);
    let parsed = parse(&source, &ParseOptions::default());
    assert!(parsed.is_importable(), "{}", parsed.render());
    let package = parsed.package.unwrap();
    assert_eq!(package.title, "Sicherheit für Anfänger");
    assert_eq!(package.organizations[0].items[0].title, "Größe");
}

#[test]
fn launch_helpers_follow_the_cam_rules() {
    use lms_package::append_parameters;
    for (href, parameters, expected) in [
        ("a.html", "?x=1", "a.html?x=1"),
        ("a.html", "x=1", "a.html?x=1"),
        ("a.html?y=2", "?x=1", "a.html?y=2&x=1"),
        ("a.html?y=2", "&x=1", "a.html?y=2&x=1"),
        ("a.html#top", "?x=1", "a.html?x=1#top"),
        ("a.html", "#part2", "a.html#part2"),
        ("a.html#top", "#part2", "a.html#top"),
        ("a.html", "  ", "a.html"),
    ] {
        assert_eq!(append_parameters(href, parameters), expected, "{href} + {parameters}");
    }
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content-samples");
    let parsed = lms_package::parse_dir(samples.join("scorm2004-3rd-basic/package"), &ParseOptions::default()).unwrap();
    let package = parsed.package.unwrap();
    let item = package.first_launchable_item().unwrap();
    assert_eq!(item.identifier, "lesson");
    assert_eq!(package.launch_url(item).as_deref(), Some("content/lesson/lesson.html?page=1"));
    assert_eq!(package.launch_file(item).as_deref(), Some("content/lesson/lesson.html"));
    let parsed = lms_package::parse_dir(samples.join("cmi5-basic/package"), &ParseOptions::default()).unwrap();
    let package = parsed.package.unwrap();
    let hosted = &package.organizations[0].items[1];
    assert_eq!(package.launch_file(hosted), None, "hosted elsewhere");
    // cmi5 launchParameters are not part of the URL.
    let au = &package.organizations[0].items[0].children[0];
    assert_eq!(package.launch_url(au).as_deref(), Some("au1/index.html"));
}
