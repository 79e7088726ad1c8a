//! The audit trail: who did what, when (UTC), from where, and how it ended.
//!
//! Guarantees: an entry is written in the same transaction as the action it records, so if the
//! entry cannot be written the action is rolled back; entries are chained by hash (`chain.rs`)
//! and never updated or deleted; an entry names secrets, users and roles but never holds a value.

mod batch;
mod chain;
mod origin;
mod savepoints;

pub use batch::{AuditedWrites, BATCH_WRITERS_POSTGRES};
pub use chain::{verify, Broken, Verified};
pub use origin::{client_ip, with_client_ip};

use crate::db::{audit, Tx};
use app::model::SessionUser;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }
}

/// One thing that happened. Build it with `Event::by` or `Event::anonymous`, then append it.
#[derive(Debug, Clone)]
pub struct Event {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: &'static str,
    pub outcome: Outcome,
    pub workspace_id: Option<i64>,
    pub target: String,
    pub detail: String,
    /// The client address, read when the event is made: later, after the action's awaits, the
    /// request's context may no longer be reachable from the task that writes the entry.
    pub ip: String,
}

impl Event {
    pub fn by(actor: &SessionUser, action: &'static str) -> Event {
        Event { actor_id: Some(actor.id), ..Event::anonymous(&actor.email, action) }
    }

    /// A refused request: what was needed goes in the detail.
    pub fn denied(actor: &SessionUser, detail: impl Into<String>) -> Event {
        Event::by(actor, "access.denied").outcome(Outcome::Denied).detail(detail)
    }

    /// For events without a signed-in actor, such as a failed sign-in (`who` is what was typed).
    pub fn anonymous(who: &str, action: &'static str) -> Event {
        Event {
            actor_id: None,
            actor: who.to_string(),
            action,
            outcome: Outcome::Ok,
            workspace_id: None,
            target: String::new(),
            detail: String::new(),
            ip: client_ip(),
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Event {
        self.outcome = outcome;
        self
    }

    pub fn workspace(mut self, workspace_id: i64) -> Event {
        self.workspace_id = Some(workspace_id);
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Event {
        self.target = target.into();
        self
    }

    /// The client address read earlier, before the awaits that may lose the request's context.
    pub fn from_ip(mut self, ip: &str) -> Event {
        self.ip = ip.to_string();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = detail.into();
        self
    }
}

/// Appends `event` inside `tx`. Must be the transaction's last write: it takes the chain's head
/// lock, which is then held only until the commit. (Hot paths queue their whole action on
/// `AuditedWrites` instead, which appends many entries under one lock and one commit.)
pub async fn append(tx: &mut Tx<'_>, event: Event, now: i64) -> Result<(), sqlx::Error> {
    let (seq, prev_hash) = audit::claim_next(tx).await?;
    audit::insert_chained(tx, &[chained_row(seq, prev_hash, event, now)]).await
}

/// The entry for `event` at chain position `seq`, after the entry whose hash is `prev_hash`.
fn chained_row(seq: i64, prev_hash: String, event: Event, now: i64) -> audit::AuditRow {
    let mut row = audit::AuditRow {
        seq,
        at: now,
        actor_id: event.actor_id,
        actor: event.actor,
        ip: event.ip,
        action: event.action.to_string(),
        outcome: event.outcome.as_str().to_string(),
        workspace_id: event.workspace_id,
        target: event.target,
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    row.hash = chain::entry_hash(&row);
    row
}

/// Appends `event` in a transaction of its own, for events with no action to roll back (a denied
/// request, a failed sign-in). A failure is logged, not returned: the caller's answer stands.
pub async fn append_alone(db: &crate::db::Db, event: Event, now: i64) {
    let action = event.action;
    let result = async {
        let mut tx = db.begin().await?;
        append(&mut tx, event, now).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(%error, action, "could not write an audit entry");
    }
}
