//! cmi5 course structures: structure in, verdict and cited requirement ids out. The cases
//! cover what ADL's cmi5 LMS test suite (CATAPULT `lts/`) checks at import: fully
//! qualified IRIs, relative URLs without a zip, a launch file missing from the zip, query
//! names that collide with launch parameters, duplicated block/objective/AU ids, a URL that
//! is not RFC 1738, a structure out of schema order, `cmi5.xml` not at the root; and that a
//! 1,000-AU course and a zip64 package import.

use std::io::{Cursor, Write};

use lms_package::{cmi5_requirement, parse, parse_zip_bytes, ArchiveLimits, MemorySource, ParseOptions, Parsed, Severity};

const NS: &str = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd";

fn texts(what: &str) -> String {
    format!(
        "<title><langstring lang=\"en-US\">{what}</langstring></title><description><langstring lang=\"en-US\">About {what}.</langstring></description>"
    )
}

/// A course structure with the course element written for it and `body` after it.
fn structure(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<courseStructure xmlns=\"{NS}\">\n<course id=\"https://example.org/c\">{}</course>\n{body}\n</courseStructure>\n",
        texts("Course")
    )
}

fn au(id: &str, url: &str) -> String {
    format!("<au id=\"{id}\">{}<url>{url}</url></au>", texts("AU"))
}

/// `true` when the package is a zip holding `index.html` beside `cmi5.xml`; `false` for a
/// bare `cmi5.xml`.
fn parse_structure(xml: &str, zipped: bool) -> Parsed {
    let mut files = vec![("cmi5.xml".to_string(), xml.as_bytes().to_vec())];
    if zipped {
        files.push(("index.html".to_string(), b"<html></html>".to_vec()));
    }
    parse(&MemorySource::new(files), &ParseOptions::default())
}

/// The error diagnostics as `code requirement`, sorted.
fn errors(parsed: &Parsed) -> Vec<String> {
    let mut out: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {}", d.code, cmi5_requirement(d).unwrap_or("-")))
        .collect();
    out.sort();
    out
}

/// One case: the structure, whether it comes zipped, the expected error list (empty =
/// importable).
fn check(name: &str, xml: &str, zipped: bool, expected: &[&str]) -> Result<(), String> {
    let parsed = parse_structure(xml, zipped);
    let actual = errors(&parsed);
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    if actual != expected || parsed.is_importable() != expected.is_empty() {
        return Err(format!("{name}: expected {expected:?}, got {actual:?}\n{}", parsed.render()));
    }
    Ok(())
}

