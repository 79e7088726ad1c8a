//! Ends runs that stopped reporting (no heartbeat for `heartbeat_timeout`) or ran past the
//! maximum run duration, so their copies do not outlive them.

use crate::db::runs;
use crate::domain::Core;
use app::model::RunStatus;

/// Ends every overdue run; returns how many it ended.
pub async fn end_overdue_runs(services: &Core, now: i64) -> anyhow::Result<usize> {
    let silent_since = now - services.jobs.heartbeat_timeout_ms;
    let started_before = now - services.jobs.max_duration_ms;
    let mut ended = 0;
    for (id, created_at) in runs::overdue(&services.db.pool, silent_since, started_before).await? {
        let message = if created_at < started_before {
            format!(
                "The run went past the maximum run duration ({}), so Strongroom ended it and removed its \
                 secrets.",
                human_duration(services.jobs.max_duration_ms)
            )
        } else {
            format!(
                "Nextflow sent no heartbeat for {}, so Strongroom marked the run failed and removed its \
                 secrets.",
                human_duration(services.jobs.heartbeat_timeout_ms)
            )
        };
        if services.end_run(&id, RunStatus::Failed, Some(&message), None).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

fn human_duration(ms: i64) -> String {
    let secs = ms / 1000;
    match secs {
        s if s % 3600 == 0 && s >= 3600 => format!("{} hours", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::human_duration(72 * 3_600_000), "72 hours");
        assert_eq!(super::human_duration(15 * 60_000), "15 minutes");
        assert_eq!(super::human_duration(2_000), "2 seconds");
    }
}
