//! Attendance and completions, e-learning completions, learning paths (event-driven),
//! mandatory training with recertification, and a person's training history.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lms_schedule::attendance::{AttendanceMark, AttendanceStatus, CompletionOutcome, completion, validate_mark};
use lms_schedule::ids::{CourseId, LearningPathId, PackageId, PersonId, RequirementId, SessionId, StepId};
use lms_schedule::mandatory::{AssignmentScope, Cycle, Requirement, TrainingStatus, recertification_notice, requirement_status};
use lms_schedule::org::OrgTree;
use lms_schedule::path::{CompletionEvent, CompletionKind, LearningPath, PathProgress};
use lms_schedule::time::berlin_date;

use super::{from_json, id_i64, id_u64, load_org_up, placeholders, to_json, ts_parse, ts_text};
use crate::db::{BeginWrite, with_db};
use crate::{Error, Store, now_text};

/// One attendance mark to record.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    pub personnel_number: String,
    /// `attended`, `partly`, `excused` or `no_show`.
    pub status: AttendanceStatus,
}

/// What recording attendance did: the completion outcome per person after the marks.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttendanceReport {
    pub session_id: i64,
    pub offering_id: i64,
    pub recorded: u64,
    /// Per person: `completed`, `not_completed` or `pending` (with the unmarked sessions).
    pub completion: BTreeMap<String, CompletionOutcome>,
    /// Per person who completed with these marks: the verification code of the certificate
    /// issued for it (absent when issuing failed; it is logged and
    /// [`Store::issue_pending_certificates`] catches up).
    pub certificates_issued: BTreeMap<String, String>,
    /// Per person whose completion these marks withdrew: the code of the certificate revoked
    /// with it.
    pub certificates_revoked: BTreeMap<String, String>,
}

/// What recording an e-learning completion did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ElearningCompletionRecorded {
    /// `false` when this very completion (person, package, instant) was already recorded:
    /// then nothing else happened.
    pub new: bool,
    /// Learning paths on which a step completed (the next steps are unlocked).
    pub paths_advanced: Vec<i64>,
    /// The certificate issued for it: `None` when the package's e-learning course has no
    /// certified duration (or there is no such course), or when issuing failed (logged;
    /// [`Store::issue_pending_certificates`] catches up).
    pub certificate: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompletedOffering {
    pub offering_id: i64,
    pub course_id: i64,
    pub course_title: String,
    pub completed_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ElearningCompletion {
    pub package_id: String,
    pub completed_at: DateTime<Utc>,
}

/// A mandatory-training requirement to create.
#[derive(Clone, Debug)]
pub struct NewRequirement {
    pub title: String,
    /// Completing any of these courses satisfies it.
    pub satisfied_by: Vec<i64>,
    pub assigned_to: Vec<AssignmentScope>,
    pub validity_months: Option<u32>,
    pub recertification_window_days: u32,
    pub initial_deadline_days: u32,
}

/// One person's status for one requirement.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MandatoryStatus {
    pub requirement_id: i64,
    pub title: String,
    /// `not_started`, `due`, `overdue`, `valid` or `expired`.
    pub status: TrainingStatus,
    pub due_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Current certification cycle (0 = never completed).
    pub cycle: u32,
    /// Every cycle, oldest first: earlier completions stay in the history.
    pub history: Vec<Cycle>,
}

/// One person's progress on a learning path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PathStatus {
    pub path_id: i64,
    pub title: String,
    pub completed_steps: BTreeMap<StepId, DateTime<Utc>>,
    /// Steps unlocked now.
    pub next_steps: Vec<StepId>,
    pub completed: bool,
}

/// A person's training history: completed offerings, e-learning completions, mandatory
/// training with every cycle, learning paths. No scores, no time spent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PersonHistory {
    pub personnel_number: String,
    pub completed_offerings: Vec<CompletedOffering>,
    pub e_learning: Vec<ElearningCompletion>,
    pub mandatory: Vec<MandatoryStatus>,
    pub learning_paths: Vec<PathStatus>,
}

