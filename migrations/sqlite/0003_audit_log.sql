-- The audit log: append-only and hash-chained. Each entry's hash covers its own fields and the
-- previous entry's hash, so a changed, removed or reordered entry breaks the chain from there on
-- (`strongroom audit verify` names the first broken entry). There is no foreign key: entries
-- outlive the users and workspaces they mention.

CREATE TABLE audit_log (
    -- The entry's position in the chain: 1, 2, 3… with no gaps.
    seq          BIGINT  PRIMARY KEY,
    at           BIGINT  NOT NULL,
    actor_id     BIGINT,
    actor        TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'denied')),
    workspace_id BIGINT,
    target       TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, seq);

-- The chain's head: appending bumps `seq` here first, which serializes appenders (the row stays
-- locked until the appending transaction ends) so the chain never forks.
CREATE TABLE audit_head (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    seq       BIGINT NOT NULL,
    last_hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Entries are never changed or removed by the application; the database refuses it too.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
