//! Learning paths: validation and event-driven unlocking.

use lms_schedule::ids::{CourseId, LearningPathId, PackageId, StepId};
use lms_schedule::path::{CompletionEvent, CompletionKind, LearningPath, PathOrder, PathProgress, PathStep, StepTarget};

use crate::at;

fn step(id: &str, target: StepTarget, prerequisites: &[&str]) -> PathStep {
    PathStep { id: StepId::new(id), target, prerequisites: prerequisites.iter().map(|p| StepId::new(*p)).collect() }
}

fn elearning(pkg: &str) -> StepTarget {
    StepTarget::ELearning { package_id: PackageId::new(pkg) }
}

fn classroom(course: u64) -> StepTarget {
    StepTarget::Offering { course_id: CourseId(course) }
}

/// intro (e-learning) → workshop (classroom) ; quiz (e-learning) needs intro ; final (classroom) needs workshop + quiz.
fn path(order: PathOrder) -> LearningPath {
    LearningPath {
        id: LearningPathId(1),
        order,
        steps: vec![
            step("intro", elearning("pkg-intro"), &[]),
            step("workshop", classroom(10), &[]),
            step("quiz", elearning("pkg-quiz"), &["intro"]),
            step("final", classroom(11), &["workshop", "quiz"]),
        ],
    }
}

/// Applies events one by one (`e:PKG` or `c:COURSE`); each expected line is
/// "completed […] unlocked […] next […] done?".
fn check(order: PathOrder, events: &[&str], expected: &[&str]) {
    let path = path(order);
    path.validate().unwrap();
    let mut progress = PathProgress::default();
    let mut got = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let kind = match event.split_once(':') {
            Some(("e", pkg)) => CompletionKind::ELearning { package_id: PackageId::new(pkg) },
            Some(("c", course)) => CompletionKind::Offering { course_id: CourseId(course.parse().unwrap()) },
            _ => panic!("bad event {event}"),
        };
        let completed_at = at("2026-05-01T10:00:00Z") + chrono::Duration::hours(i as i64);
        let update = progress.apply(&path, &CompletionEvent { kind, completed_at });
        let names = |v: &[StepId]| v.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(",");
        got.push(format!(
            "completed [{}] unlocked [{}] next [{}]{}",
            names(&update.newly_completed),
            names(&update.newly_unlocked),
            names(&update.next_steps),
            if update.path_completed { " done" } else { "" }
        ));
        progress = update.progress;
    }
    assert_eq!(got, expected, "{order:?} {events:?}");
}

#[test]
fn unordered_path_unlocks_by_prerequisites() {
    let path = path(PathOrder::Unordered);
    assert_eq!(PathProgress::default().next_steps(&path), vec![StepId::new("intro"), StepId::new("workshop")]);
    check(PathOrder::Unordered, &["e:pkg-intro", "c:10", "e:pkg-quiz", "c:11"], &[
        "completed [intro] unlocked [quiz] next [workshop,quiz]",
        "completed [workshop] unlocked [] next [quiz]",
        "completed [quiz] unlocked [final] next [final]",
        "completed [final] unlocked [] next [] done",
    ]);
    // Unrelated and repeated events change nothing.
    check(PathOrder::Unordered, &["e:other", "e:pkg-intro", "e:pkg-intro", "c:99"], &[
        "completed [] unlocked [] next [intro,workshop]",
        "completed [intro] unlocked [quiz] next [workshop,quiz]",
        "completed [] unlocked [] next [workshop,quiz]",
        "completed [] unlocked [] next [workshop,quiz]",
    ]);
}

#[test]
fn ordered_path_unlocks_one_step_at_a_time() {
    assert_eq!(PathProgress::default().next_steps(&path(PathOrder::Ordered)), vec![StepId::new("intro")]);
    check(PathOrder::Ordered, &["e:pkg-intro", "c:10", "e:pkg-quiz", "c:11"], &[
        "completed [intro] unlocked [workshop] next [workshop]",
        "completed [workshop] unlocked [quiz] next [quiz]",
        "completed [quiz] unlocked [final] next [final]",
        "completed [final] unlocked [] next [] done",
    ]);
    // Work done out of order is credited, and unlocks as soon as the gap is filled.
    check(PathOrder::Ordered, &["e:pkg-quiz", "e:pkg-intro", "c:10"], &[
        "completed [quiz] unlocked [] next [intro]",
        "completed [intro] unlocked [workshop] next [workshop]",
        "completed [workshop] unlocked [final] next [final]",
    ]);
}

#[test]
fn malformed_paths_are_refused() {
    let cases: Vec<(Vec<PathStep>, &str)> = vec![
        (vec![], "invalid steps: need 1..=500 steps"),
        (vec![step("a", classroom(1), &[]), step("a", classroom(2), &[])], "learning path step a: duplicate step id"),
        (vec![step("a", classroom(1), &["zz"])], "learning path step a: unknown prerequisite zz"),
        (vec![step("a", classroom(1), &["a"])], "learning path step a: requires itself"),
        (
            vec![step("a", classroom(1), &["c"]), step("b", classroom(2), &["a"]), step("c", classroom(3), &["b"]), step("d", classroom(4), &[])],
            "learning path step a: prerequisites form a cycle",
        ),
    ];
    for (steps, expected) in cases {
        let p = LearningPath { id: LearningPathId(1), order: PathOrder::Unordered, steps };
        assert_eq!(p.validate().map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string()), expected);
    }
    // In an ordered path a prerequisite on a *later* step is a cycle.
    let p = LearningPath {
        id: LearningPathId(1),
        order: PathOrder::Ordered,
        steps: vec![step("a", classroom(1), &["b"]), step("b", classroom(2), &[])],
    };
    assert_eq!(p.validate().unwrap_err().to_string(), "learning path step a: prerequisites form a cycle");
}