pub(crate) struct StoredRequirement {
    pub id: i64,
    pub assigned_at: DateTime<Utc>,
    pub requirement: Requirement,
}

/// Statuses of the requirements that apply to `person`, from the person's completions
/// (course id → instants).
pub(crate) fn mandatory_for(
    tree: &OrgTree,
    requirements: &[StoredRequirement],
    person: &PersonId,
    completions: &BTreeMap<i64, Vec<DateTime<Utc>>>,
    now: DateTime<Utc>,
) -> Vec<MandatoryStatus> {
    requirements
        .iter()
        .filter(|r| r.requirement.applies_to(tree, person))
        .map(|r| {
            let done: Vec<DateTime<Utc>> = r
                .requirement
                .satisfied_by
                .iter()
                .flat_map(|c| completions.get(&id_i64(c.0)).into_iter().flatten().copied())
                .collect();
            let s = requirement_status(&r.requirement, r.assigned_at, &done, now);
            MandatoryStatus {
                requirement_id: r.id,
                title: r.requirement.title.clone(),
                status: s.status,
                due_at: s.due_at,
                valid_until: s.valid_until,
                cycle: s.cycle,
                history: s.history,
            }
        })
        .collect()
}

impl Store {
    /// Records attendance marks for a session (append-only: a later mark corrects an
    /// earlier one), then applies the offering's completion rule to each person marked.
    /// A completion starts the next learning-path steps at once; a correction that undoes
    /// a completion removes it.
    pub async fn record_attendance(&self, session_id: i64, marks: &[AttendanceInput], recorded_by: &str) -> Result<AttendanceReport, Error> {
        let offering_id =
            self.session_offering(session_id).await?.ok_or_else(|| Error::NotFound { what: format!("session {session_id}") })?;
        let state = self.offering_state(offering_id).await?;
        let (offering, rule) =
            self.pure_offering(offering_id).await?.ok_or_else(|| Error::NotFound { what: format!("offering {offering_id}") })?;
        if marks.is_empty() {
            return Err(Error::invalid("marks", "is empty"));
        }
        let now = Utc::now();
        let mut seen = BTreeSet::new();
        for m in marks {
            let person = PersonId(m.personnel_number.clone());
            if !seen.insert(&m.personnel_number) {
                return Err(Error::invalid("marks", format!("{} is listed twice", m.personnel_number)));
            }
            let booked = state.bookings.iter().any(|b| b.person == person && b.status == lms_schedule::booking::BookingStatus::Booked);
            if !booked {
                return Err(Error::invalid("personnel_number", format!("{} holds no booked seat on offering {offering_id}", m.personnel_number)));
            }
            validate_mark(&offering, &AttendanceMark {
                session: SessionId(id_u64(session_id)),
                person,
                status: m.status,
                recorded_at: now,
                recorded_by: PersonId(recorded_by.to_string()),
            })?;
        }
        let now_s = ts_text(now);
        let course_id = id_i64(offering.course_id.0);
        let people: Vec<String> = marks.iter().map(|m| m.personnel_number.clone()).collect();
        let (report, newly_completed, withdrawn) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                for m in marks {
                    sqlx::query(
                        "INSERT INTO attendance_marks (session_id, personnel_number, status, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(session_id)
                    .bind(m.personnel_number.as_str())
                    .bind(m.status.name())
                    .bind(&now_s)
                    .bind(recorded_by)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut outcomes = BTreeMap::new();
                let mut newly = Vec::new();
                let mut withdrawn = Vec::new();
                for person in &people {
                    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
                        "SELECT m.session_id, m.status, m.recorded_at, m.recorded_by FROM attendance_marks m \
                         JOIN offering_sessions s ON s.id = m.session_id WHERE s.offering_id = $1 AND m.personnel_number = $2 ORDER BY m.id",
                    )
                    .bind(offering_id)
                    .bind(person.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                    let log = rows
                        .into_iter()
                        .map(|(sid, status, at, by)| {
                            Ok(AttendanceMark {
                                session: SessionId(id_u64(sid)),
                                person: PersonId(person.clone()),
                                status: parse_status(&status)?,
                                recorded_at: ts_parse(&at)?,
                                recorded_by: PersonId(by),
                            })
                        })
                        .collect::<Result<Vec<_>, Error>>()?;
                    let outcome = completion(rule, &offering, &PersonId(person.clone()), &log);
                    if outcome == CompletionOutcome::Completed {
                        let done = sqlx::query(
                            "INSERT INTO offering_completions (offering_id, personnel_number, course_id, completed_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (offering_id, personnel_number) DO NOTHING",
                        )
                        .bind(offering_id)
                        .bind(person.as_str())
                        .bind(course_id)
                        .bind(&now_s)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() > 0 {
                            newly.push(person.clone());
                        }
                    } else {
                        let gone = sqlx::query("DELETE FROM offering_completions WHERE offering_id = $1 AND personnel_number = $2")
                            .bind(offering_id)
                            .bind(person.as_str())
                            .execute(&mut *tx)
                            .await?;
                        if gone.rows_affected() > 0 {
                            withdrawn.push(person.clone());
                        }
                    }
                    outcomes.insert(person.clone(), outcome);
                }
                tx.commit().await?;
                Ok::<_, Error>((
                    AttendanceReport {
                        session_id,
                        offering_id,
                        recorded: marks.len() as u64,
                        completion: outcomes,
                        certificates_issued: BTreeMap::new(),
                        certificates_revoked: BTreeMap::new(),
                    },
                    newly,
                    withdrawn,
                ))
            }
            .await
        })?;
        let mut report = report;
        // Event-driven effects of a completion, after it is committed: the next learning-path
        // steps unlock and the certificate is issued. A certificate that cannot be issued now
        // does not undo the completion (logged; `issue_pending_certificates` catches up).
        for person in newly_completed {
            let event = CompletionEvent { kind: CompletionKind::Offering { course_id: CourseId(id_u64(course_id)) }, completed_at: now };
            self.apply_path_event(&person, &event).await?;
            match self.issue_certificate_for_offering(offering_id, &person, now).await {
                Ok(issued) => {
                    report.certificates_issued.insert(person, issued.code);
                }
                Err(error) => tracing::warn!(offering_id, personnel_number = %person, %error, "certificate not issued for a completed offering"),
            }
        }
        // A correction that withdrew a completion withdraws its certificate too.
        for person in withdrawn {
            let key = format!("offering:{offering_id}:{person}");
            let valid: Option<(String,)> = with_db!(&self.db, |pool| {
                sqlx::query_as("SELECT code FROM certificates WHERE source_key = $1 AND status = 'valid'").bind(&key).fetch_optional(pool).await?
            });
            if let Some((code,)) = valid {
                let reason = format!("attendance corrected: the completion rule of offering {offering_id} is no longer met");
                self.revoke_certificate(&code, &reason, Some(recorded_by), now).await?;
                report.certificates_revoked.insert(person, code);
            }
        }
        Ok(report)
    }

    /// No-show marks of a person that still count at `now` (not corrected, not expired).
    pub async fn active_no_shows(&self, personnel_number: &str, expires_after: chrono::Duration, now: DateTime<Utc>) -> Result<Vec<i64>, Error> {
        let rows: Vec<(i64, String, String, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT m.session_id, m.status, m.recorded_at, m.recorded_by, s.ends_at FROM attendance_marks m \
                 JOIN offering_sessions s ON s.id = m.session_id WHERE m.personnel_number = $1 ORDER BY m.id",
            )
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        let mut log = Vec::with_capacity(rows.len());
        let mut ends = BTreeMap::new();
        for (sid, status, at, by, ends_at) in rows {
            ends.insert(SessionId(id_u64(sid)), ts_parse(&ends_at)?);
            log.push(AttendanceMark {
                session: SessionId(id_u64(sid)),
                person: PersonId(personnel_number.to_string()),
                status: parse_status(&status)?,
                recorded_at: ts_parse(&at)?,
                recorded_by: PersonId(by),
            });
        }
        let policy = lms_schedule::attendance::NoShowPolicy { expires_after };
        Ok(lms_schedule::attendance::active_no_shows(policy, &PersonId(personnel_number.into()), &log, &ends, now)
            .into_iter()
            .map(|s| id_i64(s.0))
            .collect())
    }

    /// Records that a person completed an e-learning package (from the SCORM/xAPI
    /// records). When the completion is new, its effects follow at once (event-driven, no
    /// batch job): learning paths waiting for the package move on, and the certificate is
    /// issued if the package's e-learning course has a certified duration. Recording the
    /// same completion (same instant) again changes nothing. A certificate that cannot be
    /// issued now does not fail the completion: it is logged, and
    /// [`Store::issue_pending_certificates`] catches up.
    pub async fn record_elearning_completion(
        &self,
        personnel_number: &str,
        package_id: &str,
        completed_at: DateTime<Utc>,
    ) -> Result<ElearningCompletionRecorded, Error> {
        if self.person(personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        let inserted = with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO elearning_completions (personnel_number, package_id, completed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(personnel_number)
            .bind(package_id)
            .bind(ts_text(completed_at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        let mut recorded = ElearningCompletionRecorded { new: inserted > 0, paths_advanced: Vec::new(), certificate: None };
        if !recorded.new {
            return Ok(recorded);
        }
        let event = CompletionEvent { kind: CompletionKind::ELearning { package_id: PackageId(package_id.into()) }, completed_at };
        recorded.paths_advanced = self.apply_path_event(personnel_number, &event).await?;
        match self.issue_certificate_for_elearning(personnel_number, package_id, completed_at, Utc::now()).await {
            Ok(issued) => recorded.certificate = issued.map(|c| c.code),
            Err(error) => tracing::warn!(package_id, personnel_number, %error, "certificate not issued for a completed e-learning package"),
        }
        Ok(recorded)
    }

    /// Creates a learning path (its `id` field is ignored). Returns the new id.
    pub async fn create_learning_path(&self, title: &str, path: &LearningPath) -> Result<i64, Error> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(Error::invalid("title", "must be 1 to 300 characters"));
        }
        path.validate()?;
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>("INSERT INTO learning_paths (title, path_json, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(title)
                .bind(to_json(path))
                .bind(now_text())
                .fetch_one(pool)
                .await?
                .0
        }))
    }

    pub async fn learning_path(&self, id: i64) -> Result<Option<(String, LearningPath)>, Error> {
        let row: Option<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT title, path_json FROM learning_paths WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        match row {
            None => Ok(None),
            Some((title, json)) => {
                let mut path: LearningPath = from_json("learning path", &json)?;
                path.id = LearningPathId(id_u64(id));
                Ok(Some((title, path)))
            }
        }
    }

    /// Enrols a person on a path. Completions they already have count at once.
    pub async fn enroll_in_path(&self, path_id: i64, personnel_number: &str) -> Result<PathStatus, Error> {
        let (_, path) = self.learning_path(path_id).await?.ok_or_else(|| Error::NotFound { what: format!("learning path {path_id}") })?;
        if self.person(personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        let mut events = self.completion_events(personnel_number).await?;
        events.sort_by_key(|e| e.completed_at);
        let mut progress = PathProgress::default();
        let mut completed = false;
        for event in &events {
            let update = progress.apply(&path, event);
            progress = update.progress;
            completed = update.path_completed;
        }
        let now = now_text();
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO path_enrollments (path_id, personnel_number, progress_json, completed_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (path_id, personnel_number) DO NOTHING",
            )
            .bind(path_id)
            .bind(personnel_number)
            .bind(to_json(&progress))
            .bind(completed.then(|| now.clone()))
            .bind(&now)
            .execute(pool)
            .await?;
        });
        self.paths_of(personnel_number).await?.into_iter().find(|p| p.path_id == path_id).ok_or_else(|| Error::Task("enrolment vanished".into()))
    }

    /// The learning paths a person is enrolled on, with progress and next steps.
    pub async fn paths_of(&self, personnel_number: &str) -> Result<Vec<PathStatus>, Error> {
        let rows: Vec<(i64, String, String, String, Option<String>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT e.path_id, p.title, p.path_json, e.progress_json, e.completed_at FROM path_enrollments e \
                 JOIN learning_paths p ON p.id = e.path_id WHERE e.personnel_number = $1 ORDER BY e.path_id",
            )
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, title, path_json, progress_json, completed_at)| {
                let path: LearningPath = from_json("learning path", &path_json)?;
                let progress: PathProgress = from_json("path progress", &progress_json)?;
                Ok(PathStatus {
                    path_id: id,
                    title,
                    next_steps: progress.next_steps(&path),
                    completed_steps: progress.completed,
                    completed: completed_at.is_some(),
                })
            })
            .collect()
    }

    /// Applies one completion event to every path the person is enrolled on (the
    /// event-driven unlock: no batch job). Returns the paths on which a step completed.
    async fn apply_path_event(&self, personnel_number: &str, event: &CompletionEvent) -> Result<Vec<i64>, Error> {
        let now = now_text();
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT e.path_id, p.path_json, e.progress_json, e.completed_at FROM path_enrollments e \
                     JOIN learning_paths p ON p.id = e.path_id WHERE e.personnel_number = $1",
                )
                .bind(personnel_number)
                .fetch_all(&mut *tx)
                .await?;
                let mut advanced = Vec::new();
                for (path_id, path_json, progress_json, completed_at) in rows {
                    let path: LearningPath = from_json("learning path", &path_json)?;
                    let progress: PathProgress = from_json("path progress", &progress_json)?;
                    let update = progress.apply(&path, event);
                    if update.newly_completed.is_empty() {
                        continue;
                    }
                    let completed = completed_at.or_else(|| update.path_completed.then(|| now.clone()));
                    sqlx::query(
                        "UPDATE path_enrollments SET progress_json = $1, completed_at = $2, updated_at = $3 WHERE path_id = $4 AND personnel_number = $5",
                    )
                    .bind(to_json(&update.progress))
                    .bind(completed)
                    .bind(&now)
                    .bind(path_id)
                    .bind(personnel_number)
                    .execute(&mut *tx)
                    .await?;
                    advanced.push(path_id);
                }
                tx.commit().await?;
                Ok::<_, Error>(advanced)
            }
            .await
        })
    }

    /// Every completion of a person as path events (offerings and e-learning).
    async fn completion_events(&self, personnel_number: &str) -> Result<Vec<CompletionEvent>, Error> {
        let (offerings, elearning): (Vec<(i64, String)>, Vec<(String, String)>) = with_db!(&self.db, |pool| {
            (
                sqlx::query_as("SELECT course_id, completed_at FROM offering_completions WHERE personnel_number = $1")
                    .bind(personnel_number)
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as("SELECT package_id, completed_at FROM elearning_completions WHERE personnel_number = $1")
                    .bind(personnel_number)
                    .fetch_all(pool)
                    .await?,
            )
        });
        let mut events = Vec::new();
        for (course, at) in offerings {
            events.push(CompletionEvent { kind: CompletionKind::Offering { course_id: CourseId(id_u64(course)) }, completed_at: ts_parse(&at)? });
        }
        for (package, at) in elearning {
            events.push(CompletionEvent { kind: CompletionKind::ELearning { package_id: PackageId(package) }, completed_at: ts_parse(&at)? });
        }
        Ok(events)
    }

    pub async fn create_requirement(&self, new: &NewRequirement) -> Result<i64, Error> {
        let title = new.title.trim();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(Error::invalid("title", "must be 1 to 300 characters"));
        }
        if new.satisfied_by.is_empty() {
            return Err(Error::invalid("satisfied_by", "list at least one course"));
        }
        for course in &new.satisfied_by {
            if self.course(*course).await?.is_none() {
                return Err(Error::invalid("satisfied_by", format!("course {course} does not exist")));
            }
        }
        if new.assigned_to.is_empty() {
            return Err(Error::invalid("assigned_to", "assign the requirement to at least one org unit or role"));
        }
        let tree = self.org_units_tree().await?;
        for scope in &new.assigned_to {
            match scope {
                AssignmentScope::OrgUnit(unit) if tree.unit(unit).is_none() => {
                    return Err(Error::invalid("assigned_to", format!("org unit {unit} does not exist")));
                }
                AssignmentScope::Role(role) if crate::Role::parse(role.as_str()).is_none() => {
                    return Err(Error::invalid("assigned_to", format!("unknown role {role}")));
                }
                _ => {}
            }
        }
        let requirement = Requirement {
            id: RequirementId(0),
            title: title.to_string(),
            satisfied_by: new.satisfied_by.iter().map(|c| CourseId(id_u64(*c))).collect(),
            assigned_to: new.assigned_to.clone(),
            validity_months: new.validity_months,
            recertification_window_days: new.recertification_window_days,
            initial_deadline_days: new.initial_deadline_days,
        };
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>(
                "INSERT INTO mandatory_requirements (title, requirement_json, assigned_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(title)
            .bind(to_json(&requirement))
            .bind(now_text())
            .fetch_one(pool)
            .await?
            .0
        }))
    }

    pub(crate) async fn requirements(&self) -> Result<Vec<StoredRequirement>, Error> {
        let rows: Vec<(i64, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, requirement_json, assigned_at FROM mandatory_requirements ORDER BY id").fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(id, json, at)| {
                let mut requirement: Requirement = from_json("requirement", &json)?;
                requirement.id = RequirementId(id_u64(id));
                Ok(StoredRequirement { id, assigned_at: ts_parse(&at)?, requirement })
            })
            .collect()
    }

    /// Completions per person and course for the given people (one query each kind).
    pub(crate) async fn completions_by_course(&self, people: &[String]) -> Result<BTreeMap<String, BTreeMap<i64, Vec<DateTime<Utc>>>>, Error> {
        let mut out: BTreeMap<String, BTreeMap<i64, Vec<DateTime<Utc>>>> = BTreeMap::new();
        for chunk in people.chunks(500) {
            let sql = format!(
                "SELECT personnel_number, course_id, completed_at FROM offering_completions WHERE personnel_number IN ({}) \
                 UNION ALL SELECT e.personnel_number, c.id, e.completed_at FROM elearning_completions e \
                 JOIN courses c ON c.package_id = e.package_id \
                 WHERE e.personnel_number IN ({})",
                placeholders(1, chunk.len()),
                placeholders(chunk.len() + 1, chunk.len())
            );
            let rows: Vec<(String, i64, String)> = with_db!(&self.db, |pool| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for p in chunk.iter().chain(chunk.iter()) {
                    q = q.bind(p.as_str());
                }
                q.fetch_all(pool).await?
            });
            for (person, course, at) in rows {
                out.entry(person).or_default().entry(course).or_default().push(ts_parse(&at)?);
            }
        }
        Ok(out)
    }

    /// A person's mandatory-training statuses at `now`.
    pub async fn mandatory_status(&self, personnel_number: &str, now: DateTime<Utc>) -> Result<Vec<MandatoryStatus>, Error> {
        let requirements = self.requirements().await?;
        if requirements.is_empty() {
            return Ok(Vec::new());
        }
        let people = vec![personnel_number.to_string()];
        let (tree, _) = with_db!(&self.db, |pool| load_org_up!(pool, &people, berlin_date(now)).await)?;
        let completions = self.completions_by_course(&people).await?.remove(personnel_number).unwrap_or_default();
        Ok(mandatory_for(&tree, &requirements, &PersonId(personnel_number.into()), &completions, now))
    }

    /// Queues "recertification due" notices (once per person, requirement and cycle) for
    /// everyone whose current cycle is due or expired at `now`. Returns how many were new.
    pub async fn queue_recertification_notices(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let requirements: Vec<StoredRequirement> =
            self.requirements().await?.into_iter().filter(|r| r.requirement.validity_months.is_some()).collect();
        if requirements.is_empty() {
            return Ok(0);
        }
        let courses: BTreeSet<i64> = requirements.iter().flat_map(|r| r.requirement.satisfied_by.iter().map(|c| id_i64(c.0))).collect();
        let list: Vec<i64> = courses.into_iter().collect();
        let sql = format!("SELECT DISTINCT personnel_number FROM offering_completions WHERE course_id IN ({})", placeholders(1, list.len()));
        let people: Vec<String> = with_db!(&self.db, |pool| {
            let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for c in &list {
                q = q.bind(*c);
            }
            q.fetch_all(pool).await?
        })
        .into_iter()
        .map(|(p,)| p)
        .collect();
        let mut queued = 0;
        for chunk in people.chunks(500) {
            let chunk: Vec<String> = chunk.to_vec();
            let (tree, _) = with_db!(&self.db, |pool| load_org_up!(pool, &chunk, berlin_date(now)).await)?;
            let completions = self.completions_by_course(&chunk).await?;
            for person in &chunk {
                let empty = BTreeMap::new();
                let statuses = mandatory_for(&tree, &requirements, &PersonId(person.clone()), completions.get(person).unwrap_or(&empty), now);
                for s in statuses {
                    let pure = lms_schedule::mandatory::RequirementStatus {
                        requirement: RequirementId(id_u64(s.requirement_id)),
                        status: s.status,
                        due_at: s.due_at,
                        valid_until: s.valid_until,
                        cycle: s.cycle,
                        history: s.history,
                    };
                    if let Some(entry) = recertification_notice(&PersonId(person.clone()), &pure, now) {
                        queued += with_db!(&self.db, |pool| {
                            sqlx::query(
                                "INSERT INTO notification_outbox (dedupe_key, recipient, kind, payload_json, created_at, next_attempt_at) \
                                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
                            )
                            .bind(&entry.dedupe_key)
                            .bind(entry.recipient.0.as_str())
                            .bind(entry.notification.kind())
                            .bind(to_json(&entry.notification))
                            .bind(ts_text(entry.created_at))
                            .execute(pool)
                            .await?
                            .rows_affected()
                        });
                    }
                }
            }
        }
        Ok(queued)
    }

    /// Completed offerings of a person, newest first.
    pub async fn completed_offerings(&self, personnel_number: &str) -> Result<Vec<CompletedOffering>, Error> {
        let rows: Vec<(i64, i64, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT oc.offering_id, oc.course_id, c.title, oc.completed_at FROM offering_completions oc \
                 JOIN courses c ON c.id = oc.course_id WHERE oc.personnel_number = $1 ORDER BY oc.completed_at DESC, oc.offering_id DESC",
            )
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(offering_id, course_id, course_title, at)| Ok(CompletedOffering { offering_id, course_id, course_title, completed_at: ts_parse(&at)? }))
            .collect()
    }

    /// A person's training history (no scores, no time spent).
    pub async fn person_history(&self, personnel_number: &str, now: DateTime<Utc>) -> Result<PersonHistory, Error> {
        if self.person(personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        let rows: Vec<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT package_id, completed_at FROM elearning_completions WHERE personnel_number = $1 ORDER BY completed_at DESC",
            )
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        let e_learning = rows
            .into_iter()
            .map(|(package_id, at)| Ok(ElearningCompletion { package_id, completed_at: ts_parse(&at)? }))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(PersonHistory {
            personnel_number: personnel_number.to_string(),
            completed_offerings: self.completed_offerings(personnel_number).await?,
            e_learning,
            mandatory: self.mandatory_status(personnel_number, now).await?,
            learning_paths: self.paths_of(personnel_number).await?,
        })
    }
}

pub(crate) fn parse_status(text: &str) -> Result<AttendanceStatus, Error> {
    Ok(match text {
        "attended" => AttendanceStatus::Attended,
        "partly" => AttendanceStatus::Partly,
        "excused" => AttendanceStatus::Excused,
        "no_show" => AttendanceStatus::NoShow,
        other => return Err(Error::Task(format!("stored attendance status {other:?} is unknown"))),
    })
}
