//! One scenario per process and rule kind.

use lms_package::sequencing::*;
use lms_sequencing::{NavigationRequest, Sequencer, SequencingError, SequencingState};

use crate::*;

fn abc(root: impl FnOnce(&mut Sequencing)) -> lms_package::Organization {
    org(vec![leaf("A"), leaf("B"), leaf("C")], root)
}

#[test]
fn flow_continue_previous_and_end() {
    let mut s = sequencer(&abc(flow));
    check(
        &mut s,
        "nav previous -> !NB.2.1-2
         nav start -> A
         nav start -> !NB.2.1-1
         valid continue=true previous=false
         nav previous -> !SB.2.1-3
         nav continue -> B
         valid previous=true
         nav previous -> A
         nav continue -> B
         nav continue -> C
         status A completed satisfied
         nav continue -> END
         status ROOT completed satisfied",
    );
}

#[test]
fn choice_only_tree_refuses_flow() {
    let mut s = sequencer(&abc(|_| {}));
    check(
        &mut s,
        "nav start -> !SB.2.2-1
         valid start=true choice.B=true choice.ROOT=false
         nav {target=B}choice -> B
         nav continue -> !NB.2.1-4
         nav {target=C}choice -> C
         nav {target=Z}choice -> !NB.2.1-11
         nav exit -> NONE
         nav exit -> !NB.2.1-12
         nav exitAll -> END",
    );
}

#[test]
fn forward_only_blocks_previous_and_backward_choice() {
    let mut s = sequencer(&abc(|s| control(s, |c| {
        c.flow = true;
        c.forward_only = true;
    })));
    check(
        &mut s,
        "nav start -> A
         nav continue -> B
         nav previous -> !NB.2.1-5
         nav {target=A}choice -> !SB.2.4-2
         nav {target=C}choice -> C",
    );
}

#[test]
fn skip_and_disabled_preconditions() {
    let tree = org(
        vec![
            leaf("A"),
            with_seq(leaf("B"), |s| pre(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::Skip))),
            leaf("C"),
            with_seq(leaf("D"), |s| pre(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::Disabled))),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         nav continue -> C
         nav previous -> A
         nav continue -> C
         nav continue -> !SB.2.2-2
         valid choice.D=false choice.B=true",
    );
}

#[test]
fn skip_when_satisfied_uses_rule_condition_and_not_operator() {
    let tree = org(
        vec![
            leaf("A"),
            with_seq(leaf("B"), |s| {
                pre(s, rule(vec![not(cond(RuleConditionKind::Attempted))], RuleAction::Skip));
            }),
            leaf("C"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         nav continue -> C
         nav {target=B}choice -> B
         nav {target=A}choice -> A
         nav continue -> B",
    );
}

#[test]
fn hidden_from_choice_and_stop_forward_traversal() {
    let tree = org(
        vec![
            leaf("A"),
            with_seq(leaf("B"), |s| {
                pre(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::StopForwardTraversal))
            }),
            leaf("C"),
            with_seq(leaf("D"), |s| pre(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::HiddenFromChoice))),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         valid hidden.D=true choice.D=false choice.C=false choice.B=true
         nav {target=D}choice -> !SB.2.9-3
         nav {target=C}choice -> !SB.2.4-1
         nav {target=B}choice -> B
         nav continue -> C",
    );
}

#[test]
fn post_condition_retry_and_continue() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                post(s, rule(vec![not(cond(RuleConditionKind::Satisfied))], RuleAction::Retry));
            }),
            with_seq(leaf("B"), |s| post(s, rule(vec![cond(RuleConditionKind::Completed)], RuleAction::Continue))),
            leaf("C"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=completed s=failed
         nav continue -> A
         report c=completed s=passed
         nav continue -> B
         report c=completed
         nav exit -> C",
    );
    assert_eq!(s.state().activities[1].attempt_count, 2);
}

