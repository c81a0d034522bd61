//! Scripted sessions through the public API, each checked against an expected transcript
//! (refresh with `UPDATE_EXPECT=1 cargo test -p lms-rte`).
//!
//! Script lines: `I`, `T`, `C` (Initialize/Terminate/Commit with ""), `I x` (with an argument),
//! `G element`, `S element value…`, `E` (GetLastError), `ES code`, `D code`, `next` (begin the
//! next session), `new` (new attempt), `save` (JSON round trip), `batches` (take and print the
//! commit batches), `summary`, `nav` (the request left for the sequencer). Blank lines and `#`
//! comments are skipped.

use expect_test::{Expect, expect};
use lms_rte::{Attempt, AttemptConfig, Call, ScormVersion, SharedDataMap, UnixMillis};

fn run(mut attempt: Attempt, script: &str) -> String {
    let mut out = String::new();
    let mut clock = 0;
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        clock += 1_000;
        let now = UnixMillis(clock);
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let reply = match verb {
            "I" => attempt.handle(Call::Initialize(rest), now),
            "T" => attempt.handle(Call::Terminate(rest), now),
            "C" => attempt.handle(Call::Commit(rest), now),
            "G" => attempt.handle(Call::GetValue(rest), now),
            "S" => {
                let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
                attempt.handle(Call::SetValue(name, value), now)
            }
            "E" => attempt.handle(Call::GetLastError, now),
            "ES" => attempt.handle(Call::GetErrorString(rest), now),
            "D" => attempt.handle(Call::GetDiagnostic(rest), now),
            "next" => {
                attempt.begin_next_session();
                out.push_str("-- next session\n");
                continue;
            }
            "new" => {
                attempt.begin_new_attempt();
                out.push_str("-- new attempt\n");
                continue;
            }
            "save" => {
                attempt = Attempt::from_json(&attempt.to_json()).unwrap();
                out.push_str("-- saved and restored\n");
                continue;
            }
            "batches" => {
                for batch in attempt.take_batches() {
                    out.push_str(&format!("-- batch terminated={}\n", batch.terminated));
                    for (name, value) in batch.changes {
                        out.push_str(&format!("   {name} = {value:?}\n"));
                    }
                    for event in batch.events {
                        out.push_str(&format!(
                            "   event {}\n",
                            serde_json::to_string(&event).unwrap()
                        ));
                    }
                }
                continue;
            }
            "summary" => {
                out.push_str(&format!(
                    "-- summary {}\n",
                    serde_json::to_string(&attempt.summary()).unwrap()
                ));
                continue;
            }
            "nav" => {
                out.push_str(&format!("-- nav request {:?}\n", attempt.nav_request()));
                continue;
            }
            other => panic!("unknown script verb {other}"),
        };
        out.push_str(&format!("{line} -> {:?} {}\n", reply.value, reply.error));
    }
    out
}

fn check(config: AttemptConfig, script: &str, expected: Expect) {
    expected.assert_eq(&run(Attempt::new(config), script));
}

fn scorm2004() -> AttemptConfig {
    AttemptConfig::new(ScormVersion::Scorm2004, "learner-1", "Ada Lovelace")
}

fn scorm12() -> AttemptConfig {
    AttemptConfig::new(ScormVersion::Scorm12, "learner-1", "Lovelace, Ada")
}

