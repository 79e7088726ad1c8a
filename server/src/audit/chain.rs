//! Hash chaining. An entry's hash is SHA-256 over the previous entry's hash and a canonical JSON
//! encoding of the entry's own fields (fixed field order, so the same entry always hashes the
//! same on every backend). Verification walks the chain in order and names the first entry whose
//! hash or link does not hold.

use crate::db::audit::{self, AuditRow};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor: &'a str,
    ip: &'a str,
    action: &'a str,
    outcome: &'a str,
    workspace_id: Option<i64>,
    target: &'a str,
    detail: &'a str,
}

pub fn entry_hash(row: &AuditRow) -> String {
    let canonical = Canonical {
        seq: row.seq,
        at: row.at,
        actor_id: row.actor_id,
        actor: &row.actor,
        ip: &row.ip,
        action: &row.action,
        outcome: &row.outcome,
        workspace_id: row.workspace_id,
        target: &row.target,
        detail: &row.detail,
    };
    let json = serde_json::to_vec(&canonical).expect("plain fields always serialize");
    let mut hasher = Sha256::new();
    hasher.update(row.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&json);
    hex::encode(hasher.finalize())
}

/// The chain holds: this many entries, all linked and unaltered.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub entries: i64,
}

/// The first entry where the chain does not hold, and why, in words for the operator.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry #{} is broken: {}", self.seq, self.reason)
    }
}

/// Checks every entry in order; `Err` names the first broken one.
pub async fn verify(pool: &AnyPool) -> anyhow::Result<Result<Verified, Broken>> {
    const BATCH: i64 = 1000;
    let (mut expected_seq, mut expected_prev) = (1_i64, GENESIS.to_string());
    loop {
        let rows = audit::chain_batch(pool, expected_seq - 1, BATCH).await?;
        let done = (rows.len() as i64) < BATCH;
        for row in rows {
            if let Some(broken) = check(&row, expected_seq, &expected_prev) {
                return Ok(Err(broken));
            }
            expected_seq += 1;
            expected_prev = row.hash;
        }
        if done {
            break;
        }
    }
    let last_seq = expected_seq - 1;
    let (head_seq, head_hash) = audit::head(pool).await?;
    if head_seq != last_seq || head_hash != expected_prev {
        return Ok(Err(Broken {
            seq: last_seq + 1,
            reason: format!(
                "the log ends at entry #{last_seq} but {head_seq} entries were written: entries at the \
                 end were removed"
            ),
        }));
    }
    Ok(Ok(Verified { entries: last_seq }))
}

fn check(row: &AuditRow, expected_seq: i64, expected_prev: &str) -> Option<Broken> {
    let broken = |reason: String| Some(Broken { seq: expected_seq, reason });
    if row.seq != expected_seq {
        return broken(format!("it is missing (the next entry found is #{})", row.seq));
    }
    if row.prev_hash != expected_prev {
        return broken("it does not link to the entry before it (an entry was removed or replaced)".into());
    }
    if entry_hash(row) != row.hash {
        return broken(format!(
            "its contents do not match its hash (it was altered after it was written: {} by {} at {})",
            row.action, row.actor, row.at
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev_hash: &str) -> AuditRow {
        let mut row = AuditRow {
            seq,
            at: 1_700_000_000_000 + seq,
            actor_id: Some(1),
            actor: "ada@example.org".into(),
            ip: "127.0.0.1".into(),
            action: "secret.created".into(),
            outcome: "ok".into(),
            workspace_id: Some(2),
            target: format!("secret 'S{seq}'"),
            detail: String::new(),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        row
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let row = entry(1, GENESIS);
        let mut changed = Vec::new();
        for change in [
            |r: &mut AuditRow| r.at += 1,
            |r: &mut AuditRow| r.actor_id = None,
            |r: &mut AuditRow| r.actor.push('x'),
            |r: &mut AuditRow| r.ip.push('1'),
            |r: &mut AuditRow| r.action.push('x'),
            |r: &mut AuditRow| r.outcome = "denied".into(),
            |r: &mut AuditRow| r.workspace_id = Some(3),
            |r: &mut AuditRow| r.target.push('x'),
            |r: &mut AuditRow| r.detail.push('x'),
            |r: &mut AuditRow| r.prev_hash = "1".repeat(64),
            |r: &mut AuditRow| r.seq = 2,
        ] {
            let mut altered = row.clone();
            change(&mut altered);
            changed.push(entry_hash(&altered) != row.hash);
        }
        assert!(changed.iter().all(|c| *c), "{changed:?}");
    }

    #[test]
    fn check_names_what_broke() {
        let first = entry(1, GENESIS);
        let second = entry(2, &first.hash);
        assert_eq!(check(&second, 2, &first.hash), None);
        assert!(check(&second, 2, GENESIS).unwrap().reason.contains("does not link"));
        assert!(check(&second, 1, GENESIS).unwrap().reason.contains("missing"));
        let mut altered = second.clone();
        altered.target = "secret 'OTHER'".into();
        assert!(check(&altered, 2, &first.hash).unwrap().reason.contains("do not match its hash"));
    }
}