#[test]
fn exit_parent_exit_all_and_exit_action_rules() {
    let tree = org(
        vec![
            item(
                "M1",
                vec![
                    with_seq(leaf("A"), |s| post(s, rule(vec![cond(RuleConditionKind::Satisfied)], RuleAction::ExitParent))),
                    leaf("B"),
                ],
            ),
            with_seq(
                item("M2", vec![leaf("C"), leaf("D")]),
                |s| {
                    flow(s);
                    exit_rule(s, rule(vec![cond(RuleConditionKind::Completed)], RuleAction::Exit));
                    post(s, rule(vec![cond(RuleConditionKind::Completed)], RuleAction::ExitAll));
                },
            ),
        ],
        flow,
    );
    let mut tree = tree;
    tree.items[0].sequencing = Some({
        let mut s = seq();
        flow(&mut s);
        s
    });
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=completed s=passed
         nav continue -> C
         report c=completed
         nav {target=D}choice -> D
         report c=completed
         nav continue -> END",
    );
    // M2 was exited by its exit rule once C and D completed, and its post rule exited all.
    check(&mut s, "status M2 completed satisfied");
}

#[test]
fn attempt_limit_disables_activity() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.limit_conditions = Some(LimitConditions { attempt_limit: Some(1), attempt_absolute_duration_limit: None })
            }),
            leaf("B"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         nav continue -> B
         valid previous=false choice.A=false choice.B=true
         nav previous -> !SB.2.2-2
         nav {target=A}choice -> !DB.1.1-3",
    );
}

#[test]
fn attempt_limit_exceeded_condition_and_time_limit() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.limit_conditions = Some(LimitConditions { attempt_limit: Some(2), attempt_absolute_duration_limit: None });
                post(s, rule(vec![not(cond(RuleConditionKind::AttemptLimitExceeded))], RuleAction::Retry));
            }),
            with_seq(leaf("B"), |s| {
                s.limit_conditions =
                    Some(LimitConditions { attempt_limit: None, attempt_absolute_duration_limit: Some("PT0S".into()) })
            }),
            leaf("C"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         nav continue -> A
         nav continue -> B
         nav continue -> C
         nav previous -> !SB.2.2-2
         valid choice.B=false",
    );
}

fn default_rollup_tree(use_current_attempt: bool) -> lms_package::Organization {
    let mut tree = org(vec![item("M", vec![leaf("A"), leaf("B")]), leaf("C")], flow);
    tree.items[0].sequencing = Some({
        let mut s = seq();
        control(&mut s, |c| {
            c.flow = true;
            c.use_current_attempt_objective_info = use_current_attempt;
            c.use_current_attempt_progress_info = use_current_attempt;
        });
        s
    });
    tree
}

const DEFAULT_ROLLUP_SCRIPT: &str = "nav start -> A
     report c=completed s=passed
     nav continue -> B
     status M unknown unknown
     report c=incomplete s=failed
     nav continue -> C
     status M incomplete notsatisfied
     nav {target=B}choice -> B
     report c=completed s=passed
     nav continue -> C";

#[test]
fn default_rollup_completion_and_satisfaction() {
    // A's result belongs to M's first attempt; M's second attempt only saw B.
    let mut s = sequencer(&default_rollup_tree(true));
    check(&mut s, &format!("{DEFAULT_ROLLUP_SCRIPT}\nstatus M unknown unknown"));
    // Without useCurrentAttempt*Info, A's earlier result counts.
    let mut s = sequencer(&default_rollup_tree(false));
    check(&mut s, &format!("{DEFAULT_ROLLUP_SCRIPT}\nstatus M completed satisfied"));
}

