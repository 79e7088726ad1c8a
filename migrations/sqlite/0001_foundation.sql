-- Accounts, sessions, organizations, workspaces and participants.
-- Timestamps are milliseconds since the Unix epoch (UTC), stored as 64-bit integers so that the
-- same queries and Rust types serve SQLite and PostgreSQL. Flags are 0/1 integers because the
-- run-time (`Any`) driver cannot decode SQLite booleans.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL UNIQUE,
    display_name      TEXT    NOT NULL,
    password_hash     TEXT    NOT NULL,
    is_instance_admin BIGINT  NOT NULL DEFAULT 0,
    disabled          BIGINT  NOT NULL DEFAULT 0,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    ip           TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    -- Names are unique whatever their case, as people read them.
    name_key    TEXT    NOT NULL UNIQUE,
    full_name   TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  BIGINT  NOT NULL REFERENCES users(id),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE org_owners (
    org_id  BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      BIGINT  NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    full_name   TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    visibility  TEXT    NOT NULL DEFAULT 'PRIVATE',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (org_id, name_key)
);

CREATE TABLE workspace_participants (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'maintain', 'launch', 'connect', 'view')),
    created_at   BIGINT  NOT NULL,
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX workspace_participants_user ON workspace_participants(user_id);

-- One row once the first instance administrator exists: a second concurrent first-visit setup
-- fails on the primary key instead of creating a second administrator.
CREATE TABLE instance_setup (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    initialized_at BIGINT NOT NULL
);