#[test]
fn api_state_machine_2004() {
    check(
        scorm2004(),
        "G cmi.location
         C
         T
         I x
         E
         ES 201
         I
         I
         G
         S  x
         G cmi.nothing
         G cmi.location._children
         G cmi.exit
         S cmi.credit no-credit
         S cmi.score.scaled 2
         S cmi.exit sideways
         S cmi.objectives.1.id obj
         S cmi.objectives.0.score.raw 5
         S cmi.interactions.0.learner_response true
         ES 999
         D
         C x
         T
         T
         G cmi.location
         I",
        expect![[r#"
            G cmi.location -> "" 122
            C -> "false" 142
            T -> "false" 112
            I x -> "false" 201
            E -> "201" 201
            ES 201 -> "General Argument Error" 201
            I -> "true" 0
            I -> "false" 103
            G -> "" 301
            S  x -> "false" 351
            G cmi.nothing -> "" 401
            G cmi.location._children -> "" 301
            G cmi.exit -> "" 405
            S cmi.credit no-credit -> "false" 404
            S cmi.score.scaled 2 -> "false" 407
            S cmi.exit sideways -> "false" 406
            S cmi.objectives.1.id obj -> "false" 351
            S cmi.objectives.0.score.raw 5 -> "false" 408
            S cmi.interactions.0.learner_response true -> "false" 408
            ES 999 -> "" 408
            D -> "Data Model Dependency Not Established: SetValue(cmi.interactions.0.learner_response) failed" 408
            C x -> "false" 201
            T -> "true" 0
            T -> "false" 113
            G cmi.location -> "" 123
            I -> "false" 104
        "#]],
    );
}

#[test]
fn evaluation_and_resume_2004() {
    let mut config = scorm2004();
    config.completion_threshold = Some(0.8);
    config.scaled_passing_score = Some(0.5);
    config.objective_ids = vec!["primary".into()];
    check(
        config,
        "I
         G cmi.entry
         G cmi.objectives._count
         G cmi.objectives.0.id
         S cmi.completion_status completed
         G cmi.completion_status
         S cmi.progress_measure 0.9
         G cmi.completion_status
         S cmi.score.scaled 0.4
         G cmi.success_status
         S cmi.location page-3
         S cmi.session_time PT1M30S
         S cmi.exit suspend
         C
         T
         batches
         save
         next
         I
         G cmi.entry
         G cmi.location
         G cmi.total_time
         S cmi.score.scaled 0.75
         S cmi.session_time PT30S
         S adl.nav.request continue
         T
         nav
         batches
         summary
         next
         I
         G cmi.entry
         G cmi.location
         G cmi.total_time",
        expect![[r#"
            I -> "true" 0
            G cmi.entry -> "ab-initio" 0
            G cmi.objectives._count -> "1" 0
            G cmi.objectives.0.id -> "primary" 0
            S cmi.completion_status completed -> "true" 0
            G cmi.completion_status -> "unknown" 0
            S cmi.progress_measure 0.9 -> "true" 0
            G cmi.completion_status -> "completed" 0
            S cmi.score.scaled 0.4 -> "true" 0
            G cmi.success_status -> "failed" 0
            S cmi.location page-3 -> "true" 0
            S cmi.session_time PT1M30S -> "true" 0
            S cmi.exit suspend -> "true" 0
            C -> "true" 0
            T -> "true" 0
            -- batch terminated=false
               cmi.completion_status = Some("completed")
               cmi.exit = Some("suspend")
               cmi.location = Some("page-3")
               cmi.progress_measure = Some("0.9")
               cmi.score.scaled = Some("0.4")
               cmi.session_time = Some("PT1M30S")
               cmi.success_status = Some("failed")
               cmi.total_time = Some("PT1M30S")
               event {"kind":"initialized","at":1000,"attempt":1,"session":1,"entry":"ab-initio"}
               event {"kind":"scored","at":14000,"score":{"scaled":0.4,"raw":null,"min":null,"max":null}}
               event {"kind":"completed","at":14000,"progress_measure":0.9}
               event {"kind":"failed","at":14000,"score":{"scaled":0.4,"raw":null,"min":null,"max":null}}
            -- batch terminated=true
               cmi.session_time = None
               event {"kind":"suspended","at":15000,"session_time":"PT1M30S","total_time":"PT1M30S","location":"page-3"}
               event {"kind":"terminated","at":15000,"session_time":"PT1M30S","total_time":"PT1M30S","completion":"completed","success":"failed","score":{"scaled":0.4,"raw":null,"min":null,"max":null}}
            -- saved and restored
            -- next session
            I -> "true" 0
            G cmi.entry -> "resume" 0
            G cmi.location -> "page-3" 0
            G cmi.total_time -> "PT1M30S" 0
            S cmi.score.scaled 0.75 -> "true" 0
            S cmi.session_time PT30S -> "true" 0
            S adl.nav.request continue -> "true" 0
            T -> "true" 0
            -- nav request Some("continue")
            -- batch terminated=true
               adl.nav.request = Some("continue")
               cmi.entry = Some("resume")
               cmi.exit = None
               cmi.score.scaled = Some("0.75")
               cmi.success_status = Some("passed")
               cmi.total_time = Some("PT2M")
               event {"kind":"resumed","at":19000,"attempt":1,"session":2,"location":"page-3"}
               event {"kind":"scored","at":26000,"score":{"scaled":0.75,"raw":null,"min":null,"max":null}}
               event {"kind":"passed","at":26000,"score":{"scaled":0.75,"raw":null,"min":null,"max":null}}
               event {"kind":"terminated","at":26000,"session_time":"PT30S","total_time":"PT2M","completion":"completed","success":"passed","score":{"scaled":0.75,"raw":null,"min":null,"max":null}}
            -- summary {"completion":"completed","success":"passed","score":{"scaled":0.75,"raw":null,"min":null,"max":null},"progress_measure":0.9,"total_time":"PT2M","total_time_centiseconds":12000,"location":"page-3","attempt_number":1,"suspended":false}
            -- next session
            I -> "true" 0
            G cmi.entry -> "ab-initio" 0
            G cmi.location -> "" 403
            G cmi.total_time -> "PT0H0M0S" 0
        "#]],
    );
}

#[test]
fn interactions_2004() {
    check(
        scorm2004(),
        "I
         S cmi.interactions.0.type choice
         S cmi.interactions.0.id q1
         S cmi.interactions.0.learner_response a
         S cmi.interactions.0.type choice
         S cmi.interactions.0.correct_responses.0.pattern a[,]b
         S cmi.interactions.0.correct_responses.1.pattern a[,]b
         S cmi.interactions.0.learner_response a[,]a
         S cmi.interactions.0.learner_response b[,]a
         S cmi.interactions.0.result correct
         S cmi.interactions.0.latency PT5S
         S cmi.interactions.1.id q2
         S cmi.interactions.1.type numeric
         S cmi.interactions.1.correct_responses.0.pattern 1[:]5
         S cmi.interactions.1.correct_responses.1.pattern 2
         S cmi.interactions.1.correct_responses.0.pattern 5[:]1
         S cmi.interactions.1.learner_response 3.5
         S cmi.interactions.3.id q4
         S cmi.interactions.2.id q3
         S cmi.interactions.2.type fill-in
         S cmi.interactions.2.correct_responses.0.pattern {case_matters=true}{lang=de}Haus[,]Maus
         S cmi.interactions.2.correct_responses.0.pattern {case_matters=maybe}Haus
         S cmi.interactions.2.timestamp 2024-02-29T10:00:00
         S cmi.interactions.2.timestamp 2023-02-29T10:00:00
         G cmi.interactions._count
         G cmi.interactions.0.correct_responses._count
         G cmi.interactions.0.learner_response
         C
         batches",
        expect![[r#"
            I -> "true" 0
            S cmi.interactions.0.type choice -> "false" 408
            S cmi.interactions.0.id q1 -> "true" 0
            S cmi.interactions.0.learner_response a -> "false" 408
            S cmi.interactions.0.type choice -> "true" 0
            S cmi.interactions.0.correct_responses.0.pattern a[,]b -> "true" 0
            S cmi.interactions.0.correct_responses.1.pattern a[,]b -> "false" 351
            S cmi.interactions.0.learner_response a[,]a -> "false" 406
            S cmi.interactions.0.learner_response b[,]a -> "true" 0
            S cmi.interactions.0.result correct -> "true" 0
            S cmi.interactions.0.latency PT5S -> "true" 0
            S cmi.interactions.1.id q2 -> "true" 0
            S cmi.interactions.1.type numeric -> "true" 0
            S cmi.interactions.1.correct_responses.0.pattern 1[:]5 -> "true" 0
            S cmi.interactions.1.correct_responses.1.pattern 2 -> "false" 351
            S cmi.interactions.1.correct_responses.0.pattern 5[:]1 -> "false" 406
            S cmi.interactions.1.learner_response 3.5 -> "true" 0
            S cmi.interactions.3.id q4 -> "false" 351
            S cmi.interactions.2.id q3 -> "true" 0
            S cmi.interactions.2.type fill-in -> "true" 0
            S cmi.interactions.2.correct_responses.0.pattern {case_matters=true}{lang=de}Haus[,]Maus -> "true" 0
            S cmi.interactions.2.correct_responses.0.pattern {case_matters=maybe}Haus -> "false" 406
            S cmi.interactions.2.timestamp 2024-02-29T10:00:00 -> "true" 0
            S cmi.interactions.2.timestamp 2023-02-29T10:00:00 -> "false" 406
            G cmi.interactions._count -> "3" 0
            G cmi.interactions.0.correct_responses._count -> "1" 0
            G cmi.interactions.0.learner_response -> "b[,]a" 0
            C -> "true" 0
            -- batch terminated=false
               cmi.interactions.0.correct_responses.0.pattern = Some("a[,]b")
               cmi.interactions.0.id = Some("q1")
               cmi.interactions.0.latency = Some("PT5S")
               cmi.interactions.0.learner_response = Some("b[,]a")
               cmi.interactions.0.result = Some("correct")
               cmi.interactions.0.type = Some("choice")
               cmi.interactions.1.correct_responses.0.pattern = Some("1[:]5")
               cmi.interactions.1.id = Some("q2")
               cmi.interactions.1.learner_response = Some("3.5")
               cmi.interactions.1.type = Some("numeric")
               cmi.interactions.2.correct_responses.0.pattern = Some("{case_matters=true}{lang=de}Haus[,]Maus")
               cmi.interactions.2.id = Some("q3")
               cmi.interactions.2.timestamp = Some("2024-02-29T10:00:00")
               cmi.interactions.2.type = Some("fill-in")
               event {"kind":"initialized","at":1000,"attempt":1,"session":1,"entry":"ab-initio"}
               event {"kind":"answered","at":28000,"interaction":{"index":0,"id":"q1","interaction_type":"choice","learner_response":"b[,]a","result":"correct","correct_responses":["a[,]b"],"latency":"PT5S","description":null,"timestamp":null,"weighting":null,"objective_ids":[]}}
               event {"kind":"answered","at":28000,"interaction":{"index":1,"id":"q2","interaction_type":"numeric","learner_response":"3.5","result":null,"correct_responses":["1[:]5"],"latency":null,"description":null,"timestamp":null,"weighting":null,"objective_ids":[]}}
        "#]],
    );
}

#[test]
fn shared_data_and_navigation_validity() {
    let mut config = scorm2004();
    let mut read_only = SharedDataMap::new("t2");
    read_only.writable = false;
    config.shared_data = vec![SharedDataMap::new("t1"), read_only];
    let mut attempt = Attempt::new(config);
    attempt.load_shared_data(
        &[("t2".to_owned(), "from another SCO".to_owned())]
            .into_iter()
            .collect(),
    );
    let mut nav = lms_rte::NavigationValidity {
        continue_: lms_rte::Validity::True,
        ..Default::default()
    };
    nav.choice.insert("item-2".into(), lms_rte::Validity::False);
    attempt.set_navigation_validity(nav);
    let transcript = run(
        attempt,
        "I
         G adl.data._count
         G adl.data.0.id
         G adl.data.0.store
         S adl.data.0.store hello
         G adl.data.1.store
         S adl.data.1.store nope
         S adl.data.2.store nope
         G adl.nav.request_valid.continue
         G adl.nav.request_valid.previous
         G adl.nav.request_valid.choice.{target=item-2}
         G adl.nav.request_valid.jump.{target=item-9}
         S adl.nav.request {target=item-2}choice
         S adl.nav.request choice
         G adl.nav.request
         T
         nav",
    );
    expect![[r#"
        I -> "true" 0
        G adl.data._count -> "2" 0
        G adl.data.0.id -> "t1" 0
        G adl.data.0.store -> "" 403
        S adl.data.0.store hello -> "true" 0
        G adl.data.1.store -> "from another SCO" 0
        S adl.data.1.store nope -> "false" 404
        S adl.data.2.store nope -> "false" 351
        G adl.nav.request_valid.continue -> "true" 0
        G adl.nav.request_valid.previous -> "unknown" 0
        G adl.nav.request_valid.choice.{target=item-2} -> "false" 0
        G adl.nav.request_valid.jump.{target=item-9} -> "unknown" 0
        S adl.nav.request {target=item-2}choice -> "true" 0
        S adl.nav.request choice -> "false" 406
        G adl.nav.request -> "{target=item-2}choice" 0
        T -> "true" 0
        -- nav request Some("{target=item-2}choice")
    "#]]
    .assert_eq(&transcript);
}

#[test]
fn scorm12_session_and_mastery() {
    let mut config = scorm12();
    config.mastery_score = Some(80.0);
    config.launch_data = Some("chapter=2".into());
    check(
        config,
        "G cmi.core.student_id
         I
         I
         G cmi.core._children
         G cmi.core.student_name
         G cmi.core.lesson_status
         G cmi.core.entry
         G cmi.launch_data
         G cmi.student_data.mastery_score
         G cmi.core.exit
         G cmi.core.lesson_location._children
         G cmi.suspend_data._count
         G cmi.objectives._count
         S cmi.core.student_id x
         S cmi.core._children x
         S cmi.core.lesson_status not attempted
         S cmi.core.lesson_status incomplete
         S cmi.core.score.raw 85
         S cmi.core.score.raw eighty
         S cmi.core.session_time 0000:10:30.5
         S cmi.core.session_time 10:30
         S cmi.core.exit suspend
         S cmi.objectives.1.id obj-b
         S cmi.objectives.0.id obj-a
         S cmi.objectives.0.status passed
         S cmi.interactions.0.id q1
         S cmi.interactions.0.type true-false
         S cmi.interactions.0.student_response t
         S cmi.interactions.0.result wrong
         S cmi.interactions.0.latency 00:00:07
         G cmi.interactions.0.id
         G cmi.interactions._count
         S cmi.comments first.
         S cmi.comments  second.
         G cmi.comments
         G cmi.nothing
         ES 405
         T
         G cmi.core.lesson_status
         batches
         summary
         next
         I
         G cmi.core.entry
         G cmi.core.lesson_status
         G cmi.core.total_time
         G cmi.core.lesson_location",
        expect![[r#"
            G cmi.core.student_id -> "" 301
            I -> "true" 0
            I -> "false" 101
            G cmi.core._children -> "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time" 0
            G cmi.core.student_name -> "Lovelace, Ada" 0
            G cmi.core.lesson_status -> "not attempted" 0
            G cmi.core.entry -> "ab-initio" 0
            G cmi.launch_data -> "chapter=2" 0
            G cmi.student_data.mastery_score -> "80" 0
            G cmi.core.exit -> "" 404
            G cmi.core.lesson_location._children -> "" 202
            G cmi.suspend_data._count -> "" 203
            G cmi.objectives._count -> "0" 0
            S cmi.core.student_id x -> "false" 403
            S cmi.core._children x -> "false" 402
            S cmi.core.lesson_status not attempted -> "false" 405
            S cmi.core.lesson_status incomplete -> "true" 0
            S cmi.core.score.raw 85 -> "true" 0
            S cmi.core.score.raw eighty -> "false" 405
            S cmi.core.session_time 0000:10:30.5 -> "true" 0
            S cmi.core.session_time 10:30 -> "false" 405
            S cmi.core.exit suspend -> "true" 0
            S cmi.objectives.1.id obj-b -> "false" 201
            S cmi.objectives.0.id obj-a -> "true" 0
            S cmi.objectives.0.status passed -> "true" 0
            S cmi.interactions.0.id q1 -> "true" 0
            S cmi.interactions.0.type true-false -> "true" 0
            S cmi.interactions.0.student_response t -> "true" 0
            S cmi.interactions.0.result wrong -> "true" 0
            S cmi.interactions.0.latency 00:00:07 -> "true" 0
            G cmi.interactions.0.id -> "" 404
            G cmi.interactions._count -> "1" 0
            S cmi.comments first. -> "true" 0
            S cmi.comments  second. -> "true" 0
            G cmi.comments -> "first. second." 0
            G cmi.nothing -> "" 401
            ES 405 -> "Incorrect Data Type" 401
            T -> "true" 0
            G cmi.core.lesson_status -> "" 301
            -- batch terminated=true
               cmi.comments = Some("first. second.")
               cmi.core.exit = Some("suspend")
               cmi.core.lesson_status = Some("passed")
               cmi.core.score.raw = Some("85")
               cmi.core.total_time = Some("0000:10:30.50")
               cmi.interactions.0.id = Some("q1")
               cmi.interactions.0.latency = Some("00:00:07")
               cmi.interactions.0.result = Some("wrong")
               cmi.interactions.0.student_response = Some("t")
               cmi.interactions.0.type = Some("true-false")
               cmi.objectives.0.id = Some("obj-a")
               cmi.objectives.0.status = Some("passed")
               event {"kind":"initialized","at":2000,"attempt":1,"session":1,"entry":"ab-initio"}
               event {"kind":"scored","at":38000,"score":{"scaled":0.85,"raw":85.0,"min":null,"max":null}}
               event {"kind":"completed","at":38000,"progress_measure":null}
               event {"kind":"passed","at":38000,"score":{"scaled":0.85,"raw":85.0,"min":null,"max":null}}
               event {"kind":"answered","at":38000,"interaction":{"index":0,"id":"q1","interaction_type":"true-false","learner_response":"t","result":"wrong","correct_responses":[],"latency":"PT7S","description":null,"timestamp":null,"weighting":null,"objective_ids":[]}}
               event {"kind":"suspended","at":38000,"session_time":"PT10M30.5S","total_time":"PT10M30.5S","location":null}
               event {"kind":"terminated","at":38000,"session_time":"PT10M30.5S","total_time":"PT10M30.5S","completion":"completed","success":"passed","score":{"scaled":0.85,"raw":85.0,"min":null,"max":null}}
            -- summary {"completion":"completed","success":"passed","score":{"scaled":0.85,"raw":85.0,"min":null,"max":null},"progress_measure":null,"total_time":"PT10M30.5S","total_time_centiseconds":63050,"location":null,"attempt_number":1,"suspended":true}
            -- next session
            I -> "true" 0
            G cmi.core.entry -> "resume" 0
            G cmi.core.lesson_status -> "passed" 0
            G cmi.core.total_time -> "0000:10:30.50" 0
            G cmi.core.lesson_location -> "" 0
        "#]],
    );
}

#[test]
fn scorm12_sizes_are_minimums_unless_strict() {
    let long = "x".repeat(64_000);
    let script = format!(
        "I\n S cmi.suspend_data {long}\n S cmi.core.lesson_location {}\n S cmi.core.score.raw 150\n G cmi.core.score.raw",
        "y".repeat(300)
    );
    let lenient = run(Attempt::new(scorm12()), &script);
    let mut strict_config = scorm12();
    strict_config.strict = true;
    let strict = run(Attempt::new(strict_config), &script);
    // long values are elided in the middle so the reply stays visible
    let shorten = |t: String| {
        t.lines()
            .map(|l| {
                let chars: Vec<char> = l.chars().collect();
                if chars.len() <= 70 {
                    format!("{l}\n")
                } else {
                    let head: String = chars[..40].iter().collect();
                    let tail: String = chars[chars.len() - 20..].iter().collect();
                    format!("{head}…({} chars)…{tail}\n", chars.len())
                }
            })
            .collect::<String>()
    };
    expect![[r#"
        I -> "true" 0
        S cmi.suspend_data xxxxxxxxxxxxxxxxxxxxx…(64031 chars)…xxxxxxxx -> "true" 0
        S cmi.core.lesson_location yyyyyyyyyyyyy…(339 chars)…yyyyyyyy -> "true" 0
        S cmi.core.score.raw 150 -> "true" 0
        G cmi.core.score.raw -> "150" 0
    "#]]
    .assert_eq(&shorten(lenient));
    expect![[r#"
        I -> "true" 0
        S cmi.suspend_data xxxxxxxxxxxxxxxxxxxxx…(64034 chars)…xxxxx -> "false" 405
        S cmi.core.lesson_location yyyyyyyyyyyyy…(342 chars)…yyyyy -> "false" 405
        S cmi.core.score.raw 150 -> "false" 405
        G cmi.core.score.raw -> "" 0
    "#]]
    .assert_eq(&shorten(strict));
}

#[test]
fn scorm12_untouched_status_becomes_completed_and_browse_mode_browsed() {
    check(
        scorm12(),
        "I\nT\nsummary",
        expect![[r#"
        I -> "true" 0
        T -> "true" 0
        -- summary {"completion":"completed","success":"unknown","score":null,"progress_measure":null,"total_time":"PT0H0M0S","total_time_centiseconds":0,"location":null,"attempt_number":1,"suspended":false}
    "#]],
    );
    let mut browse = scorm12();
    browse.mode = lms_rte::Mode::Browse;
    check(
        browse,
        "I\nG cmi.core.lesson_mode\nT\nI\nsummary",
        expect![[r#"
        I -> "true" 0
        G cmi.core.lesson_mode -> "browse" 0
        T -> "true" 0
        I -> "false" 101
        -- summary {"completion":"incomplete","success":"unknown","score":null,"progress_measure":null,"total_time":"PT0H0M0S","total_time_centiseconds":0,"location":null,"attempt_number":1,"suspended":false}
    "#]],
    );
}

#[test]
fn hostile_input_is_data() {
    let names = [
        "cmi.objectives.99999999999999999999.id",
        "cmi.interactions.-1.id",
        "cmi..location",
        "cmi.objectives.0.score.scaled.extra",
        "adl.nav.request_valid.choice.{target=}",
        "adl.data.0",
        "\u{0}\u{ffff}",
        "cmi.interactions.0.objectives.abc\u{e9}.id",
    ];
    for version in [ScormVersion::Scorm12, ScormVersion::Scorm2004] {
        let mut attempt = Attempt::new(AttemptConfig::new(version, "l", "n"));
        attempt.handle(Call::Initialize(""), UnixMillis(0));
        for name in names {
            for value in ["", "{lang=", "[,][.][:]", "PT", "9999-99-99", "\u{1F600}"] {
                let set = attempt.handle(Call::SetValue(name, value), UnixMillis(0));
                assert_ne!(set.error, 0, "{version:?} SetValue({name:?}, {value:?})");
                let get = attempt.handle(Call::GetValue(name), UnixMillis(0));
                assert_ne!(get.error, 0, "{version:?} GetValue({name:?})");
            }
        }
    }
    assert!(Attempt::from_json("{not json").is_err());
    // multi-byte text where identifiers, times and durations are parsed by position
    let mut attempt = Attempt::new(scorm2004());
    attempt.handle(Call::Initialize(""), UnixMillis(0));
    for (name, value) in [
        ("cmi.interactions.0.id", "abc\u{e9}"),
        ("cmi.objectives.0.id", "ur\u{e9}n:x"),
        ("cmi.comments_from_learner.0.timestamp", "200\u{e9}-01-01"),
        ("cmi.session_time", "P\u{e9}T1S"),
        ("cmi.learner_preference.language", "\u{e9}\u{e9}"),
        ("cmi.comments_from_learner.0.comment", "{lang=\u{e9}}x"),
    ] {
        let reply = attempt.handle(Call::SetValue(name, value), UnixMillis(0));
        assert!(
            reply.error == 0 || reply.error == 406,
            "{name}={value:?}: {reply:?}"
        );
    }
}

#[test]
fn objectives_show_the_sequencers_data() {
    let mut config = scorm2004();
    config.objective_ids = vec!["primary".into()];
    let mut attempt = Attempt::new(config);
    attempt.initialize_objectives(&[
        lms_rte::ObjectiveInit {
            id: "primary".into(),
            success_status: Some("passed".into()),
            score_scaled: Some(0.8),
            ..Default::default()
        },
        lms_rte::ObjectiveInit {
            id: "global-1".into(),
            completion_status: Some("completed".into()),
            ..Default::default()
        },
    ]);
    // A second initialization (a resumed attempt: global values changed meanwhile) updates
    // by id and keeps what it does not name.
    attempt.initialize_objectives(&[lms_rte::ObjectiveInit {
        id: "primary".into(),
        completion_status: Some("incomplete".into()),
        score_raw: Some(85.0),
        score_min: Some(0.0),
        score_max: Some(100.0),
        progress_measure: Some(0.25),
        ..Default::default()
    }]);
    let transcript = run(
        attempt,
        "I
         G cmi.objectives._count
         G cmi.objectives.0.success_status
         G cmi.objectives.0.completion_status
         G cmi.objectives.0.score.scaled
         G cmi.objectives.0.score.raw
         G cmi.objectives.0.score.min
         G cmi.objectives.0.score.max
         G cmi.objectives.0.progress_measure
         G cmi.objectives.1.id
         G cmi.objectives.1.completion_status
         G cmi.objectives.1.success_status",
    );
    expect![[r#"
        I -> "true" 0
        G cmi.objectives._count -> "2" 0
        G cmi.objectives.0.success_status -> "passed" 0
        G cmi.objectives.0.completion_status -> "incomplete" 0
        G cmi.objectives.0.score.scaled -> "0.8" 0
        G cmi.objectives.0.score.raw -> "85" 0
        G cmi.objectives.0.score.min -> "0" 0
        G cmi.objectives.0.score.max -> "100" 0
        G cmi.objectives.0.progress_measure -> "0.25" 0
        G cmi.objectives.1.id -> "global-1" 0
        G cmi.objectives.1.completion_status -> "completed" 0
        G cmi.objectives.1.success_status -> "unknown" 0
    "#]]
    .assert_eq(&transcript);
}

#[test]
fn bad_configuration_is_refused_with_the_field() {
    type Mutation = Box<dyn Fn(&mut AttemptConfig)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "completion_threshold",
            Box::new(|c| c.completion_threshold = Some(1.5)),
        ),
        (
            "scaled_passing_score",
            Box::new(|c| c.scaled_passing_score = Some(-2.0)),
        ),
        (
            "max_time_allowed",
            Box::new(|c| c.max_time_allowed = Some("01:00:00".into())),
        ),
        (
            "objective_ids",
            Box::new(|c| c.objective_ids = vec![String::new()]),
        ),
    ];
    for (field, mutate) in cases {
        let mut config = scorm2004();
        mutate(&mut config);
        match Attempt::try_new(config) {
            Err(lms_rte::Error::BadConfig { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: expected BadConfig, got {:?}", other.map(|_| ())),
        }
    }
    let mut config = scorm12();
    config.max_time_allowed = Some("0001:30:00".into());
    config.mastery_score = Some(80.0);
    assert!(Attempt::try_new(config).is_ok());
}

/// Random values from an alphabet of delimiters, digits and multi-byte characters against every
/// kind of element: no call may panic, and every reply is "true"/"false" or a value.
#[test]
fn random_values_never_panic() {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "0",
        "9",
        "-",
        ".",
        ":",
        "T",
        "P",
        "S",
        "M",
        "H",
        "D",
        "Y",
        "Z",
        "+",
        "{",
        "}",
        "[",
        "]",
        "[,]",
        "[.]",
        "[:]",
        "{lang=en}",
        "{case_matters=",
        "true",
        "urn:",
        "é",
        "漢",
        "😀",
        " ",
        "",
    ];
    let elements_2004 = [
        "cmi.location",
        "cmi.exit",
        "cmi.session_time",
        "cmi.score.scaled",
        "cmi.progress_measure",
        "cmi.learner_preference.language",
        "cmi.learner_preference.audio_captioning",
        "cmi.objectives.0.id",
        "cmi.objectives.0.score.raw",
        "cmi.comments_from_learner.0.comment",
        "cmi.comments_from_learner.0.timestamp",
        "cmi.interactions.0.id",
        "cmi.interactions.0.type",
        "cmi.interactions.0.learner_response",
        "cmi.interactions.0.correct_responses.0.pattern",
        "cmi.interactions.0.latency",
        "cmi.interactions.0.result",
        "adl.nav.request",
    ];
    let elements_12 = [
        "cmi.core.lesson_location",
        "cmi.core.lesson_status",
        "cmi.core.score.raw",
        "cmi.core.session_time",
        "cmi.core.exit",
        "cmi.objectives.0.id",
        "cmi.student_preference.audio",
        "cmi.interactions.0.id",
        "cmi.interactions.0.type",
        "cmi.interactions.0.student_response",
        "cmi.interactions.0.time",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (version, elements) in [
        (ScormVersion::Scorm2004, &elements_2004[..]),
        (ScormVersion::Scorm12, &elements_12[..]),
    ] {
        let mut attempt = Attempt::new(AttemptConfig::new(version, "l", "n"));
        attempt.handle(Call::Initialize(""), UnixMillis(0));
        attempt.handle(Call::SetValue("cmi.interactions.0.id", "q"), UnixMillis(0));
        for round in 0..20_000 {
            let mut value = String::new();
            for _ in 0..(next() % 8) {
                value.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let name = elements[(next() % elements.len() as u64) as usize];
            if round % 997 == 0 {
                attempt.handle(
                    Call::SetValue("cmi.interactions.0.type", "fill-in"),
                    UnixMillis(0),
                );
            }
            let reply = attempt.handle(Call::SetValue(name, &value), UnixMillis(0));
            assert!(
                reply.value == "true" || reply.value == "false",
                "{name}={value:?}"
            );
            attempt.handle(Call::GetValue(name), UnixMillis(0));
        }
        attempt.handle(Call::Commit(""), UnixMillis(1));
        attempt.handle(Call::Terminate(""), UnixMillis(2));
        let restored = Attempt::from_json(&attempt.to_json()).unwrap();
        assert_eq!(restored.values(), attempt.values());
    }
}

#[test]
fn time_limit_counts_earlier_sessions_and_the_running_one() {
    let mut config = scorm2004();
    config.max_time_allowed = Some("PT2M".into());
    config.time_limit_action = Some(lms_rte::TimeLimitAction::ExitMessage);
    let mut attempt = Attempt::new(config);
    attempt.handle(Call::Initialize(""), UnixMillis(0));
    assert_eq!(
        attempt
            .handle(Call::GetValue("cmi.max_time_allowed"), UnixMillis(0))
            .value,
        "PT2M"
    );
    assert_eq!(
        attempt
            .handle(Call::GetValue("cmi.time_limit_action"), UnixMillis(0))
            .value,
        "exit,message"
    );
    attempt.handle(Call::SetValue("cmi.session_time", "PT1M30S"), UnixMillis(0));
    attempt.handle(Call::SetValue("cmi.exit", "suspend"), UnixMillis(0));
    assert!(!attempt.time_limit_exceeded(UnixMillis(90_000)));
    attempt.handle(Call::Terminate(""), UnixMillis(90_000));
    attempt.begin_next_session();
    attempt.handle(Call::Initialize(""), UnixMillis(100_000));
    assert!(!attempt.time_limit_exceeded(UnixMillis(129_000)));
    assert!(attempt.time_limit_exceeded(UnixMillis(130_000)));
}
