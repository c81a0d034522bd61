//! Heads and deputies of org units, absences, rooms, courses, offerings and sessions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use lms_schedule::attendance::CompletionRule;
use lms_schedule::catalogue::{Course, CourseKind, Visibility};
use lms_schedule::ids::{CourseId, OfferingId, OrgUnitId, PersonId, RoomId, SessionId};
use lms_schedule::offering::{Offering, Room, Session, check_no_clash, validate_session};
use lms_schedule::org::{OrgTree, OrgUnit as PureUnit};

use super::{from_json, id_i64, id_u64, placeholders, to_json, ts_parse, ts_parse_opt, ts_text, u32_of};
use crate::db::{BeginWrite, Db, with_db};
use crate::{Error, Store, now_text};

/// A room to create.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct NewRoom {
    pub name: String,
    pub capacity: u32,
    pub location: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoomRecord {
    pub id: i64,
    pub name: String,
    pub capacity: u32,
    pub location: Option<String>,
}

/// A course to create. `kind` carries the kind's data (package, meeting URL, learning path).
#[derive(Clone, Debug)]
pub struct NewCourse {
    pub title: String,
    pub kind: CourseKind,
    /// The owning department.
    pub org_unit: String,
    pub visibility: Visibility,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CourseRecord {
    pub id: i64,
    pub title: String,
    /// `e_learning`, `classroom`, `live_online` or `blended`.
    pub kind: String,
    pub org_unit: String,
    pub package_id: Option<String>,
    pub meeting_url: Option<String>,
    pub learning_path_id: Option<i64>,
    /// `None` = city-wide; otherwise the org units (with their subtrees) that see it.
    pub visible_to: Option<Vec<String>>,
    pub description: Option<String>,
}

impl CourseRecord {
    /// The course as the pure rules see it.
    pub fn to_course(&self) -> Result<Course, Error> {
        Ok(Course {
            id: CourseId(id_u64(self.id)),
            title: self.title.clone(),
            org_unit: OrgUnitId(self.org_unit.clone()),
            kind: match self.kind.as_str() {
                "e_learning" => CourseKind::ELearning { package_id: self.package_id.clone().unwrap_or_default().as_str().into() },
                "live_online" => CourseKind::LiveOnline { meeting_url: self.meeting_url.clone().unwrap_or_default() },
                "blended" => CourseKind::Blended {
                    learning_path_id: lms_schedule::ids::LearningPathId(id_u64(self.learning_path_id.unwrap_or(0))),
                },
                _ => CourseKind::Classroom,
            },
            visibility: match &self.visible_to {
                None => Visibility::CityWide,
                Some(units) => Visibility::OrgUnits(units.iter().map(|u| OrgUnitId(u.clone())).collect()),
            },
        })
    }
}

/// An offering to create; sessions are added one by one afterwards.
#[derive(Clone, Debug)]
pub struct NewOffering {
    pub course_id: i64,
    pub min_participants: u32,
    pub max_participants: u32,
    pub booking_opens_at: Option<DateTime<Utc>>,
    pub booking_closes_at: DateTime<Utc>,
    pub cancellation_deadline: DateTime<Utc>,
    pub requires_approval: bool,
    pub completion: CompletionRule,
}

/// A session to add to an offering.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub room_id: Option<i64>,
    pub trainer_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionRecord {
    pub id: i64,
    pub offering_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub room_id: Option<i64>,
    pub trainer_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OfferingRecord {
    pub id: i64,
    pub course_id: i64,
    pub course_title: String,
    pub min_participants: u32,
    pub max_participants: u32,
    pub booking_opens_at: Option<DateTime<Utc>>,
    pub booking_closes_at: DateTime<Utc>,
    pub cancellation_deadline: DateTime<Utc>,
    pub requires_approval: bool,
    pub min_attended_percent: u8,
    pub partly_weight_percent: u8,
    pub sessions: Vec<SessionRecord>,
    pub booked: u32,
    pub waitlisted: u32,
    pub pending_approval: u32,
}

type CourseRow = (i64, String, String, String, String, String, Option<String>);
pub(crate) const COURSE_COLUMNS: &str = "id, title, kind, org_unit_id, kind_json, visibility_json, description";

pub(crate) fn course_from_row(row: CourseRow) -> Result<CourseRecord, Error> {
    let (id, title, kind, org_unit, kind_json, visibility_json, description) = row;
    let kind_value: CourseKind = from_json("course kind", &kind_json)?;
    let visibility: Visibility = from_json("course visibility", &visibility_json)?;
    let (package_id, meeting_url, learning_path_id) = match kind_value {
        CourseKind::ELearning { package_id } => (Some(package_id.0), None, None),
        CourseKind::LiveOnline { meeting_url } => (None, Some(meeting_url), None),
        CourseKind::Blended { learning_path_id } => (None, None, Some(id_i64(learning_path_id.0))),
        CourseKind::Classroom => (None, None, None),
    };
    Ok(CourseRecord {
        id,
        title,
        kind,
        org_unit,
        package_id,
        meeting_url,
        learning_path_id,
        visible_to: match visibility {
            Visibility::CityWide => None,
            Visibility::OrgUnits(units) => Some(units.into_iter().map(|u| u.0).collect()),
        },
        description,
    })
}

pub(crate) type OfferingRow = (i64, i64, i64, Option<String>, String, String, bool, i64, i64);
pub(crate) const OFFERING_COLUMNS: &str = "course_id, min_participants, max_participants, booking_opens_at, booking_closes_at, cancellation_deadline, requires_approval, min_attended_percent, partly_weight_percent";

/// Assembles the pure offering from its row, sessions and trainers.
pub(crate) fn offering_from_rows(
    id: i64,
    row: OfferingRow,
    sessions: Vec<(i64, String, String, Option<i64>)>,
    trainers: Vec<(i64, String)>,
) -> Result<(Offering, CompletionRule), Error> {
    let (course_id, min, max, opens, closes, deadline, requires_approval, min_percent, partly) = row;
    let mut by_session: BTreeMap<i64, BTreeSet<PersonId>> = BTreeMap::new();
    for (session, person) in trainers {
        by_session.entry(session).or_default().insert(PersonId(person));
    }
    let sessions = sessions
        .into_iter()
        .map(|(sid, starts, ends, room)| {
            Ok(Session {
                id: SessionId(id_u64(sid)),
                starts_at: ts_parse(&starts)?,
                ends_at: ts_parse(&ends)?,
                room: room.map(|r| RoomId(id_u64(r))),
                trainers: by_session.remove(&sid).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let offering = Offering {
        id: OfferingId(id_u64(id)),
        course_id: CourseId(id_u64(course_id)),
        min_participants: u32_of(min),
        max_participants: u32_of(max),
        booking_opens_at: ts_parse_opt(opens)?,
        booking_closes_at: ts_parse(&closes)?,
        cancellation_deadline: ts_parse(&deadline)?,
        requires_approval,
        sessions,
    };
    let rule = CompletionRule {
        min_attended_percent: u8::try_from(min_percent.clamp(0, 100)).unwrap_or(100),
        partly_weight_percent: u8::try_from(partly.clamp(0, 100)).unwrap_or(50),
    };
    Ok((offering, rule))
}

/// Loads an offering (with sessions and trainers) through `$conn`.
/// Evaluates to `Result<Option<(Offering, CompletionRule)>, Error>`.
macro_rules! load_offering {
    ($conn:expr, $id:expr) => {
        async {
            let id: i64 = $id;
            let row: Option<$crate::schedule::catalogue::OfferingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM offerings WHERE id = $1",
                $crate::schedule::catalogue::OFFERING_COLUMNS
            )))
            .bind(id)
            .fetch_optional($conn)
            .await?;
            let Some(row) = row else { return Ok::<_, $crate::Error>(None) };
            let sessions: Vec<(i64, String, String, Option<i64>)> = sqlx::query_as(
                "SELECT id, starts_at, ends_at, room_id FROM offering_sessions WHERE offering_id = $1 ORDER BY starts_at, id",
            )
            .bind(id)
            .fetch_all($conn)
            .await?;
            let trainers: Vec<(i64, String)> = sqlx::query_as(
                "SELECT t.session_id, t.personnel_number FROM session_trainers t JOIN offering_sessions s ON s.id = t.session_id WHERE s.offering_id = $1",
            )
            .bind(id)
            .fetch_all($conn)
            .await?;
            $crate::schedule::catalogue::offering_from_rows(id, row, sessions, trainers).map(Some)
        }
    };
}
pub(crate) use load_offering;

fn validate_text(field: &'static str, text: &str, max: usize) -> Result<(), Error> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(Error::invalid(field, format!("must be 1 to {max} characters without control characters")));
    }
    Ok(())
}

impl Store {
    /// All org units as a pure tree without people (for validating courses and assignments).
    pub(crate) async fn org_units_tree(&self) -> Result<OrgTree, Error> {
        let units: Vec<(String, Option<String>, Option<String>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.parent_id, h.manager FROM org_units u LEFT JOIN org_unit_heads h ON h.org_unit_id = u.id",
            )
            .fetch_all(pool)
            .await?
        });
        let units = units
            .into_iter()
            .map(|(id, parent, manager)| PureUnit {
                id: OrgUnitId(id),
                parent: parent.map(OrgUnitId),
                manager: manager.map(PersonId),
                deputies: Vec::new(),
            })
            .collect();
        Ok(OrgTree::new(units, Vec::new())?)
    }

