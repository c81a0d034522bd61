-- Certificates of attendance (issue 7): templates per org unit, issued certificates with
-- their lifecycle (valid, revoked with a reason, superseded by a re-issue), and settings.
-- Instants are RFC 3339 TEXT in UTC with microseconds; days are YYYY-MM-DD.

-- Template JSON (lms_certificate::Template), content-addressed: a certificate keeps the
-- exact template it was rendered with, so it can be rendered again byte for byte.
CREATE TABLE certificate_templates (
    sha256 TEXT PRIMARY KEY,
    template_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The template in force per org unit ('' = the default for units without one).
CREATE TABLE certificate_unit_templates (
    org_unit_id TEXT PRIMARY KEY,
    template_sha256 TEXT NOT NULL REFERENCES certificate_templates(sha256),
    updated_at TEXT NOT NULL,
    updated_by TEXT
);

-- Certified duration per course (overrides the sum of session times; needed for e-learning).
CREATE TABLE certificate_course_durations (
    course_id BIGINT PRIMARY KEY,
    duration_minutes BIGINT NOT NULL
);

CREATE TABLE certificate_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per issued certificate. `certificate_json` is the lms_certificate::Certificate it
-- was rendered from; `meta_json` holds where it came from. `source_key` identifies the
-- completion it certifies (offering:ID:PERSON, elearning:…); at most one valid per key.
CREATE TABLE certificates (
    code TEXT PRIMARY KEY,
    personnel_number TEXT NOT NULL REFERENCES people(personnel_number),
    source TEXT NOT NULL,
    source_key TEXT,
    offering_id BIGINT,
    org_unit_id TEXT,
    first_date TEXT NOT NULL,
    last_date TEXT NOT NULL,
    certificate_json TEXT NOT NULL,
    meta_json TEXT NOT NULL,
    template_sha256 TEXT NOT NULL REFERENCES certificate_templates(sha256),
    issued_at TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    pdf_size BIGINT NOT NULL,
    status TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    revocation_reason TEXT,
    replaces TEXT REFERENCES certificates(code),
    superseded_by TEXT
);
CREATE INDEX certificates_person ON certificates(personnel_number, issued_at);
CREATE INDEX certificates_last_date ON certificates(last_date);
CREATE INDEX certificates_offering ON certificates(offering_id);
CREATE UNIQUE INDEX certificates_valid_source ON certificates(source_key) WHERE status = 'valid';
