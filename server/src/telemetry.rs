//! Logging. Request spans carry the method, the route path (no query string) and the request id;
//! headers are never logged, so cookies and bearer tokens stay out of the logs.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: `json` for log shippers, human-readable text otherwise.
/// `RUST_LOG` overrides the default filter. Colours only for a terminal, never in files or pipes.
pub fn init<W>(format: &str, ansi: bool, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(writer);
    // Ignore "already set": tests start several apps in one process.
    let _ = if format == "json" { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}