#[test]
fn rollup_rules_child_sets_and_considerations() {
    let any_satisfied = RollupRule {
        child_activity_set: ChildActivitySet::AtLeastCount,
        minimum_count: 1,
        minimum_percent: 0.0,
        combination: ConditionCombination::Any,
        conditions: vec![RollupCondition { negate: false, condition: RollupConditionKind::Satisfied }],
        action: RollupAction::Satisfied,
    };
    let none_completed = RollupRule {
        child_activity_set: ChildActivitySet::None,
        minimum_count: 0,
        minimum_percent: 0.0,
        combination: ConditionCombination::Any,
        conditions: vec![RollupCondition { negate: false, condition: RollupConditionKind::Completed }],
        action: RollupAction::Incomplete,
    };
    let tree = org(
        vec![
            leaf("A"),
            with_seq(leaf("B"), |s| {
                s.rollup_considerations =
                    Some(RollupConsiderations { required_for_incomplete: RollupConsideration::IfAttempted, ..Default::default() })
            }),
            with_seq(leaf("C"), |s| {
                s.rollup_rules = Some(RollupRules { rollup_objective_satisfied: false, ..Default::default() })
            }),
        ],
        |s| {
            flow(s);
            s.rollup_rules = Some(RollupRules { rules: vec![any_satisfied, none_completed], ..Default::default() });
        },
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=incomplete s=failed
         nav continue -> B
         status ROOT unknown unknown
         report c=incomplete s=failed
         nav continue -> C
         status ROOT unknown unknown
         report c=incomplete s=passed
         nav exit -> NONE
         status ROOT incomplete unknown
         nav {target=A}choice -> A
         report c=completed s=passed
         nav exit -> NONE
         status ROOT incomplete satisfied",
    );
}

#[test]
fn measure_rollup_weights_and_satisfied_by_measure() {
    let tree = org(
        vec![
            leaf("A"),
            with_seq(leaf("B"), |s| {
                s.rollup_rules = Some(RollupRules { objective_measure_weight: 3.0, ..Default::default() })
            }),
        ],
        |s| {
            flow(s);
            s.objectives = Some(Objectives {
                primary: Objective { satisfied_by_measure: true, min_normalized_measure: 0.6, ..objective(Some("P"), vec![]) },
                others: vec![],
            });
            s.rollup_considerations =
                Some(RollupConsiderations { measure_satisfaction_if_active: false, ..Default::default() });
        },
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=completed score=0.2
         nav continue -> B
         report c=completed score=0.8
         nav exit -> NONE
         status ROOT completed unknown",
    );
    let measure = s.state().activities[0].objectives[0].normalized_measure;
    assert!((measure - 0.65).abs() < 1e-9, "{measure}");
    check(&mut s, "nav exitAll -> END status ROOT completed satisfied".replace(" status", "\nstatus").as_str());
}

#[test]
fn global_objective_written_by_one_activity_is_read_by_another() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.objectives = Some(Objectives { primary: objective(Some("a"), vec![map("G", false, true)]), others: vec![] })
            }),
            with_seq(leaf("B"), |s| {
                s.objectives = Some(Objectives { primary: objective(Some("b"), vec![map("G", true, false)]), others: vec![] });
                pre(s, rule(vec![cond(RuleConditionKind::Satisfied)], RuleAction::Skip));
            }),
            leaf("C"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=completed s=passed
         nav continue -> C",
    );
    assert_eq!(s.global_objectives().objectives["G"].satisfied, Some(true));
    let snapshot = s.objectives_for("B");
    assert_eq!(snapshot[0].success_status, Some(true));

    // A second package of the same learner sees the shared store.
    let mut other = sequencer(&tree);
    other.set_global_objectives(s.global_objectives().clone());
    check(&mut other, "nav start -> A\nreport c=completed\nnav continue -> C");
    // Content that sets its status back to unknown clears what it wrote.
    let mut third = sequencer(&tree);
    third.set_global_objectives(s.global_objectives().clone());
    check(&mut third, "nav start -> A\nreport c=completed s=unknown\nnav continue -> B");
}

