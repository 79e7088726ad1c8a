//! The audit pages' query: a window of the chain, newest first, narrowed by the filter, with the
//! workspace's full name (the one its pages show) beside its id. Separate from `audit.rs`, which writes and verifies the chain.

use app::model::AuditFilter;
use sqlx::{AnyPool, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct AuditListRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub outcome: String,
    pub workspace_id: Option<i64>,
    pub workspace_name: Option<String>,
    pub target: String,
    pub detail: String,
}

/// Every condition is always in the query, switched off by a neutral value (0, '' or the widest
/// time range), so the SQL is one constant on both backends and user text is only ever bound.
const SEARCH: &str = "SELECT a.seq, a.at, a.actor, a.ip, a.action, a.outcome, a.workspace_id, \
       w.full_name AS workspace_name, a.target, a.detail \
     FROM audit_log a LEFT JOIN workspaces w ON w.id = a.workspace_id \
     WHERE ($1 = 0 OR a.workspace_id = $1) AND a.seq < $2 \
       AND ($3 = '' OR LOWER(a.actor) LIKE $3 ESCAPE '\\') \
       AND ($4 = '' OR a.action = $4 OR a.action LIKE $5 ESCAPE '\\') \
       AND ($6 = '' OR a.outcome = $6) \
       AND a.at >= $7 AND a.at < $8 \
     ORDER BY a.seq DESC LIMIT $9";

/// `%`, `_` and the escape character itself match literally in a LIKE pattern after this.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Up to `limit` entries older than `before_seq` (all when `None`), of one workspace or of all
/// (`workspace_id` `None`), that pass `filter`.
pub async fn search(
    pool: &AnyPool,
    workspace_id: Option<i64>,
    filter: &AuditFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditListRow>, sqlx::Error> {
    let who = filter.who.as_deref().map(|w| format!("%{}%", like_literal(&w.to_lowercase())));
    let what = filter.what.clone().unwrap_or_default();
    let group = format!("{}.%", like_literal(&what));
    sqlx::query_as(SEARCH)
        .bind(workspace_id.unwrap_or(0))
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(who.unwrap_or_default())
        .bind(what)
        .bind(group)
        .bind(filter.outcome.clone().unwrap_or_default())
        .bind(filter.from.unwrap_or(i64::MIN))
        .bind(filter.to.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn like_wildcards_in_user_text_match_literally() {
        assert_eq!(like_literal("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(like_literal("ada@example.org"), "ada@example.org");
    }
}
