-- SCORM tracked as xAPI (issue 4): what every statement of a session shares (learner account,
-- course and SCO activities, titles, language), fixed when the session opens. NULL: the
-- session writes no statements (review sessions; sessions opened before this migration).
ALTER TABLE scorm_sessions ADD COLUMN xapi_context TEXT;
