-- Runs and their per-run copies of secrets.
--
-- A run is committed, with one `run_copies` row per secret to copy, BEFORE any call to a cloud or
-- a file system: the rows are the durable to-do list the worker and the reconciler follow, so a
-- crash at any point leaves enough behind to finish provisioning or cleanup after a restart.
--
-- runs.stage is the copy lifecycle of the run:
--   provisioning -> launched -> cleaning -> cleaned        (or cleanup_failed, retried by the reconciler)
-- run_copies.state: planned -> creating -> created -> deleting -> deleted, or failed (last_error).
-- claimed_until is a lease: a worker that dies mid-call loses its claim when the lease runs out.

CREATE TABLE installation (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE runs (
    id              TEXT   PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id),
    compute_env_id  BIGINT,
    launched_by     BIGINT NOT NULL REFERENCES users(id),
    run_name        TEXT   NOT NULL,
    pipeline        TEXT   NOT NULL,
    revision        TEXT,
    target          TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'UNKNOWN')),
    stage           TEXT   NOT NULL CHECK (stage IN ('provisioning', 'launched', 'cleaning', 'cleaned', 'cleanup_failed')),
    launch_env      TEXT,
    message         TEXT,
    session_id      TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    launched_at     BIGINT,
    started_at      BIGINT,
    heartbeat_at    BIGINT,
    ended_at        BIGINT
);
CREATE INDEX runs_by_workspace ON runs (workspace_id, created_at);
CREATE INDEX runs_by_stage ON runs (stage, next_attempt_at);

CREATE TABLE run_copies (
    id               BIGSERIAL PRIMARY KEY,
    run_id           TEXT   NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name             TEXT   NOT NULL,
    source_scope     TEXT   NOT NULL CHECK (source_scope IN ('workspace', 'user')),
    source_secret_id BIGINT NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('planned', 'creating', 'created', 'deleting', 'deleted', 'failed')),
    reference        TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,
    claimed_until    BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    updated_at       BIGINT NOT NULL,
    UNIQUE (run_id, name)
);
CREATE INDEX run_copies_due ON run_copies (state, next_attempt_at);
