-- Blended learning (issue 6): heads and deputies of org units, absences, rooms, the
-- catalogue, offerings with sessions and trainers, bookings (with waitlist and approval),
-- attendance, completions, learning paths, mandatory training, the notification outbox,
-- calendar feed tokens, iCalendar revisions and the audit log of managers' views.
-- Instants are RFC 3339 TEXT in UTC with microseconds (they sort as text); days are YYYY-MM-DD.

CREATE TABLE org_unit_heads (
    org_unit_id TEXT PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
    manager TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    updated_at TEXT NOT NULL
);
CREATE INDEX org_unit_heads_manager ON org_unit_heads(manager);

CREATE TABLE org_unit_deputies (
    org_unit_id TEXT NOT NULL REFERENCES org_units(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    PRIMARY KEY (org_unit_id, personnel_number)
);

CREATE TABLE absences (
    id INTEGER PRIMARY KEY,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL
);
CREATE INDEX absences_last_day ON absences(last_day);

CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    location TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE courses (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    org_unit_id TEXT NOT NULL REFERENCES org_units(id),
    kind_json TEXT NOT NULL,
    package_id TEXT,
    visibility_json TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX courses_package ON courses(package_id);

CREATE TABLE offerings (
    id INTEGER PRIMARY KEY,
    course_id BIGINT NOT NULL REFERENCES courses(id),
    min_participants BIGINT NOT NULL,
    max_participants BIGINT NOT NULL,
    booking_opens_at TEXT,
    booking_closes_at TEXT NOT NULL,
    cancellation_deadline TEXT NOT NULL,
    requires_approval BOOLEAN NOT NULL,
    min_attended_percent BIGINT NOT NULL,
    partly_weight_percent BIGINT NOT NULL,
    starts_at TEXT,
    ends_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX offerings_course ON offerings(course_id);
CREATE INDEX offerings_starts_at ON offerings(starts_at);

CREATE TABLE offering_sessions (
    id INTEGER PRIMARY KEY,
    offering_id BIGINT NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    room_id BIGINT REFERENCES rooms(id),
    created_at TEXT NOT NULL
);
CREATE INDEX offering_sessions_offering ON offering_sessions(offering_id);
CREATE INDEX offering_sessions_room ON offering_sessions(room_id, starts_at);
CREATE INDEX offering_sessions_starts_at ON offering_sessions(starts_at);

CREATE TABLE session_trainers (
    session_id BIGINT NOT NULL REFERENCES offering_sessions(id) ON DELETE CASCADE,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    PRIMARY KEY (session_id, personnel_number)
);
CREATE INDEX session_trainers_person ON session_trainers(personnel_number);

-- `data_json` is the whole lms_schedule::booking::Booking; status, person and waitlist
-- order are copied into columns for queries.
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    offering_id BIGINT NOT NULL REFERENCES offerings(id),
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    status TEXT NOT NULL,
    waitlist_seq BIGINT,
    data_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX bookings_offering ON bookings(offering_id, status);
CREATE INDEX bookings_person ON bookings(personnel_number, status);

-- Append-only: a correction is a newer mark; the latest counts.
CREATE TABLE attendance_marks (
    id INTEGER PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES offering_sessions(id),
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    status TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX attendance_marks_session ON attendance_marks(session_id, personnel_number);
CREATE INDEX attendance_marks_person ON attendance_marks(personnel_number);

CREATE TABLE offering_completions (
    offering_id BIGINT NOT NULL REFERENCES offerings(id),
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    course_id BIGINT NOT NULL REFERENCES courses(id),
    completed_at TEXT NOT NULL,
    PRIMARY KEY (offering_id, personnel_number)
);
CREATE INDEX offering_completions_person ON offering_completions(personnel_number);

CREATE TABLE elearning_completions (
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    package_id TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (personnel_number, package_id, completed_at)
);

CREATE TABLE learning_paths (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    path_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE path_enrollments (
    path_id BIGINT NOT NULL REFERENCES learning_paths(id) ON DELETE CASCADE,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    progress_json TEXT NOT NULL,
    completed_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (path_id, personnel_number)
);
CREATE INDEX path_enrollments_person ON path_enrollments(personnel_number);

CREATE TABLE mandatory_requirements (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    requirement_json TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);

CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX notification_outbox_pending ON notification_outbox(delivered_at, next_attempt_at);

CREATE TABLE calendar_tokens (
    personnel_number TEXT PRIMARY KEY REFERENCES people(personnel_number) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE ics_revisions (
    session_id BIGINT NOT NULL REFERENCES offering_sessions(id) ON DELETE CASCADE,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    sequence BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (session_id, personnel_number)
);

-- Every view of another person's training records by a manager (or admin).
CREATE TABLE team_view_audit (
    id INTEGER PRIMARY KEY,
    viewer TEXT NOT NULL,
    view TEXT NOT NULL,
    subject TEXT NOT NULL,
    people_shown BIGINT NOT NULL,
    viewed_at TEXT NOT NULL
);
CREATE INDEX team_view_audit_viewer ON team_view_audit(viewer, viewed_at);
