-- The run history is read newest first with id as the tie-breaker (status, history, backfill):
-- an index in exactly that order lets every read stop after `limit` rows instead of sorting
-- the whole history.
CREATE INDEX IF NOT EXISTS ix_provider_automation_runs_type_created_id
    ON provider_automation_runs (run_type, created_at, id);
