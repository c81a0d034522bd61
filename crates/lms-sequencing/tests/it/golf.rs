//! The golf sequencing examples of `shared/corpus/packages/scorm2004/Sequencing*`, parsed with
//! `lms_package` and played through the sequencer.

use std::path::PathBuf;

use lms_package::sequencing::SequencingCollection;
use lms_package::{Organization, ParseOptions};
use lms_sequencing::{NavigationOutcome, NavigationRequest, Sequencer};

use crate::{check, now};

fn corpus() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/packages/scorm2004");
    if path.is_dir() {
        return Some(path);
    }
    eprintln!("CORPUS MISSING: {} not found; golf sequencing tests skipped", path.display());
    assert!(std::env::var_os("CI").is_none(), "the corpus must be present in CI");
    None
}

fn golf(name: &str) -> Option<(Organization, SequencingCollection)> {
    let dir = corpus()?.join(name);
    let parsed = lms_package::parse_dir(&dir, &ParseOptions::default()).expect("package folder reads");
    let package = parsed.package.expect("manifest parses");
    let org = package
        .organizations
        .iter()
        .find(|o| Some(&o.identifier) == package.default_organization.as_ref())
        .expect("default organization")
        .clone();
    Some((org, package.sequencing_collection))
}

fn sequencer(name: &str, seed: u64) -> Option<Sequencer> {
    let (org, collection) = golf(name)?;
    Some(Sequencer::new(&org, &collection, seed).expect("tree builds"))
}

#[test]
fn forced_sequential_order() {
    let Some(mut s) = sequencer("SequencingForcedSequential_SCORM20043rdEdition", 1) else { return };
    check(
        &mut s,
        "nav start -> playing_item
         valid choice.etuqiette_item=false choice.havingfun_item=false
         nav {target=handicapping_item}choice -> !DB.1.1-3
         report c=completed s=failed
         nav continue -> !SB.2.2-2
         nav {target=playing_item}choice -> playing_item
         report c=completed s=passed
         valid choice.etuqiette_item=true choice.handicapping_item=false
         nav continue -> etuqiette_item
         report c=completed s=passed
         nav continue -> handicapping_item
         report c=completed s=passed
         nav continue -> havingfun_item
         report c=completed s=passed
         valid choice.assessment_item=true
         nav continue -> assessment_item
         report c=completed s=passed score=0.9
         nav continue -> END",
    );
}

/// Post-test rollup: only the assessment counts for the course's status.
fn post_test_rollup(name: &str, content_report: &str) {
    let Some(mut s) = sequencer(name, 1) else { return };
    let content = format!("report {content_report}");
    check(
        &mut s,
        &format!(
            "nav start -> playing_item
             {content}
             nav continue -> etuqiette_item
             {content}
             nav continue -> handicapping_item
             {content}
             nav continue -> havingfun_item
             {content}
             status golf_sample_default_org unknown unknown
             nav continue -> assessment_item
             report c=completed s=failed score=0.4
             nav exit -> NONE
             status golf_sample_default_org completed notsatisfied
             nav {{target=assessment_item}}choice -> assessment_item
             report c=completed s=passed score=0.8
             nav exit -> NONE
             status golf_sample_default_org completed satisfied"
        ),
    );
    let measure = s.state().activities[0].objectives[0].normalized_measure;
    assert!((measure - 0.8).abs() < 1e-9, "course measure is the test's score, got {measure}");
}

#[test]
fn post_test_rollup_3rd_edition() {
    post_test_rollup("SequencingPostTestRollup_SCORM20043rdEdition", "c=completed s=passed");
}

#[test]
fn post_test_rollup_4th_edition() {
    post_test_rollup("SequencingPostTestRollup4thEd_SCORM20044thEdition", "c=completed");
}

#[test]
fn pre_or_post_test_passing_the_pretest_completes_the_course() {
    let Some(mut s) = sequencer("SequencingPreOrPostTestRollup_SCORM20043rdEdition", 1) else { return };
    check(
        &mut s,
        "nav start -> pretest_item
         valid choice.posttest_item=false
         report c=completed s=passed score=0.9
         nav continue -> playing_item
         valid choice.pretest_item=false choice.posttest_item=false
         status golf_sample_default_org completed satisfied",
    );
}

#[test]
fn pre_or_post_test_failing_the_pretest_requires_content_then_posttest() {
    let Some(mut s) = sequencer("SequencingPreOrPostTestRollup_SCORM20043rdEdition", 1) else { return };
    check(
        &mut s,
        "nav start -> pretest_item
         report c=completed s=failed score=0.2
         nav continue -> playing_item
         valid choice.pretest_item=false choice.posttest_item=false
         report c=completed
         nav continue -> etuqiette_item
         report c=completed
         nav continue -> handicapping_item
         report c=completed
         nav continue -> havingfun_item
         report c=completed
         nav continue -> posttest_item
         report c=completed s=passed score=0.9
         nav exit -> NONE
         status golf_sample_default_org completed satisfied",
    );
}

/// The content, then one of the four tests picked by the registration's seed.
fn random_test_delivery(seed: u64) -> Vec<String> {
    let Some(mut s) = sequencer("SequencingRandomTest_SCORM20043rdEdition", seed) else { return Vec::new() };
    let mut delivered = Vec::new();
    let mut request = NavigationRequest::Start;
    for _ in 0..6 {
        match s.navigate(&request, now()).expect("flows") {
            NavigationOutcome::Delivered(d) => delivered.push(d.activity),
            other => panic!("unexpected {other:?}"),
        }
        s.report(&lms_sequencing::RuntimeReport {
            completion_status: Some(lms_sequencing::CompletionStatus::Completed),
            success_status: Some(lms_sequencing::SuccessStatus::Failed),
            ..Default::default()
        });
        request = NavigationRequest::Continue;
    }
    delivered
}

#[test]
fn random_test_is_reproducible_per_seed_and_varies_across_seeds() {
    let first = random_test_delivery(7);
    if first.is_empty() {
        return;
    }
    assert_eq!(&first[..4], ["playing_item", "etuqiette_item", "handicapping_item", "havingfun_item"]);
    assert!(first[4].starts_with("test_"), "{first:?}");
    assert_eq!(first, random_test_delivery(7), "same seed, same order");
    let tests: std::collections::BTreeSet<String> = (0..16).map(|seed| random_test_delivery(seed)[4].clone()).collect();
    assert!(tests.len() > 1, "the first test should depend on the seed: {tests:?}");
}

#[test]
fn simple_remediation_skips_mastered_content_after_a_failed_test() {
    let Some(mut s) = sequencer("SequencingSimpleRemediation_SCORM20043rdEdition", 1) else { return };
    check(
        &mut s,
        "nav start -> playing_item
         report c=completed
         nav continue -> etuqiette_item
         report c=completed
         nav continue -> handicapping_item
         report c=completed
         nav continue -> havingfun_item
         report c=completed
         nav continue -> test_1
         report c=completed s=failed score=0.3
         nav continue -> test_2
         report c=completed s=passed score=0.9
         nav continue -> test_3
         report c=completed s=passed score=0.8
         nav continue -> test_4
         report c=completed s=failed score=0.1
         nav continue -> playing_item
         report c=completed
         nav continue -> havingfun_item
         report c=completed
         nav continue -> test_1
         report c=completed s=passed score=0.9
         nav continue -> test_4
         report c=completed s=passed score=0.9
         nav continue -> END
         status content_wrapper completed satisfied",
    );
}
