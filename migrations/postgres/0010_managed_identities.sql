-- Managed identities (issue 12, item 2): an organization describes a cluster once, and each of
-- its members registers their own cluster account and SSH key for it, so their runs execute as
-- themselves on the cluster.
--
-- managed_identities: one row per cluster of an organization. `config` is JSON of the cluster's
-- non-secret description in Seqera's `AbstractGridConfig` names (hostName, port) plus Strongroom's
-- `hostKeyFingerprint` (the pinned SSH host key, `SHA256:…`, given by an owner or recorded by the
-- first successful Check). Names are unique per organization whatever their case (`name_key`).
CREATE TABLE managed_identities (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    name_key    TEXT   NOT NULL,
    platform    TEXT   NOT NULL CHECK (platform IN ('slurm-platform', 'lsf-platform', 'altair-platform',
                                                    'moab-platform', 'uge-platform')),
    config      TEXT   NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, name_key)
);

-- managed_credentials: one member's own account on one identity's cluster. `user_name` is the
-- cluster (POSIX) account; the SSH key document (Seqera's SSHSecurityKeys JSON: privateKey and
-- the optional passphrase) is sealed like credentials are (envelope encryption bound to scope
-- 'managed-credentials', the identity, the member, the row id and the version): no column holds
-- key material in plaintext, and `keys rotate` moves them. `public_key_fingerprint` is the public
-- half's OpenSSH fingerprint (`SHA256:…`), which is what pages and the API show.
CREATE TABLE managed_credentials (
    id                     BIGSERIAL PRIMARY KEY,
    identity_id            BIGINT NOT NULL REFERENCES managed_identities(id) ON DELETE CASCADE,
    user_id                BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_name              TEXT   NOT NULL,
    public_key_fingerprint TEXT,
    version                BIGINT NOT NULL,
    algorithm              TEXT   NOT NULL,
    key_id                 TEXT   NOT NULL,
    wrapped_key            BYTEA  NOT NULL,
    ciphertext             BYTEA  NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    last_used_at           BIGINT,
    UNIQUE (identity_id, user_id)
);
CREATE INDEX managed_credentials_key_id ON managed_credentials(key_id);
CREATE INDEX managed_credentials_user ON managed_credentials(user_id);