    /// Makes `manager` the head of `org_unit` (who approves bookings of its members) with
    /// `deputies` in order of precedence, replacing earlier ones.
    pub async fn set_unit_head(&self, org_unit: &str, manager: &str, deputies: &[String]) -> Result<(), Error> {
        if self.org_unit(org_unit).await?.is_none() {
            return Err(Error::NotFound { what: format!("org unit {org_unit:?}") });
        }
        for person in std::iter::once(manager).chain(deputies.iter().map(String::as_str)) {
            if self.person(person).await?.is_none() {
                return Err(Error::invalid("manager", format!("person {person:?} does not exist")));
            }
        }
        if deputies.iter().any(|d| d == manager) || deputies.iter().collect::<BTreeSet<_>>().len() != deputies.len() {
            return Err(Error::invalid("deputies", "list each deputy once, and not the head"));
        }
        let now = now_text();
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO org_unit_heads (org_unit_id, manager, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_unit_id) DO UPDATE SET manager = excluded.manager, updated_at = excluded.updated_at",
            )
            .bind(org_unit)
            .bind(manager)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM org_unit_deputies WHERE org_unit_id = $1").bind(org_unit).execute(&mut *tx).await?;
            for (position, deputy) in deputies.iter().enumerate() {
                sqlx::query("INSERT INTO org_unit_deputies (org_unit_id, position, personnel_number) VALUES ($1, $2, $3)")
                    .bind(org_unit)
                    .bind(position as i64)
                    .bind(deputy)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records an absence (leave, sickness), Berlin days inclusive. Returns its id.
    pub async fn add_absence(&self, personnel_number: &str, first_day: NaiveDate, last_day: NaiveDate) -> Result<i64, Error> {
        if last_day < first_day {
            return Err(Error::invalid("last_day", format!("{last_day} is before first_day {first_day}")));
        }
        if self.person(personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>(
                "INSERT INTO absences (personnel_number, first_day, last_day) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(personnel_number)
            .bind(first_day.format("%Y-%m-%d").to_string())
            .bind(last_day.format("%Y-%m-%d").to_string())
            .fetch_one(pool)
            .await?
            .0
        }))
    }

