-- Run tokens: the token a launch command hands to its run is an access token bound to that run
-- (`run_id`). The server accepts it only on the trace endpoints of that run, and only while the
-- run is not cleaned; it is not one of the launcher's personal tokens (lists, deletes and
-- look-ups of personal tokens all require run_id IS NULL). No foreign key: SQLite cannot add one
-- to an existing table; a token whose run is gone is refused at use.
ALTER TABLE access_tokens ADD COLUMN run_id TEXT;
CREATE INDEX access_tokens_by_run ON access_tokens (run_id);
