//! Course kinds, validation and visibility with subtree semantics.

use lms_schedule::catalogue::{Course, CourseKind, Visibility};
use lms_schedule::ids::{CourseId, LearningPathId, PackageId};

use crate::{city, p, u};

fn course(owner: &str, visibility: Visibility, kind: CourseKind) -> Course {
    Course { id: CourseId(1), title: "Fire safety".into(), org_unit: u(owner), kind, visibility }
}

fn only(units: &[&str]) -> Visibility {
    Visibility::OrgUnits(units.iter().map(|x| u(x)).collect())
}

#[test]
fn visibility_follows_the_subtree() {
    let tree = city();
    // (owner, visibility, person, visible)
    let cases = [
        ("FB2", Visibility::CityWide, "L1", true),
        ("FB2", Visibility::CityWide, "NOBODY", false),
        ("FB2", only(&["FB1"]), "L1", true),   // FB1-T1 lies below FB1
        ("FB2", only(&["FB1"]), "L4", true),
        ("FB2", only(&["FB1"]), "HEAD1", true),
        ("FB2", only(&["FB1-T1"]), "L4", false), // sibling team
        ("FB2", only(&["FB1-T1"]), "HEAD1", false), // parent does not see a child's course
        ("FB2", only(&["FB1-T1"]), "L5", true), // owner unit always sees its own course
        ("FB2", only(&["FB1-T1"]), "L6", false),
        ("FB2", only(&["CITY"]), "L6", true),
    ];
    for (owner, visibility, person, expected) in cases {
        let c = course(owner, visibility.clone(), CourseKind::Classroom);
        assert_eq!(c.is_visible_to(&tree, &p(person)), expected, "{visibility:?} for {person}");
    }
}

#[test]
fn courses_are_validated() {
    let tree = city();
    let ok = |c: Course| c.validate(&tree).map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
    let kinds = [
        (CourseKind::ELearning { package_id: PackageId::new("pkg-7") }, "ok"),
        (CourseKind::ELearning { package_id: PackageId::new(" ") }, "invalid package_id: empty"),
        (CourseKind::Classroom, "ok"),
        (CourseKind::LiveOnline { meeting_url: "https://meet.example.org/room-1".into() }, "ok"),
        (
            CourseKind::LiveOnline { meeting_url: "javascript:alert(1)".into() },
            "invalid meeting_url: must be an http(s) URL without spaces, at most 2000 bytes",
        ),
        (
            CourseKind::LiveOnline { meeting_url: "https://x.org/a b".into() },
            "invalid meeting_url: must be an http(s) URL without spaces, at most 2000 bytes",
        ),
        (CourseKind::Blended { learning_path_id: LearningPathId(3) }, "ok"),
    ];
    for (kind, expected) in kinds {
        assert_eq!(ok(course("FB1", Visibility::CityWide, kind.clone())), expected, "{kind:?}");
    }
    assert_eq!(ok(course("NOPE", Visibility::CityWide, CourseKind::Classroom)), "unknown org unit NOPE");
    assert_eq!(ok(course("FB1", only(&["FB1", "GONE"]), CourseKind::Classroom)), "unknown org unit GONE");
    assert_eq!(
        ok(course("FB1", only(&[]), CourseKind::Classroom)),
        "invalid visibility: list at least one org unit, or make the course city-wide"
    );
    for title in ["", "   ", "a\u{0}b", &"x".repeat(301)] {
        let mut c = course("FB1", Visibility::CityWide, CourseKind::Classroom);
        c.title = title.to_owned();
        assert_eq!(ok(c), "invalid title: must be 1..=300 characters without control characters");
    }
    assert_eq!(CourseKind::LiveOnline { meeting_url: String::new() }.name(), "live_online");
    let json = serde_json::to_string(&CourseKind::ELearning { package_id: PackageId::new("p") }).unwrap();
    assert_eq!(json, r#"{"kind":"e_learning","package_id":"p"}"#);
}
