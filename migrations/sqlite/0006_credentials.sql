-- Cloud credentials of a workspace (AWS access keys or role, Google service-account keys).
-- The whole keys document is sealed like a secret value (envelope encryption bound to
-- scope 'credentials', the workspace, the row id and the version): no column holds key material
-- in plaintext. `public_keys` is JSON of the non-secret fields only (AWS accessKey,
-- assumeRoleArn, externalId; Google serviceAccountEmail), so lists never decrypt anything.
--
-- compute_envs.credentials_id points here without a foreign key (SQLite cannot add one to an
-- existing table); the services refuse to delete credentials an environment uses.

CREATE TABLE credentials (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    provider     TEXT   NOT NULL CHECK (provider IN ('aws', 'google')),
    public_keys  TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    algorithm    TEXT   NOT NULL,
    key_id       TEXT   NOT NULL,
    wrapped_key  BLOB  NOT NULL,
    ciphertext   BLOB  NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    UNIQUE (workspace_id, name)
);
CREATE INDEX credentials_key_id ON credentials(key_id);
CREATE INDEX compute_envs_credentials ON compute_envs(workspace_id, credentials_id);