#[test]
fn course_structures_get_the_verdict_and_requirement_the_spec_gives() {
    let good_au = au("https://example.org/au", "index.html");
    let cases: Vec<(&str, String, bool, Vec<&str>)> = vec![
        ("valid zipped course", structure(&good_au), true, vec![]),
        (
            "valid bare course with an absolute url",
            structure(&au("https://example.org/au", "https://cdn.example.org/au/index.html?x=1")),
            false,
            vec![],
        ),
        (
            "course id without scheme",
            structure(&good_au).replace("https://example.org/c\"", "example.org/c\""),
            true,
            vec!["not-an-iri 3.0.0.0-1"],
        ),
        (
            "block id without scheme",
            structure(&format!("<block id=\"example.org/b\">{}{good_au}</block>", texts("B"))),
            true,
            vec!["not-an-iri 3.0.0.0-1"],
        ),
        ("au id without scheme", structure(&au("example.org/au", "index.html")), true, vec!["not-an-iri 3.0.0.0-1"]),
        (
            "objective id without scheme",
            structure(&format!(
                "<objectives><objective id=\"example.org/o\">{}</objective></objectives><au id=\"https://example.org/au\">{}<objectives><objective idref=\"example.org/o\"/></objectives><url>index.html</url></au>",
                texts("O"),
                texts("AU")
            )),
            true,
            vec!["not-an-iri 3.0.0.0-1"],
        ),
        ("relative url without zip", structure(&good_au), false, vec!["relative-url-without-package 14.2.0.0-1"]),
        (
            "relative path url without zip",
            structure(&au("https://example.org/au", "path/1/index.html?abc=def")),
            false,
            vec!["relative-url-without-package 14.2.0.0-1"],
        ),
        (
            "rooted url without zip",
            structure(&au("https://example.org/au", "/index.html")),
            false,
            vec!["relative-url-without-package 14.2.0.0-1"],
        ),
        (
            "relative url naming no file of the zip",
            structure(&au("https://example.org/au", "not-found.html")),
            true,
            vec!["missing-launch-file 14.1.0.0-4"],
        ),
        (
            "query name colliding with a launch parameter",
            structure(&au("https://example.org/au", "index.html?endpoint=http://example.org/lrs")),
            true,
            vec!["launch-parameter-conflict 8.1.0.0-6"],
        ),
        (
            "registration in an absolute url's query",
            structure(&au("https://example.org/au", "https://x.org/a.html?a=1&amp;registration=2")),
            true,
            vec!["launch-parameter-conflict 8.1.0.0-6"],
        ),
        (
            "duplicated block id",
            structure(&format!(
                "<block id=\"https://example.org/b\">{t}{a1}</block><block id=\"https://example.org/b\">{t}{a2}</block>",
                t = texts("B"),
                a1 = au("https://example.org/au1", "index.html"),
                a2 = au("https://example.org/au2", "index.html")
            )),
            true,
            vec!["duplicate-identifier 13.1.2.0-1"],
        ),
        (
            "duplicated objective id",
            structure(&format!(
                "<objectives><objective id=\"https://example.org/o\">{t}</objective><objective id=\"https://example.org/o\">{t}</objective></objectives>{good_au}",
                t = texts("O")
            )),
            true,
            vec!["duplicate-identifier 13.1.3.0-1"],
        ),
        (
            "duplicated au id",
            structure(&format!("{good_au}{good_au}")),
            true,
            vec!["duplicate-identifier 13.1.4.0-1"],
        ),
        (
            "au id equal to the course id",
            structure(&au("https://example.org/c", "index.html")),
            true,
            vec!["duplicate-identifier 13.1.4.0-1"],
        ),
        (
            "url with a space",
            structure(&au("https://example.org/au", "http://example.com index.html")),
            true,
            vec!["invalid-url 13.1.4.0-2"],
        ),
        (
            "url before title (schema order)",
            structure(&format!("<au id=\"https://example.org/au\"><url>index.html</url>{}</au>", texts("AU"))),
            true,
            vec!["misplaced-element 13.2.0.0-1", "misplaced-element 13.2.0.0-1"],
        ),
        (
            "au without description",
            structure("<au id=\"https://example.org/au\"><title><langstring>AU</langstring></title><url>index.html</url></au>"),
            true,
            vec!["missing-element 13.2.0.0-1"],
        ),
        (
            "au without url",
            structure(&format!("<au id=\"https://example.org/au\">{}</au>", texts("AU"))),
            true,
            vec!["missing-element 13.2.0.0-1"],
        ),
        (
            "empty block",
            structure(&format!("<block id=\"https://example.org/b\">{}</block>{good_au}", texts("B"))),
            true,
            vec!["missing-element 13.2.0.0-1"],
        ),
        ("course without au", structure(""), true, vec!["missing-element 13.2.0.0-1"]),
        (
            "unknown cmi5 element",
            structure(&format!("<au id=\"https://example.org/au\">{}<url>index.html</url><colour>red</colour></au>", texts("AU"))),
            true,
            vec!["unknown-element 13.2.0.0-1"],
        ),
        (
            "vendor extension at the end is allowed",
            structure(&format!(
                "<au id=\"https://example.org/au\" xmlns:v=\"https://vendor.example/ns\" v:flag=\"1\">{}<url>index.html</url><v:extra>1</v:extra></au>",
                texts("AU")
            )),
            true,
            vec![],
        ),
        (
            "vendor extension before cmi5 elements",
            structure(&format!(
                "<au id=\"https://example.org/au\" xmlns:v=\"https://vendor.example/ns\"><v:extra>1</v:extra>{}<url>index.html</url></au>",
                texts("AU")
            )),
            true,
            vec!["misplaced-element 13.2.0.0-1", "misplaced-element 13.2.0.0-1", "misplaced-element 13.2.0.0-1"],
        ),
        (
            "unknown attribute",
            structure(&good_au.replace("<au id", "<au size=\"big\" id")),
            true,
            vec!["unexpected-attribute 13.2.0.0-1"],
        ),
        (
            "bad moveOn, launchMethod and masteryScore",
            structure(&good_au.replace(
                "<au id",
                "<au moveOn=\"Finished\" launchMethod=\"Popup\" masteryScore=\"1.5\" id",
            )),
            true,
            vec!["invalid-value 13.2.0.0-1", "invalid-value 13.2.0.0-1", "value-out-of-range 13.2.0.0-1"],
        ),
        (
            "objective reference that resolves to nothing",
            structure(&format!(
                "<au id=\"https://example.org/au\">{}<objectives><objective idref=\"https://example.org/none\"/></objectives><url>index.html</url></au>",
                texts("AU")
            )),
            true,
            vec!["unknown-objective 4.4.0.0-2"],
        ),
        (
            "no cmi5 namespace",
            structure(&good_au).replace(&format!(" xmlns=\"{NS}\""), ""),
            true,
            // the root is refused; its children, in no namespace, are read leniently
            vec!["not-a-course-structure 13.2.0.0-1"],
        ),
        (
            "invalid language tag",
            structure(&good_au.replacen("lang=\"en-US\"", "lang=\"English (US)\"", 1)),
            true,
            vec!["invalid-value 13.2.0.0-1"],
        ),
        (
            "malformed xml",
            structure(&good_au).replace("</course>", ""),
            true,
            // the tree recovered after the error misses the course's end
            vec!["malformed-xml 13.2.0.0-1", "missing-element 13.2.0.0-1", "unknown-element 13.2.0.0-1"],
        ),
    ];
    let failures: Vec<String> =
        cases.iter().filter_map(|(name, xml, zipped, expected)| check(name, xml, *zipped, expected).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[test]
fn whitespace_around_values_is_removed() {
    let xml = structure(&format!(
        "<au id=\"  https://example.org/au \" moveOn=\" Passed \" masteryScore=\" 0.9 \">{}<url><![CDATA[\n   index.html?a=1&b=2\n ]]></url><launchParameters>\n  p=1 </launchParameters><entitlementKey> key </entitlementKey></au>",
        texts("AU")
    ));
    let parsed = parse_structure(&xml, true);
    assert!(parsed.is_importable(), "{}", parsed.render());
    let item = &parsed.package.unwrap().organizations[0].items[0];
    let cmi5 = item.cmi5.as_ref().unwrap();
    assert_eq!(item.identifier, "https://example.org/au");
    assert_eq!(cmi5.url.as_deref(), Some("index.html?a=1&b=2"));
    assert_eq!(item.parameters.as_deref(), Some("p=1"));
    assert_eq!(cmi5.entitlement_key.as_deref(), Some("key"));
    assert_eq!(cmi5.move_on, lms_package::Cmi5MoveOn::Passed);
    assert_eq!(item.launch.mastery_score, Some(0.9));
}

fn zip(files: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        let options = zip::write::SimpleFileOptions::default().large_file(zip64);
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn a_course_of_one_thousand_aus_imports() {
    let body: String = (0..1000)
        .map(|i| format!("<block id=\"https://example.org/b/{i}\">{}{}</block>", texts("B"), au(&format!("https://example.org/au/{i}"), "https://cdn.example.org/au.html")))
        .collect();
    let parsed = parse_structure(&structure(&body), false);
    assert!(parsed.is_importable(), "{}", parsed.render());
    let items = &parsed.package.unwrap().organizations[0].items;
    assert_eq!(items.len(), 1000);
    assert_eq!(items[999].children[0].identifier, "https://example.org/au/999");
}

#[test]
fn a_zip64_package_imports() {
    let xml = structure(&au("https://example.org/au", "index.html"));
    let bytes = zip(&[("cmi5.xml", xml.as_bytes()), ("index.html", b"<html></html>")], true);
    let parsed = parse_zip_bytes(&bytes, &ArchiveLimits::default(), &ParseOptions::default()).unwrap();
    assert!(parsed.is_importable(), "{}", parsed.render());
}

#[test]
fn a_course_structure_in_a_subfolder_is_refused() {
    let xml = structure(&au("https://example.org/au", "index.html"));
    let bytes = zip(&[("course/cmi5.xml", xml.as_bytes()), ("course/index.html", b"<html></html>")], false);
    let parsed = parse_zip_bytes(&bytes, &ArchiveLimits::default(), &ParseOptions::default()).unwrap();
    assert_eq!(errors(&parsed), vec!["structure-file-not-at-root 14.1.0.0-2"]);
}

#[test]
fn a_zip_without_course_structure_and_a_file_that_is_no_zip_are_refused() {
    let bytes = zip(&[("README.md", b"# no course here")], false);
    let parsed = parse_zip_bytes(&bytes, &ArchiveLimits::default(), &ParseOptions::default()).unwrap();
    assert!(!parsed.is_importable());
    assert_eq!(parsed.diagnostics[0].code, "no-manifest");
    assert!(parse_zip_bytes(b"# markdown, not a zip", &ArchiveLimits::default(), &ParseOptions::default()).is_err());
}

#[test]
fn mutated_course_structures_never_panic() {
    let xml = structure(&format!(
        "<objectives><objective id=\"https://example.org/o\">{}</objective></objectives><block id=\"https://example.org/b\">{}{}</block>",
        texts("O"),
        texts("B"),
        au("https://example.org/au", "index.html?a=%41")
    ));
    let bytes = xml.as_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        let mut mutated = bytes[..cut].to_vec();
        mutated.extend_from_slice(&bytes[(cut + 3).min(bytes.len())..]);
        let source = MemorySource::new([("cmi5.xml".to_string(), mutated), ("index.html".to_string(), b"x".to_vec())]);
        let parsed = parse(&source, &ParseOptions::default());
        for d in parsed.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
            assert!(cmi5_requirement(d).is_some(), "cut {cut}: {d} cites no requirement");
        }
    }
}

#[test]
fn manifest_only_skips_the_file_checks_of_a_bare_structure() {
    let xml = structure(&au("https://example.org/au", "index.html"));
    let source = MemorySource::new([("cmi5.xml".to_string(), xml.into_bytes())]);
    let parsed = parse(&source, &ParseOptions { manifest_only: true });
    assert!(parsed.is_importable(), "{}", parsed.render());
    assert!(!parse(&source, &ParseOptions::default()).is_importable());
}
