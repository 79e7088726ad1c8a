-- Pipeline secrets (write-only, envelope-encrypted), the key check and personal access tokens.

-- One row per key-encryption key this database has seen. The check value lets the server refuse
-- to start with the wrong key file instead of failing later on every decrypt.
CREATE TABLE encryption_keys (
    key_id      TEXT   PRIMARY KEY,
    check_value TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    -- 1 for the key new values are sealed under.
    active      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE secrets (
    id           BIGSERIAL PRIMARY KEY,
    -- 'workspace' (workspace_id set) or 'user' (user_id set): exactly one owner.
    scope        TEXT   NOT NULL CHECK (scope IN ('workspace', 'user')),
    workspace_id BIGINT REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    algorithm    TEXT   NOT NULL,
    key_id       TEXT   NOT NULL,
    wrapped_key  BYTEA  NOT NULL,
    ciphertext   BYTEA  NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    CHECK ((scope = 'workspace' AND workspace_id IS NOT NULL AND user_id IS NULL)
        OR (scope = 'user' AND user_id IS NOT NULL AND workspace_id IS NULL))
);
CREATE UNIQUE INDEX secrets_workspace_name ON secrets(workspace_id, name) WHERE scope = 'workspace';
CREATE UNIQUE INDEX secrets_user_name ON secrets(user_id, name) WHERE scope = 'user';

CREATE TABLE access_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    UNIQUE (user_id, name)
);
