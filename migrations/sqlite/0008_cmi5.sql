-- cmi5 (issue 8): registrations (a learner on one cmi5 package version) and their launch
-- sessions. The registration's run-time state (lms_cmi5::Registration: AU progress,
-- satisfied blocks and course, every session's status and verbs) is one JSON document,
-- updated in the same transaction as the statements it produces. Instants are RFC 3339
-- TEXT in UTC.

CREATE TABLE cmi5_registrations (
    -- the cmi5 registration UUID (hyphenated), also the `registration` of every statement
    id TEXT PRIMARY KEY,
    package_id TEXT NOT NULL REFERENCES packages(id),
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    -- the xAPI Agent (with an account) the AUs are launched for
    actor_json TEXT NOT NULL,
    -- lms_cmi5::Registration as JSON
    state_json TEXT NOT NULL,
    course_satisfied BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cmi5_registrations_person ON cmi5_registrations(personnel_number);

-- One launch of one AU: the hash of the one-time fetch URL's secret, and the hash of the
-- auth token that URL handed out (NULL until it was fetched; tokens are never stored).
CREATE TABLE cmi5_sessions (
    id TEXT PRIMARY KEY,
    registration_id TEXT NOT NULL REFERENCES cmi5_registrations(id) ON DELETE CASCADE,
    au_index BIGINT NOT NULL,
    fetch_secret_sha256 TEXT NOT NULL UNIQUE,
    token_sha256 TEXT UNIQUE,
    created_at TEXT NOT NULL
);
CREATE INDEX cmi5_sessions_registration ON cmi5_sessions(registration_id);