#[test]
fn suspend_all_and_resume_across_sessions() {
    let tree = org(vec![item("M", vec![leaf("A"), leaf("B")]), leaf("C")], flow);
    let mut tree = tree;
    tree.items[0].sequencing = Some({
        let mut s = seq();
        flow(&mut s);
        s
    });
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         report c=completed
         nav continue -> B
         report c=incomplete exit=suspend
         nav suspendAll -> END
         valid resumeAll=true start=false",
    );
    let saved = serde_json::to_string(s.state()).unwrap();
    let state: SequencingState = serde_json::from_str(&saved).unwrap();
    let mut resumed = Sequencer::restore(&tree, &SequencingCollection::default(), state).unwrap();
    check(
        &mut resumed,
        "nav resumeAll -> B
         nav continue -> C",
    );
    let outcome = Sequencer::restore(&org(vec![leaf("X")], flow), &SequencingCollection::default(), serde_json::from_str(&saved).unwrap());
    assert!(matches!(outcome, Err(SequencingError::StateMismatch(_))));
}

#[test]
fn resume_reports_resumed_entry() {
    let mut s = sequencer(&abc(flow));
    check(&mut s, "nav start -> A\nreport exit=suspend\nnav suspendAll -> END");
    match s.navigate(&NavigationRequest::ResumeAll, now()).unwrap() {
        lms_sequencing::NavigationOutcome::Delivered(d) => {
            assert!(d.resumed);
            assert_eq!(d.attempt, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn selection_and_randomization_are_seeded() {
    let tree = org(
        vec![leaf("A"), leaf("B"), leaf("C"), leaf("D"), leaf("E")],
        |s| {
            flow(s);
            s.randomization_controls = Some(RandomizationControls {
                randomization_timing: RandomizationTiming::Once,
                select_count: Some(3),
                reorder_children: true,
                selection_timing: RandomizationTiming::Once,
            });
        },
    );
    let order = |seed: u64| {
        let s = Sequencer::new(&tree, &SequencingCollection::default(), seed).unwrap();
        s.state().activities[0].available_children.clone()
    };
    assert_eq!(order(1), order(1));
    assert_eq!(order(1).len(), 3);
    let distinct: std::collections::BTreeSet<Vec<usize>> = (0..20).map(order).collect();
    assert!(distinct.len() > 3, "seeds should give different selections: {distinct:?}");
    // Unselected activities are hidden and cannot be chosen.
    let s = Sequencer::new(&tree, &SequencingCollection::default(), 1).unwrap();
    let validity = s.navigation_validity(now());
    assert_eq!(validity.activities.iter().filter(|a| a.hidden).count(), 2);
}

#[test]
fn constrained_choice_and_prevent_activation() {
    let mut tree = org(
        vec![
            item("M1", vec![leaf("A"), leaf("B")]),
            with_seq(item("M2", vec![leaf("C"), leaf("D")]), flow),
            item("M3", vec![leaf("E")]),
        ],
        flow,
    );
    tree.items[0].sequencing = Some({
        let mut s = seq();
        flow(&mut s);
        s.constrained_choice = Some(ConstrainedChoice { prevent_activation: false, constrain_choice: true });
        s
    });
    tree.items[2].sequencing = Some({
        let mut s = seq();
        flow(&mut s);
        s.constrained_choice = Some(ConstrainedChoice { prevent_activation: true, constrain_choice: false });
        s
    });
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         valid choice.B=true choice.C=true choice.D=true choice.E=false
         nav {target=E}choice -> !SB.2.9-8
         nav {target=D}choice -> D
         nav {target=E}choice -> !SB.2.9-6
         nav continue -> E",
    );
}

#[test]
fn choice_exit_false_keeps_learner_inside() {
    let mut tree = org(vec![item("M1", vec![leaf("A"), leaf("B")]), leaf("C")], flow);
    tree.items[0].sequencing = Some({
        let mut s = seq();
        control(&mut s, |c| {
            c.flow = true;
            c.choice_exit = false;
        });
        s
    });
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         valid choice.B=true choice.C=false
         nav {target=C}choice -> !NB.2.1-8
         nav {target=B}choice -> B
         nav continue -> C",
    );
}

#[test]
fn jump_abandon_and_abandon_all() {
    let mut s = sequencer(&abc(flow));
    check(
        &mut s,
        "nav {target=C}jump -> !NB.2.1-2
         nav start -> A
         valid jump.C=true
         nav {target=C}jump -> C
         nav abandon -> NONE
         status C unknown unknown
         nav {target=B}choice -> B
         nav abandonAll -> END",
    );
}

#[test]
fn retry_all_restarts_the_course() {
    let tree = org(
        vec![leaf("A"), with_seq(leaf("B"), |s| post(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::RetryAll)))],
        flow,
    );
    let mut s = sequencer(&tree);
    check(&mut s, "nav start -> A\nnav continue -> B\nnav continue -> A");
    assert_eq!(s.state().activities[0].attempt_count, 2);
}

#[test]
fn objective_measure_conditions_and_referenced_objectives() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.objectives = Some(Objectives { primary: objective(Some("pa"), vec![]), others: vec![objective(Some("x"), vec![])] });
                let mut gt = cond(RuleConditionKind::ObjectiveMeasureGreaterThan);
                gt.measure_threshold = 0.5;
                gt.referenced_objective = Some("x".into());
                post(s, rule(vec![gt], RuleAction::ExitAll));
                let mut lt = cond(RuleConditionKind::ObjectiveMeasureLessThan);
                lt.measure_threshold = 0.0;
                post(s, rule(vec![lt], RuleAction::Retry));
            }),
            leaf("B"),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(&mut s, "nav start -> A\nreport score=-0.5\nnav continue -> A\nreport score=0.1\nnav continue -> B");
    let mut s = sequencer(&tree);
    s.navigate(&NavigationRequest::Start, now()).unwrap();
    s.report(&lms_sequencing::RuntimeReport {
        objectives: vec![lms_sequencing::ObjectiveReport { id: "x".into(), score_scaled: Some(0.9), ..Default::default() }],
        ..Default::default()
    });
    check(&mut s, "nav continue -> END");
}

