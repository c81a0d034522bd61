-- SCORM player (issue 3): registrations (a learner on one package version), the run-time
-- state of every SCO per registration attempt, player sessions with their commit sequence,
-- and the history of every commit. Instants are RFC 3339 TEXT in UTC.

CREATE TABLE scorm_registrations (
    id TEXT PRIMARY KEY,
    -- the package version the registration is pinned to (new uploads do not move it)
    package_id TEXT NOT NULL REFERENCES packages(id),
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    -- what a launch after completion does: 'new_attempt' or 'review'
    after_completion TEXT NOT NULL,
    -- the registration's current attempt (1, 2, …)
    attempt BIGINT NOT NULL,
    last_item_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX scorm_registrations_person ON scorm_registrations(personnel_number);

-- One row per SCO and registration attempt: the whole lms-rte Attempt as JSON.
CREATE TABLE scorm_sco_states (
    registration_id TEXT NOT NULL REFERENCES scorm_registrations(id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    item_id TEXT NOT NULL,
    attempt_json TEXT NOT NULL,
    -- the session whose commits are accepted (a newer launch supersedes older ones)
    current_session_id TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (registration_id, attempt, item_id)
);

CREATE TABLE scorm_sessions (
    id TEXT PRIMARY KEY,
    registration_id TEXT NOT NULL REFERENCES scorm_registrations(id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    item_id TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    review BOOLEAN NOT NULL,
    -- the attempt as the browser's run-time starts from
    start_json TEXT NOT NULL,
    -- the highest commit sequence number applied (0 before the first)
    last_seq BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX scorm_sessions_registration ON scorm_sessions(registration_id);

-- Every applied Commit/Terminate: the calls as sent, the changes and events lms-rte derived.
CREATE TABLE scorm_commits (
    session_id TEXT NOT NULL REFERENCES scorm_sessions(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    registration_id TEXT NOT NULL REFERENCES scorm_registrations(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    calls_json TEXT NOT NULL,
    changes_json TEXT NOT NULL,
    events_json TEXT NOT NULL,
    terminated BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX scorm_commits_registration ON scorm_commits(registration_id);
