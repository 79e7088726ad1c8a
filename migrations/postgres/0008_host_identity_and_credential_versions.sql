-- Issue 10, items 5 and 7.
--
-- workspace_host_identity: whether an instance administrator allowed a workspace to act as the
-- Strongroom host's own cloud identity (AWS credentials without access keys, or an AWS Batch
-- environment without credentials), and the external id Strongroom generated for that workspace
-- (`strongroom-<uuid>`), which it sends with every AssumeRole made through the host identity. The
-- row is made on the first grant and kept when the grant is withdrawn, so the id in a role's trust
-- policy stays valid if the grant is given again. `allowed` is 0 or 1 (the run-time driver cannot
-- decode SQLite booleans).
CREATE TABLE workspace_host_identity (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    allowed      BIGINT NOT NULL DEFAULT 0 CHECK (allowed IN (0, 1)),
    external_id  TEXT   NOT NULL UNIQUE,
    changed_by   BIGINT NOT NULL,
    changed_at   BIGINT NOT NULL
);

-- credential_versions: sealed keys of credentials that were replaced while a run that is not yet
-- cleaned had been launched with them. That run's cleanup still opens them (runs.target pins
-- the version), so its copies are deleted in the account they were made in. A version is deleted
-- as soon as no such run needs it. Sealed exactly as in `credentials` (bound to scope
-- 'credentials', the workspace, the credentials id and this version); `keys rotate` moves them.
CREATE TABLE credential_versions (
    id             BIGSERIAL PRIMARY KEY,
    credentials_id BIGINT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    algorithm      TEXT   NOT NULL,
    key_id         TEXT   NOT NULL,
    wrapped_key    BYTEA NOT NULL,
    ciphertext     BYTEA NOT NULL,
    retired_at     BIGINT NOT NULL,
    UNIQUE (credentials_id, version)
);
CREATE INDEX credential_versions_key_id ON credential_versions(key_id);