#[test]
fn completion_set_by_content_and_untracked() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.delivery_controls =
                    Some(DeliveryControls { tracked: true, completion_set_by_content: true, objective_set_by_content: true })
            }),
            with_seq(leaf("B"), |s| s.delivery_controls = Some(DeliveryControls { tracked: false, ..Default::default() })),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(
        &mut s,
        "nav start -> A
         nav continue -> B
         status A unknown unknown
         report c=completed s=passed
         nav continue -> END
         status B unknown unknown
         status ROOT unknown unknown",
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for text in ["", "forward", "{target=}choice", "{target=A}dance", "{target=A", "Continue"] {
        assert!(text.parse::<NavigationRequest>().is_err(), "{text}");
    }
    let mut tree = abc(flow);
    tree.items[0].sequencing = Some(Sequencing { id_ref: Some("missing".into()), ..seq() });
    assert!(matches!(
        Sequencer::new(&tree, &SequencingCollection::default(), 0),
        Err(SequencingError::UnknownSequencingReference { .. })
    ));
    let mut dup = abc(flow);
    dup.items.push(leaf("A"));
    assert!(matches!(Sequencer::new(&dup, &SequencingCollection::default(), 0), Err(SequencingError::DuplicateActivity { .. })));
    let mut bad = abc(flow);
    bad.items[0].sequencing = Some(Sequencing {
        limit_conditions: Some(LimitConditions { attempt_limit: None, attempt_absolute_duration_limit: Some("soon".into()) }),
        ..seq()
    });
    assert!(matches!(Sequencer::new(&bad, &SequencingCollection::default(), 0), Err(SequencingError::BadDuration { .. })));
}

#[test]
fn sequencing_collection_reference_is_merged() {
    let mut shared = seq();
    shared.id = Some("S".into());
    pre(&mut shared, rule(vec![cond(RuleConditionKind::Always)], RuleAction::Skip));
    let collection = SequencingCollection { entries: vec![shared] };
    let mut tree = abc(flow);
    tree.items[1].sequencing = Some(Sequencing { id_ref: Some("S".into()), ..seq() });
    let mut s = Sequencer::new(&tree, &collection, 0).unwrap();
    check(&mut s, "nav start -> A\nnav continue -> C");
}

