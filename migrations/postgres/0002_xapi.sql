-- xAPI Learning Record Store (issue 4).
-- Statements are numbered by `seq` (assigned by the writer, strictly increasing): paging,
-- ordering and the relation tables use it. Filters go through the relation tables, whose
-- primary keys (key, seq) give the newest matches first without a sort.

CREATE TABLE xapi_clients (
    key TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    scopes TEXT NOT NULL,
    authority_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE xapi_statements (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    stored_ms BIGINT NOT NULL,
    verb_id TEXT NOT NULL,
    registration TEXT,
    -- 1 once a voiding statement has voided this one
    voided BIGINT NOT NULL,
    client_key TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX xapi_statements_verb ON xapi_statements (verb_id, seq);
CREATE INDEX xapi_statements_registration ON xapi_statements (registration, seq) WHERE registration IS NOT NULL;
CREATE INDEX xapi_statements_stored ON xapi_statements (stored_ms);

-- Statements whose object is a StatementRef (few): a filter also returns the statements
-- that refer to a matching one. voiding = 1 for a voiding statement.
CREATE TABLE xapi_statement_refs (
    seq BIGINT PRIMARY KEY,
    ref_id TEXT NOT NULL,
    voiding BIGINT NOT NULL
);
CREATE INDEX xapi_statement_refs_target ON xapi_statement_refs (ref_id);

-- related_only = 0: the actor or the Agent/Group object (and Group members); 1: other places
-- that `related_agents=true` also searches.
CREATE TABLE xapi_statement_agents (
    agent_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    related_only BIGINT NOT NULL,
    PRIMARY KEY (agent_key, seq)
);

-- related_only = 0: the Activity object; 1: context activities and SubStatement activities.
CREATE TABLE xapi_statement_activities (
    activity_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    related_only BIGINT NOT NULL,
    PRIMARY KEY (activity_id, seq)
);

-- The LRS's canonical Activity definitions (Activities resource, format=canonical).
CREATE TABLE xapi_activities (
    id TEXT PRIMARY KEY,
    definition_json TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- Attachment contents, by SHA-2 (shared between statements).
CREATE TABLE xapi_attachments (
    sha2 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    content BYTEA NOT NULL
);

-- State, Activity Profile and Agent Profile documents. Absent parts are ''.
CREATE TABLE xapi_documents (
    kind TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    agent_key TEXT NOT NULL,
    registration TEXT NOT NULL,
    document_id TEXT NOT NULL,
    content BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (kind, activity_id, agent_key, registration, document_id)
);

-- Statement numbers for the writer (reserved in blocks with nextval).
CREATE SEQUENCE xapi_statement_seq;
