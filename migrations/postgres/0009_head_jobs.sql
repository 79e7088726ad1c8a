-- The Nextflow head job Strongroom starts for a run (HPC over SSH, and the clouds' Batch services):
-- the scheduler's or Batch service's job id, its last known state (QUEUED, RUNNING, SUCCEEDED,
-- FAILED, GONE) and reason in the scheduler's words, when it was submitted and first seen
-- running (the time it spent queued), and when it is next due a status poll. A run whose head job
-- ends before Nextflow reports the end is ended by the follower (`jobs/head_jobs.rs`).
ALTER TABLE runs ADD COLUMN head_job_id TEXT;
ALTER TABLE runs ADD COLUMN head_job_state TEXT;
ALTER TABLE runs ADD COLUMN head_job_reason TEXT;
ALTER TABLE runs ADD COLUMN head_job_submitted_at BIGINT;
ALTER TABLE runs ADD COLUMN head_job_started_at BIGINT;
ALTER TABLE runs ADD COLUMN head_job_poll_at BIGINT;