#[test]
fn refused_request_changes_nothing() {
    let mut s = sequencer(&abc(|_| {}));
    check(&mut s, "nav {target=A}choice -> A");
    let before = s.state().clone();
    check(&mut s, "nav continue -> !NB.2.1-4\nnav previous -> !NB.2.1-5");
    assert_eq!(&before, s.state());
}

#[test]
fn large_generated_tree_flows_to_the_end() {
    let clusters: Vec<_> = (0..10)
        .map(|i| {
            with_seq(
                item(&format!("M{i}"), (0..10).map(|j| item(&format!("M{i}S{j}"), (0..9).map(|k| leaf(&format!("L{i}.{j}.{k}"))).collect())).collect()),
                flow,
            )
        })
        .collect();
    let mut tree = org(clusters, flow);
    for cluster in &mut tree.items {
        for sub in &mut cluster.children {
            let mut s = seq();
            flow(&mut s);
            sub.sequencing = Some(s);
        }
    }
    let mut s = sequencer(&tree);
    assert!(s.tree().len() > 1000);
    let mut delivered = 0;
    let mut request = NavigationRequest::Start;
    loop {
        match s.navigate(&request, now()).unwrap() {
            lms_sequencing::NavigationOutcome::Delivered(_) => delivered += 1,
            lms_sequencing::NavigationOutcome::SequencingEnded => break,
            other => panic!("{other:?}"),
        }
        request = NavigationRequest::Continue;
    }
    assert_eq!(delivered, 900);
    check(&mut s, "status ROOT completed satisfied");
}

#[test]
fn navigation_requests_parse_from_the_adl_vocabulary() {
    let cases = [
        ("start", NavigationRequest::Start),
        ("resumeAll", NavigationRequest::ResumeAll),
        ("continue", NavigationRequest::Continue),
        ("previous", NavigationRequest::Previous),
        ("exit", NavigationRequest::Exit),
        ("exitAll", NavigationRequest::ExitAll),
        ("abandon", NavigationRequest::Abandon),
        ("abandonAll", NavigationRequest::AbandonAll),
        ("suspendAll", NavigationRequest::SuspendAll),
        ("{target=intro}choice", NavigationRequest::Choice("intro".into())),
        ("{target=a.b}jump", NavigationRequest::Jump("a.b".into())),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<NavigationRequest>().unwrap(), expected, "{text}");
    }
}

#[test]
fn objectives_for_a_launch_read_global_objectives_and_passing_score() {
    let tree = org(
        vec![
            with_seq(leaf("A"), |s| {
                s.objectives = Some(Objectives { primary: objective(Some("p"), vec![map("G", false, true)]), others: vec![] })
            }),
            with_seq(leaf("B"), |s| {
                s.objectives = Some(Objectives {
                    primary: Objective { satisfied_by_measure: true, min_normalized_measure: 0.7, ..objective(Some("q"), vec![]) },
                    others: vec![objective(Some("shared"), vec![map("G", true, false)])],
                })
            }),
        ],
        flow,
    );
    let mut s = sequencer(&tree);
    check(&mut s, "nav start -> A\nreport c=completed s=failed score=0.3\nnav continue -> B");
    let b = s.objectives_for("B");
    let shared = b.iter().find(|o| o.id == "shared").unwrap();
    assert_eq!((shared.success_status, shared.score_scaled), (Some(false), Some(0.3)));
    assert_eq!(s.scaled_passing_score("B"), Some(0.7));
    assert_eq!(s.scaled_passing_score("A"), None);
    assert!(s.objectives_for("nope").is_empty());
}

/// A tiny deterministic generator for the randomized test below.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