    pub async fn create_room(&self, room: &NewRoom) -> Result<RoomRecord, Error> {
        validate_text("name", &room.name, 200)?;
        if room.capacity == 0 || room.capacity > lms_schedule::offering::MAX_PARTICIPANTS_LIMIT {
            return Err(Error::invalid("capacity", format!("{} is not in 1..=10000", room.capacity)));
        }
        if let Some(location) = &room.location {
            validate_text("location", location, 500)?;
        }
        let id = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>(
                "INSERT INTO rooms (name, capacity, location, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(room.name.trim())
            .bind(i64::from(room.capacity))
            .bind(room.location.as_deref().map(str::trim))
            .bind(now_text())
            .fetch_one(pool)
            .await?
            .0
        });
        Ok(RoomRecord { id, name: room.name.trim().into(), capacity: room.capacity, location: room.location.clone() })
    }

    pub async fn list_rooms(&self) -> Result<Vec<RoomRecord>, Error> {
        let rows: Vec<(i64, String, i64, Option<String>)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, name, capacity, location FROM rooms ORDER BY id").fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(id, name, capacity, location)| RoomRecord { id, name, capacity: u32_of(capacity), location }).collect())
    }

    pub async fn create_course(&self, course: &NewCourse) -> Result<CourseRecord, Error> {
        let tree = self.org_units_tree().await?;
        let pure = Course {
            id: CourseId(0),
            title: course.title.trim().to_string(),
            org_unit: OrgUnitId(course.org_unit.clone()),
            kind: course.kind.clone(),
            visibility: course.visibility.clone(),
        };
        pure.validate(&tree)?;
        if let Some(description) = &course.description {
            if description.chars().count() > 10_000 {
                return Err(Error::invalid("description", "is longer than 10000 characters"));
            }
        }
        match &course.kind {
            CourseKind::ELearning { package_id } => {
                if self.package(package_id.as_str()).await?.is_none() {
                    return Err(Error::invalid("package_id", format!("package {:?} does not exist", package_id.as_str())));
                }
            }
            CourseKind::Blended { learning_path_id } => {
                if self.learning_path(id_i64(learning_path_id.0)).await?.is_none() {
                    return Err(Error::invalid("learning_path_id", format!("learning path {learning_path_id} does not exist")));
                }
            }
            _ => {}
        }
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, CourseRow>(sqlx::AssertSqlSafe(format!(
                "INSERT INTO courses (title, kind, org_unit_id, kind_json, visibility_json, description, created_at, package_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COURSE_COLUMNS}"
            )))
            .bind(&pure.title)
            .bind(course.kind.name())
            .bind(&course.org_unit)
            .bind(to_json(&course.kind))
            .bind(to_json(&course.visibility))
            .bind(&course.description)
            .bind(now_text())
            .bind(match &course.kind {
                CourseKind::ELearning { package_id } => Some(package_id.as_str()),
                _ => None,
            })
            .fetch_one(pool)
            .await?
        });
        course_from_row(row)
    }

    pub async fn course(&self, id: i64) -> Result<Option<CourseRecord>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, CourseRow>(sqlx::AssertSqlSafe(format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(course_from_row).transpose()
    }

    pub async fn list_courses(&self, limit: i64, offset: i64) -> Result<Vec<CourseRecord>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, CourseRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COURSE_COLUMNS} FROM courses ORDER BY id LIMIT $1 OFFSET $2"
            )))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(course_from_row).collect()
    }

    pub async fn create_offering(&self, new: &NewOffering) -> Result<OfferingRecord, Error> {
        let course = self.course(new.course_id).await?.ok_or_else(|| Error::invalid("course_id", format!("course {} does not exist", new.course_id)))?;
        if !course.to_course()?.kind.has_sessions() {
            return Err(Error::invalid("course_id", format!("course {} is {}; only classroom and live_online courses have offerings", course.id, course.kind)));
        }
        if new.completion.min_attended_percent > 100 || new.completion.partly_weight_percent > 100 {
            return Err(Error::invalid("min_attended_percent", "percentages are 0 to 100"));
        }
        let pure = Offering {
            id: OfferingId(0),
            course_id: CourseId(id_u64(new.course_id)),
            min_participants: new.min_participants,
            max_participants: new.max_participants,
            booking_opens_at: new.booking_opens_at,
            booking_closes_at: new.booking_closes_at,
            cancellation_deadline: new.cancellation_deadline,
            requires_approval: new.requires_approval,
            sessions: Vec::new(),
        };
        pure.validate(&BTreeMap::new())?;
        let now = now_text();
        let id = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>(
                "INSERT INTO offerings (course_id, min_participants, max_participants, booking_opens_at, booking_closes_at, \
                 cancellation_deadline, requires_approval, min_attended_percent, partly_weight_percent, starts_at, ends_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10, $10) RETURNING id",
            )
            .bind(new.course_id)
            .bind(i64::from(new.min_participants))
            .bind(i64::from(new.max_participants))
            .bind(new.booking_opens_at.map(ts_text))
            .bind(ts_text(new.booking_closes_at))
            .bind(ts_text(new.cancellation_deadline))
            .bind(new.requires_approval)
            .bind(i64::from(new.completion.min_attended_percent))
            .bind(i64::from(new.completion.partly_weight_percent))
            .bind(&now)
            .fetch_one(pool)
            .await?
            .0
        });
        self.offering(id).await?.ok_or_else(|| Error::Task("offering vanished after insert".into()))
    }

    /// The offering as the rules see it, with its completion rule.
    pub(crate) async fn pure_offering(&self, id: i64) -> Result<Option<(Offering, CompletionRule)>, Error> {
        with_db!(&self.db, |pool| load_offering!(pool, id).await)
    }

    pub async fn offering(&self, id: i64) -> Result<Option<OfferingRecord>, Error> {
        let Some((offering, rule)) = self.pure_offering(id).await? else { return Ok(None) };
        let course_id = id_i64(offering.course_id.0);
        let title = self.course(course_id).await?.map(|c| c.title).unwrap_or_default();
        let counts: Vec<(String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT status, COUNT(*) FROM bookings WHERE offering_id = $1 GROUP BY status")
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        let count = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| u32_of(*n));
        Ok(Some(OfferingRecord {
            id,
            course_id,
            course_title: title,
            min_participants: offering.min_participants,
            max_participants: offering.max_participants,
            booking_opens_at: offering.booking_opens_at,
            booking_closes_at: offering.booking_closes_at,
            cancellation_deadline: offering.cancellation_deadline,
            requires_approval: offering.requires_approval,
            min_attended_percent: rule.min_attended_percent,
            partly_weight_percent: rule.partly_weight_percent,
            sessions: offering.sessions.iter().map(|s| session_record(id, s)).collect(),
            booked: count("booked"),
            waitlisted: count("waitlisted"),
            pending_approval: count("pending_approval"),
        }))
    }

    /// Offerings of a course (or all), by first session.
    pub async fn list_offerings(&self, course_id: Option<i64>, limit: i64, offset: i64) -> Result<Vec<OfferingRecord>, Error> {
        let ids: Vec<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT id FROM offerings WHERE ($1 IS NULL OR course_id = $1) ORDER BY starts_at IS NULL, starts_at, id LIMIT $2 OFFSET $3",
            )
            .bind(course_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(o) = self.offering(id).await? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Adds a session: checked on its own (end after start, room big enough), within the
    /// offering (no overlap, booking window and deadline before the first session) and
    /// against every other session for room and trainer clashes. Session scheduling is
    /// serialized (a database-wide advisory lock on PostgreSQL) so two clashing sessions
    /// cannot both pass.
    pub async fn add_session(&self, offering_id: i64, new: &NewSession) -> Result<SessionRecord, Error> {
        let mut trainers: Vec<String> = new.trainer_ids.iter().map(|t| t.trim().to_string()).collect();
        trainers.sort();
        trainers.dedup();
        for trainer in &trainers {
            if self.person(trainer).await?.is_none() {
                return Err(Error::invalid("trainer_ids", format!("person {trainer:?} does not exist")));
            }
        }
        let rooms: BTreeMap<RoomId, Room> = self
            .list_rooms()
            .await?
            .into_iter()
            .map(|r| (RoomId(id_u64(r.id)), Room { id: RoomId(id_u64(r.id)), name: r.name, capacity: r.capacity }))
            .collect();
        let postgres = matches!(self.db, Db::Postgres(_));
        let (start, end, now) = (ts_text(new.starts_at), ts_text(new.ends_at), now_text());
        let result: Result<i64, Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                if postgres {
                    sqlx::query("SELECT pg_advisory_xact_lock(7417006)").execute(&mut *tx).await?;
                }
                let (mut offering, _) = load_offering!(&mut *tx, offering_id)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: format!("offering {offering_id}") })?;
                let candidate = Session {
                    id: SessionId(u64::MAX),
                    starts_at: new.starts_at,
                    ends_at: new.ends_at,
                    room: new.room_id.map(|r| RoomId(id_u64(r))),
                    trainers: trainers.iter().map(|t| PersonId(t.clone())).collect(),
                };
                if let Some(room) = new.room_id {
                    if !rooms.contains_key(&RoomId(id_u64(room))) {
                        return Err(Error::invalid("room_id", format!("room {room} does not exist")));
                    }
                }
                validate_session(&candidate, offering.max_participants, &rooms)?;
                offering.sessions.push(candidate.clone());
                offering.validate(&rooms)?;
                // Other sessions in the same time span that use the room or a trainer.
                let mut sql = String::from(
                    "SELECT s.id, s.starts_at, s.ends_at, s.room_id FROM offering_sessions s WHERE s.starts_at < $1 AND s.ends_at > $2 AND (s.room_id = $3",
                );
                if !trainers.is_empty() {
                    sql.push_str(&format!(
                        " OR s.id IN (SELECT session_id FROM session_trainers WHERE personnel_number IN ({}))",
                        placeholders(4, trainers.len())
                    ));
                }
                sql.push(')');
                let mut q = sqlx::query_as::<_, (i64, String, String, Option<i64>)>(sqlx::AssertSqlSafe(sql))
                    .bind(&end)
                    .bind(&start)
                    .bind(new.room_id);
                for t in &trainers {
                    q = q.bind(t.as_str());
                }
                let nearby = q.fetch_all(&mut *tx).await?;
                let mut existing = Vec::with_capacity(nearby.len());
                for (sid, s, e, room) in nearby {
                    let rows: Vec<(String,)> = sqlx::query_as("SELECT personnel_number FROM session_trainers WHERE session_id = $1")
                        .bind(sid)
                        .fetch_all(&mut *tx)
                        .await?;
                    existing.push(Session {
                        id: SessionId(id_u64(sid)),
                        starts_at: ts_parse(&s)?,
                        ends_at: ts_parse(&e)?,
                        room: room.map(|r| RoomId(id_u64(r))),
                        trainers: rows.into_iter().map(|(p,)| PersonId(p)).collect(),
                    });
                }
                check_no_clash(&candidate, &existing)?;
                let (sid,): (i64,) = sqlx::query_as(
                    "INSERT INTO offering_sessions (offering_id, starts_at, ends_at, room_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(offering_id)
                .bind(&start)
                .bind(&end)
                .bind(new.room_id)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                for t in &trainers {
                    sqlx::query("INSERT INTO session_trainers (session_id, personnel_number) VALUES ($1, $2)")
                        .bind(sid)
                        .bind(t.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                let first = offering.starts_at().map(ts_text);
                let last = offering.ends_at().map(ts_text);
                sqlx::query("UPDATE offerings SET starts_at = $1, ends_at = $2, updated_at = $3 WHERE id = $4")
                    .bind(first)
                    .bind(last)
                    .bind(&now)
                    .bind(offering_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(sid)
            }
            .await
        });
        let sid = result?;
        Ok(SessionRecord {
            id: sid,
            offering_id,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            room_id: new.room_id,
            trainer_ids: trainers,
        })
    }

    /// Which offering a session belongs to.
    pub async fn session_offering(&self, session_id: i64) -> Result<Option<i64>, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>("SELECT offering_id FROM offering_sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(pool)
                .await?
                .map(|r| r.0)
        }))
    }
}

pub(crate) fn session_record(offering_id: i64, s: &Session) -> SessionRecord {
    SessionRecord {
        id: id_i64(s.id.0),
        offering_id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        room_id: s.room.map(|r| id_i64(r.0)),
        trainer_ids: s.trainers.iter().map(|t| t.0.clone()).collect(),
    }
}
