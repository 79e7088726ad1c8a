//! A dump of every table of the test database (either backend), to compare before and after a
//! batch of requests that must change nothing.
//!
//! Tables are listed from the database's own catalogue, so a table added by a later migration is
//! compared too. Each row becomes one text line of quoted column values (nulls and blobs
//! included), rows sorted, so two dumps compare as plain data.

use crate::helpers::{is_postgres, TestApp};
use sqlx::Row;
use std::collections::BTreeMap;

/// Columns that legitimately change when something is only read, left out of the dumps.
pub const MOVE_ON_READ: &[(&str, &str, &str)] = &[
    (
        "sessions",
        "last_seen_at",
        "the idle-timeout clock: any request on the session refreshes it (at most once a minute)",
    ),
    (
        "access_tokens",
        "last_used_at",
        "shown to the token's owner as lastUsed: a bearer request records it (at most once a minute)",
    ),
    (
        "audit_head",
        "seq",
        "the audit chain's head moves with each appended entry; reads that are refused are audited \
         (checked by `appended_audit_entries`: only `denied` entries may appear)",
    ),
    ("audit_head", "last_hash", "as `audit_head.seq`: the hash of the last appended entry"),
];

pub type Dump = BTreeMap<String, Vec<String>>;

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.database_url).await.expect("the test database")
}

async fn strings(pool: &sqlx::AnyPool, sql: String) -> Vec<String> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await;
    let rows = rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter().map(|row| row.get::<String, _>(0)).collect()
}

async fn tables(pool: &sqlx::AnyPool) -> Vec<String> {
    let sql = if is_postgres() {
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    strings(pool, sql.to_string()).await
}

async fn columns(pool: &sqlx::AnyPool, table: &str) -> Vec<String> {
    let sql = if is_postgres() {
        format!(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    };
    strings(pool, sql).await
}

/// Every table's rows, without the `MOVE_ON_READ` columns.
pub async fn dump(app: &TestApp) -> Dump {
    let pool = pool(app).await;
    let mut dump = Dump::new();
    for table in tables(&pool).await {
        let kept: Vec<String> = columns(&pool, &table)
            .await
            .into_iter()
            .filter(|column| !MOVE_ON_READ.iter().any(|(t, c, _)| *t == table && c == column))
            .map(|column| {
                if is_postgres() {
                    format!("quote_nullable(\"{column}\"::text)")
                } else {
                    format!("quote(\"{column}\")")
                }
            })
            .collect();
        let line = if kept.is_empty() { "''".to_string() } else { kept.join(" || '|' || ") };
        let mut rows = strings(&pool, format!("SELECT {line} FROM \"{table}\"")).await;
        rows.sort();
        dump.insert(table, rows);
    }
    pool.close().await;
    assert!(dump.len() >= 15, "too few tables found: {:?}", dump.keys());
    dump
}

/// The one value `sql` selects, as text.
pub async fn scalar(app: &TestApp, sql: &str) -> String {
    let pool = pool(app).await;
    let value = strings(&pool, format!("SELECT CAST(({sql}) AS TEXT)")).await;
    pool.close().await;
    value.into_iter().next().expect("one row")
}

/// The audit entries appended since `before` as `(action, outcome, target)`, after checking that
/// no earlier entry changed and that the chain's head names the last entry.
pub async fn appended_audit_entries(app: &TestApp, before: &Dump) -> Vec<(String, String, String)> {
    let pool = pool(app).await;
    let head = strings(&pool, "SELECT CAST(seq AS TEXT) FROM audit_head".into()).await;
    let last = strings(&pool, "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit_log".into()).await;
    assert_eq!(head, last, "the audit head does not name the last entry");
    let old = before["audit_log"].len();
    let sql = format!("SELECT action || '|' || outcome || '|' || target FROM audit_log WHERE seq > {old}");
    let appended = strings(&pool, sql).await;
    pool.close().await;
    appended
        .into_iter()
        .map(|line| {
            let mut parts = line.splitn(3, '|').map(str::to_string);
            (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap())
        })
        .collect()
}

/// The differences between two dumps, table by table, for a failure message.
pub fn differences(before: &Dump, after: &Dump) -> Vec<String> {
    let mut out = Vec::new();
    for table in before.keys().chain(after.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (old, new) = (before.get(table), after.get(table));
        let (old, new) = (old.cloned().unwrap_or_default(), new.cloned().unwrap_or_default());
        for gone in old.iter().filter(|row| !new.contains(row)) {
            out.push(format!("{table}: - {gone}"));
        }
        for added in new.iter().filter(|row| !old.contains(row)) {
            out.push(format!("{table}: + {added}"));
        }
    }
    out
}