fn random_item(rng: &mut Lcg, id: &mut usize, depth: usize) -> lms_package::Item {
    *id += 1;
    let name = format!("N{id}");
    let children = if depth < 3 && rng.next(3) > 0 {
        (0..1 + rng.next(3)).map(|_| random_item(rng, id, depth + 1)).collect()
    } else {
        Vec::new()
    };
    let kinds = [
        RuleConditionKind::Satisfied,
        RuleConditionKind::Completed,
        RuleConditionKind::Attempted,
        RuleConditionKind::ObjectiveStatusKnown,
        RuleConditionKind::AttemptLimitExceeded,
        RuleConditionKind::Always,
    ];
    let actions_pre = [RuleAction::Skip, RuleAction::Disabled, RuleAction::HiddenFromChoice, RuleAction::StopForwardTraversal];
    let actions_post =
        [RuleAction::Retry, RuleAction::Continue, RuleAction::Previous, RuleAction::ExitParent, RuleAction::ExitAll];
    let pick = |rng: &mut Lcg| {
        let mut c = cond(kinds[rng.next(kinds.len())]);
        c.negate = rng.next(2) == 0;
        c
    };
    let mut seq = seq();
    control(&mut seq, |c| {
        c.flow = rng.next(4) > 0;
        c.choice = rng.next(4) > 0;
        c.forward_only = rng.next(5) == 0;
        c.choice_exit = rng.next(5) > 0;
    });
    if rng.next(3) == 0 {
        let a = actions_pre[rng.next(actions_pre.len())];
        pre(&mut seq, rule(vec![pick(rng)], a));
    }
    if rng.next(3) == 0 {
        let a = actions_post[rng.next(actions_post.len())];
        post(&mut seq, rule(vec![pick(rng)], a));
    }
    if rng.next(4) == 0 {
        seq.limit_conditions = Some(LimitConditions { attempt_limit: Some(1 + rng.next(2) as u32), attempt_absolute_duration_limit: None });
    }
    if rng.next(4) == 0 {
        seq.objectives =
            Some(Objectives { primary: objective(Some("p"), vec![map(&format!("G{}", rng.next(3)), true, true)]), others: vec![] });
    }
    if !children.is_empty() && rng.next(4) == 0 {
        seq.randomization_controls = Some(RandomizationControls {
            randomization_timing: RandomizationTiming::OnEachNewAttempt,
            select_count: Some(1 + rng.next(2) as u32),
            reorder_children: true,
            selection_timing: RandomizationTiming::Once,
        });
    }
    if rng.next(5) == 0 {
        seq.constrained_choice = Some(ConstrainedChoice { prevent_activation: rng.next(2) == 0, constrain_choice: true });
    }
    with_seq(item(&name, children), |s| *s = seq)
}

#[test]
fn random_trees_and_requests_never_panic_and_keep_invariants() {
    let mut deliveries = 0;
    for case in 0..60u64 {
        let mut rng = Lcg(case);
        let mut id = 0;
        let items = (0..1 + rng.next(4)).map(|_| random_item(&mut rng, &mut id, 0)).collect();
        let tree = org(items, flow);
        let mut s = Sequencer::new(&tree, &SequencingCollection::default(), case).unwrap();
        let ids: Vec<String> = s.tree().activities.iter().map(|a| a.id.clone()).collect();
        for _ in 0..80 {
            let target = ids[rng.next(ids.len())].clone();
            let request = match rng.next(12) {
                0 => NavigationRequest::Start,
                1 => NavigationRequest::ResumeAll,
                2 | 3 => NavigationRequest::Continue,
                4 => NavigationRequest::Previous,
                5 | 6 => NavigationRequest::Choice(target),
                7 => NavigationRequest::Jump(target),
                8 => NavigationRequest::Exit,
                9 => NavigationRequest::ExitAll,
                10 => NavigationRequest::SuspendAll,
                _ => NavigationRequest::AbandonAll,
            };
            let _ = s.navigation_validity(now());
            if let Ok(lms_sequencing::NavigationOutcome::Delivered(d)) = s.navigate(&request, now()) {
                deliveries += 1;
                let index = s.tree().index_of(&d.activity).unwrap();
                assert!(s.tree().def(index).is_leaf(), "case {case}: delivered a cluster");
                assert!(s.current_is_active(), "case {case}: delivered activity is active");
                let active = s.state().activities.iter().filter(|a| a.active).count();
                assert_eq!(active, s.tree().def(index).depth + 1, "case {case}: only the path to the delivered leaf is active");
                let mut report = lms_sequencing::RuntimeReport::default();
                if rng.next(2) == 0 {
                    report.success_status = Some(lms_sequencing::SuccessStatus::Passed);
                }
                if rng.next(2) == 0 {
                    report.completion_status = Some(lms_sequencing::CompletionStatus::Completed);
                }
                if rng.next(6) == 0 {
                    report.exit = Some(lms_sequencing::ExitMode::Suspend);
                }
                s.report(&report);
            }
        }
        // The state survives serialization.
        let json = serde_json::to_string(s.state()).unwrap();
        let back: SequencingState = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, s.state());
    }
    assert!(deliveries > 300, "the random requests should deliver often, got {deliveries}");
}

