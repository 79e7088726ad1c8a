-- no-transaction
-- SSH credentials (issue 12): a private key and optional passphrase for an HPC cluster's login
-- node, sealed like every other credential (the whole SSHSecurityKeys document). `public_keys`
-- holds only the public key's fingerprint (`sshKeyFingerprint`).
--
-- SQLite cannot change a CHECK constraint, so the table is rebuilt the way SQLite documents
-- (https://www.sqlite.org/lang_altertable.html, "making other kinds of table schema changes"):
-- outside a transaction so foreign keys can be switched off (dropping the old table must not
-- cascade to credential_versions), then one transaction for the copy, checked before commit.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE credentials_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    provider     TEXT   NOT NULL CHECK (provider IN ('aws', 'google', 'ssh')),
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
INSERT INTO credentials_new SELECT id, workspace_id, name, provider, public_keys, version, algorithm,
    key_id, wrapped_key, ciphertext, created_by, created_at, updated_at, last_used_at FROM credentials;
-- Keep the id counter, so an id of deleted credentials is never given again.
DELETE FROM sqlite_sequence WHERE name = 'credentials_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'credentials_new', seq FROM sqlite_sequence WHERE name = 'credentials';
DROP TABLE credentials;
ALTER TABLE credentials_new RENAME TO credentials;
CREATE INDEX credentials_key_id ON credentials(key_id);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
