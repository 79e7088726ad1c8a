//! The one place the server reads the wall clock. Everything else takes the time as an argument
//! or calls this, so the background jobs can be driven by tests at any time they choose
//! (`clippy.toml` bans this function inside `jobs/`, whose loops pass the time down).

/// Milliseconds since the Unix epoch, UTC.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
