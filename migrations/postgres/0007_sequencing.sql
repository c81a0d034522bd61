-- SCORM 2004 sequencing (issue 5): the whole activity-tree state of a registration
-- (lms_sequencing::SequencingState as JSON: tracking data, suspended activity, the global
-- objectives scoped to the course, the randomization seed's state), and the global
-- objectives a learner shares across packages (organizations with objectivesGlobalToSystem).

CREATE TABLE scorm_sequencing_states (
    registration_id TEXT PRIMARY KEY REFERENCES scorm_registrations(id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    -- bumped on every save; a save naming an older version is refused (two tabs racing)
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE scorm_learner_objectives (
    personnel_number TEXT PRIMARY KEY REFERENCES people(personnel_number) ON DELETE CASCADE,
    -- lms_sequencing::GlobalObjectives as JSON
    objectives_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