#[test]
fn retrying_the_course_clears_globals_scoped_to_it() {
    let tree = |global_to_system: bool| {
        let mut tree = org(
            vec![
                with_seq(leaf("A"), |s| {
                    s.objectives =
                        Some(Objectives { primary: objective(Some("a"), vec![map("G", false, true)]), others: vec![] });
                    s.delivery_controls =
                        Some(DeliveryControls { tracked: true, completion_set_by_content: false, objective_set_by_content: true });
                }),
                with_seq(leaf("B"), |s| {
                    s.objectives =
                        Some(Objectives { primary: objective(Some("b"), vec![map("G", true, false)]), others: vec![] });
                    pre(s, rule(vec![cond(RuleConditionKind::Satisfied)], RuleAction::Skip));
                }),
                with_seq(leaf("C"), |s| post(s, rule(vec![cond(RuleConditionKind::Always)], RuleAction::RetryAll))),
            ],
            flow,
        );
        tree.objectives_global_to_system = global_to_system;
        tree
    };
    let start = "nav start -> A\nreport c=completed s=passed\nnav continue -> C\nnav continue -> A\nreport c=completed\n";
    let mut scoped = sequencer(&tree(false));
    check(&mut scoped, &format!("{start}nav continue -> B"));
    let mut shared = sequencer(&tree(true));
    check(&mut shared, &format!("{start}nav continue -> C"));
}

#[test]
fn course_scoped_globals_end_with_the_course_attempt_but_survive_suspend() {
    let tree = |global_to_system: bool| {
        let mut tree = org(
            vec![
                with_seq(leaf("A"), |s| {
                    s.objectives =
                        Some(Objectives { primary: objective(Some("a"), vec![map("G", false, true)]), others: vec![] });
                    s.delivery_controls =
                        Some(DeliveryControls { tracked: true, completion_set_by_content: false, objective_set_by_content: true });
                }),
                with_seq(leaf("B"), |s| {
                    s.objectives =
                        Some(Objectives { primary: objective(Some("b"), vec![map("G", true, false)]), others: vec![] });
                    pre(s, rule(vec![cond(RuleConditionKind::Satisfied)], RuleAction::Skip));
                }),
                leaf("C"),
            ],
            flow,
        );
        tree.objectives_global_to_system = global_to_system;
        tree
    };
    let first = "nav start -> A\nreport c=completed s=passed\nnav continue -> C\n";
    // Exit all ends the course attempt: scoped globals go, system-wide ones stay.
    let mut scoped = sequencer(&tree(false));
    check(&mut scoped, &format!("{first}nav exitAll -> END\nnav start -> A\nnav continue -> B"));
    assert!(scoped.global_objectives().objectives.get("G").is_none_or(|g| g.satisfied.is_none()));
    let mut shared = sequencer(&tree(true));
    check(&mut shared, &format!("{first}nav exitAll -> END\nnav start -> A\nnav continue -> C"));
    // Suspend all keeps the course attempt, and its globals, for the next session.
    let mut suspended = sequencer(&tree(false));
    check(&mut suspended, &format!("{first}report exit=suspend\nnav suspendAll -> END\nnav resumeAll -> C"));
    assert_eq!(suspended.global_objectives().objectives["G"].satisfied, Some(true));
}
