//! The profile's optional course-status statement, written from the LMS's rollup.

use lms_rte::{ScoreSnapshot, UnixMillis};
use lms_scorm_xapi::{CourseResult, ScormVersion, course_completed_statement};
use serde_json::Value;
use uuid::Uuid;

use crate::support::{assert_valid, check_gold, context, data_dir};

#[test]
fn course_status_statements_match_gold_and_validate() {
    let mut ctx = context(ScormVersion::Scorm2004, "golf-2004", "item_1");
    ctx.course_title = Some("Golf Explained".into());
    let cases = [
        CourseResult { success: Some(true), score: Some(ScoreSnapshot { scaled: Some(0.85), raw: Some(85.0), min: Some(0.0), max: Some(100.0) }) },
        CourseResult { success: Some(false), score: Some(ScoreSnapshot { scaled: Some(0.3), raw: None, min: None, max: None }) },
        CourseResult { success: None, score: None },
    ];
    let statements: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, course)| {
            let at = UnixMillis(1_795_420_800_000 + i64::try_from(i).unwrap() * 60_000);
            let id = Uuid::from_u128(0xc0 + u128::try_from(i).unwrap());
            let statement = course_completed_statement(&ctx, course, at, id).unwrap();
            assert_valid(&statement, &format!("course statement {i}"));
            statement
        })
        .collect();
    let rendered = serde_json::to_string_pretty(&Value::Array(statements)).unwrap() + "\n";
    check_gold(&data_dir().join("course-completed.statements.json"), &rendered);
}
