-- Foundation: org units, people, credentials, packages and their content-addressed files.
CREATE TABLE org_units (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES org_units(id),
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    personnel_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_unit_id TEXT REFERENCES org_units(id),
    password_hash TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_org_unit ON people(org_unit_id);

CREATE TABLE person_roles (
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (personnel_number, role)
);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE login_sessions (
    session_sha256 TEXT PRIMARY KEY,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per uploaded version. `course_key` groups the versions of one course
-- (standard + manifest identifier); `content_sha256` identifies identical uploads.
CREATE TABLE packages (
    id TEXT PRIMARY KEY,
    course_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    standard TEXT NOT NULL,
    title TEXT NOT NULL,
    identifier TEXT NOT NULL,
    content_sha256 TEXT NOT NULL UNIQUE,
    launch_path TEXT,
    model_json TEXT NOT NULL,
    diagnostics_json TEXT NOT NULL,
    n_files BIGINT NOT NULL,
    total_size BIGINT NOT NULL,
    uploaded_by TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (course_key, version)
);

CREATE TABLE package_files (
    package_id TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    size BIGINT NOT NULL,
    PRIMARY KEY (package_id, path)
);
