-- Blended learning (issue 6): the manager's team view walks down the org tree from the
-- units a manager heads (a recursive query over org_units by parent). Without this index
-- SQLite builds a temporary one on every view and PostgreSQL scans the table per step.
CREATE INDEX org_units_parent ON org_units(parent_id);
