-- Compute environments: where a workspace's pipelines run. `config` holds only the platform's
-- non-secret settings as JSON (AWS: region, executionRoleArn, jobQueue, kmsKeyId,
-- customJobDefinition, endpointUrl; Google: project, location, endpointUrl; HPC: scheduler,
-- workDir, launchCommand). Credentials live elsewhere, envelope-encrypted; this table only points
-- at them (the credentials table comes with the next change, so no foreign key yet).

CREATE TABLE compute_envs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT   NOT NULL,
    platform       TEXT   NOT NULL CHECK (platform IN ('aws-batch', 'google-batch', 'hpc')),
    config         TEXT   NOT NULL,
    credentials_id BIGINT,
    status         TEXT   NOT NULL DEFAULT 'AVAILABLE',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
