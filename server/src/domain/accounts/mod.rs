//! Accounts: first-visit setup, sign-in and sign-out, password changes, and user administration.

pub mod password;
pub mod rate_limit;
pub mod recent_tokens;
pub mod session;
pub mod tokens;

use crate::audit::{Event, Outcome};
use crate::db::{self, sessions, users};
use crate::domain::{internal, now_ms, Core};
use crate::policy::require_instance_admin;
use app::error::AppError;
use app::model::{check_email, check_full_name, check_password, normalize_email, SessionUser, UserSummary};
use app::ports::{AccountsPort, Authenticated, ClientInfo, SetCookie};
use async_trait::async_trait;
use rate_limit::{LoginRateLimiter, RefusalSummary};
use secrecy::{ExposeSecret, SecretString};
use session::SessionPolicy;
use std::sync::Arc;

/// Accounts and sign-in: the `AccountsPort`, and the session check of the request middleware.
pub struct Accounts {
    core: Arc<Core>,
    /// How long sessions live, and the session cookie.
    pub sessions: SessionPolicy,
    pub login_limiter: LoginRateLimiter,
}

/// The one answer for an unknown email, a wrong password and a disabled account, so sign-in
/// reveals nothing about which accounts exist.
fn invalid_credentials() -> AppError {
    AppError::BadRequest("Invalid email or password.".into())
}

pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub password: SecretString,
    pub is_instance_admin: bool,
}

/// The caller as the UI and the policy point see them, from a user row (sessions and tokens).
pub(crate) fn session_user(row: &users::UserRow) -> SessionUser {
    SessionUser {
        id: row.id,
        email: row.email.clone(),
        display_name: row.display_name.clone(),
        is_instance_admin: row.is_instance_admin(),
    }
}

fn user_summary(row: users::UserRow) -> UserSummary {
    UserSummary {
        id: row.id,
        is_instance_admin: row.is_instance_admin(),
        disabled: row.is_disabled(),
        created_at: row.created_at,
        email: row.email,
        display_name: row.display_name,
    }
}

impl Accounts {
    pub fn new(core: Arc<Core>, sessions: SessionPolicy, login_limiter: LoginRateLimiter) -> Accounts {
        Accounts { core, sessions, login_limiter }
    }

    /// The periodic clean-up: deletes ended sessions and forgets idle rate-limit keys.
    pub async fn sweep(&self) {
        let now = now_ms();
        let idle_cutoff = now - self.sessions.idle_ms;
        let absolute_cutoff = now - self.sessions.absolute_ms;
        match sessions::delete_expired(&self.core.db.pool, idle_cutoff, absolute_cutoff).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "removed ended sessions"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not remove ended sessions"),
        }
        self.login_limiter.forget_idle();
    }

    /// For `strongroom admin create`: an instance administrator created next to the database.
    /// It also completes first-visit setup, so the setup page is not offered afterwards.
    pub async fn create_admin_from_cli(&self, account: NewAccount) -> Result<SessionUser, AppError> {
        let first = AccountsPort::needs_setup(self).await?;
        let event = Event::anonymous("command line", "user.created");
        let user = self.insert_account(account, first, event).await?;
        Ok(session_user(&user))
    }

    /// The live session behind a cookie token, or `None`. Ended sessions are deleted on sight.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<Authenticated>, AppError> {
        let found = sessions::find_by_token_hash(&self.core.db.pool, &session::hash_token(token))
            .await
            .map_err(internal)?;
        let Some(row) = found else { return Ok(None) };
        let now = now_ms();
        if row.user.is_disabled() || !self.sessions.is_alive(row.session_created_at, row.last_seen_at, now) {
            sessions::delete(&self.core.db.pool, row.session_id).await.map_err(internal)?;
            return Ok(None);
        }
        // Refresh the idle clock at most once a minute: one write per request would make every
        // page view contend for SQLite's write lock.
        if now - row.last_seen_at > 60_000 {
            sessions::touch(&self.core.db.pool, row.session_id, now).await.map_err(internal)?;
        }
        Ok(Some(Authenticated { user: session_user(&row.user), session_id: Some(row.session_id) }))
    }

    /// Audits every window of refused sign-ins that has ended (housekeeping calls this).
    pub async fn flush_refused_sign_ins(&self) {
        for summary in self.login_limiter.take_closed_windows() {
            self.record_refused_sign_ins(summary).await;
        }
    }

    /// Writes the audit entry of a window of refused sign-ins.
    async fn record_refused_sign_ins(&self, summary: RefusalSummary) {
        tracing::warn!(ip = %summary.ip, refused = summary.count, "sign-in attempts were rate limited");
        let who = match summary.emails.as_slice() {
            [only] if summary.more_emails == 0 => typed_email(only),
            _ => "(several accounts)".to_string(),
        };
        let named: Vec<String> = summary.emails.iter().map(|e| typed_email(e)).collect();
        let others = match summary.more_emails {
            0 => String::new(),
            n => format!(" and {n} at other accounts"),
        };
        let mut event = Event::anonymous(&who, "sign-in").outcome(Outcome::Denied).detail(format!(
            "too many attempts: {} refused within {} s (at {}{others})",
            summary.count,
            summary.window_secs,
            named.join(", ")
        ));
        event.ip = summary.ip;
        self.core.record(event).await;
    }

    /// Validates and stores a new account. `claim_setup` makes it the instance's one first-visit
    /// administrator, refused if setup already happened.
    async fn insert_account(
        &self,
        account: NewAccount,
        claim_setup: bool,
        event: Event,
    ) -> Result<users::UserRow, AppError> {
        let email = normalize_email(&account.email);
        check_email(&email).map_err(AppError::BadRequest)?;
        let display_name = account.display_name.trim().to_string();
        check_full_name("display", &display_name).map_err(AppError::BadRequest)?;
        check_password(account.password.expose_secret()).map_err(AppError::BadRequest)?;
        let hash = password::hash(account.password).await.map_err(internal)?;
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        if claim_setup && !users::claim_setup(&mut tx, now).await.map_err(internal)? {
            return Err(AppError::conflict("Strongroom is already set up. Sign in instead."));
        }
        let new = users::NewUser {
            email: &email,
            display_name: &display_name,
            password_hash: &hash,
            is_instance_admin: account.is_instance_admin,
        };
        let id = match users::insert(&mut tx, new, now).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict("A user with that email already exists."))
            }
            Err(e) => return Err(internal(e)),
        };
        let role = if account.is_instance_admin { "instance administrator" } else { "user" };
        self.core.commit_audited(tx, event.target(format!("user {email} (id {id})")).detail(role)).await?;
        tracing::info!(user_id = id, admin = account.is_instance_admin, "user created");
        users::find_by_id(&self.core.db.pool, id).await.map_err(internal)?.ok_or(AppError::Internal)
    }

    async fn start_session(&self, user_id: i64, client: &ClientInfo) -> Result<SetCookie, AppError> {
        let token = session::new_token();
        sessions::insert(&self.core.db.pool, &session::hash_token(&token), user_id, &client.ip, now_ms())
            .await
            .map_err(internal)?;
        Ok(SetCookie(self.sessions.set_cookie(&token)))
    }
}

#[async_trait]
impl AccountsPort for Accounts {
    async fn needs_setup(&self) -> Result<bool, AppError> {
        users::is_setup_done(&self.core.db.pool).await.map(|done| !done).map_err(internal)
    }

    async fn setup_first_admin(
        &self,
        client: &ClientInfo,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError> {
        let account = NewAccount { email, display_name, password, is_instance_admin: true };
        let event = Event::anonymous(&account.email, "setup.completed");
        let user = self.insert_account(account, true, event).await?;
        self.start_session(user.id, client).await
    }

    async fn login(
        &self,
        client: &ClientInfo,
        email: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError> {
        let email = normalize_email(&email);
        if let Err(refused) = self.login_limiter.check(&email, &client.ip) {
            // One audit entry per address and window, written when the window ends (here, or by
            // the housekeeping sweep), not one per refused attempt.
            if let Some(closed) = refused.closed {
                self.record_refused_sign_ins(closed).await;
            }
            return Err(AppError::RateLimited { retry_after_secs: refused.retry_after_secs });
        }
        let found = users::find_credentials(&self.core.db.pool, &email).await.map_err(internal)?;
        let (user, stored) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        // Always hash: an unknown email costs the same time as a wrong password.
        let matches = password::verify(password, stored).await.map_err(internal)?;
        match user {
            Some(user) if matches && !user.is_disabled() => {
                tracing::info!(user_id = user.id, ip = %client.ip, "sign-in succeeded");
                let cookie = self.start_session(user.id, client).await?;
                self.core.record(Event::by(&session_user(&user), "sign-in")).await;
                Ok(cookie)
            }
            _ => {
                tracing::info!(ip = %client.ip, "sign-in failed");
                let reason = match user {
                    Some(user) if matches && user.is_disabled() => "account disabled",
                    _ => "wrong email or password",
                };
                let event = Event::anonymous(&typed_email(&email), "sign-in").outcome(Outcome::Failed);
                self.core.record(event.detail(reason)).await;
                Err(invalid_credentials())
            }
        }
    }

    async fn logout(&self, auth: &Authenticated) -> Result<SetCookie, AppError> {
        if let Some(id) = auth.session_id {
            sessions::delete(&self.core.db.pool, id).await.map_err(internal)?;
        }
        Ok(SetCookie(self.sessions.clear_cookie()))
    }

    /// Changes the caller's password after checking the current one, and ends their other sessions
    /// (not this one).
    async fn change_password(
        &self,
        auth: &Authenticated,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), AppError> {
        let (actor, keep_session) = (&auth.user, auth.session_id);
        check_password(new.expose_secret()).map_err(AppError::BadRequest)?;
        let stored = users::password_hash(&self.core.db.pool, actor.id).await.map_err(internal)?;
        if !password::verify(current, stored).await.map_err(internal)? {
            return Err(AppError::bad_request("The current password is not correct."));
        }
        let hash = password::hash(new).await.map_err(internal)?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        users::set_password_hash(&mut tx, actor.id, &hash, now_ms()).await.map_err(internal)?;
        sessions::delete_others_for_user(&mut tx, actor.id, keep_session).await.map_err(internal)?;
        self.core
            .commit_audited(tx, Event::by(actor, "password.changed").target(format!("user {}", actor.email)))
            .await?;
        tracing::info!(user_id = actor.id, "password changed");
        Ok(())
    }

    async fn list_users(&self, actor: &SessionUser) -> Result<Vec<UserSummary>, AppError> {
        require_instance_admin(&self.core.db, actor, "manage users").await?;
        let rows = users::list(&self.core.db.pool).await.map_err(internal)?;
        Ok(rows.into_iter().map(user_summary).collect())
    }

    async fn create_user(
        &self,
        actor: &SessionUser,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<UserSummary, AppError> {
        require_instance_admin(&self.core.db, actor, "manage users").await?;
        let account = NewAccount { email, display_name, password, is_instance_admin: false };
        self.insert_account(account, false, Event::by(actor, "user.created")).await.map(user_summary)
    }

    /// Disabling ends every session of the user at once.
    async fn set_user_disabled(
        &self,
        actor: &SessionUser,
        user_id: i64,
        disabled: bool,
    ) -> Result<(), AppError> {
        require_instance_admin(&self.core.db, actor, "manage users").await?;
        if user_id == actor.id && disabled {
            return Err(AppError::bad_request("You cannot disable your own account."));
        }
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        if !users::set_disabled(&mut tx, user_id, disabled, now_ms()).await.map_err(internal)? {
            return Err(AppError::not_found("User"));
        }
        if disabled {
            sessions::delete_for_user(&mut tx, user_id).await.map_err(internal)?;
        }
        let action = if disabled { "user.disabled" } else { "user.enabled" };
        self.core.commit_audited(tx, Event::by(actor, action).target(format!("user id {user_id}"))).await?;
        // Their tokens resolved within the last second stop working now, not a second later.
        self.core.recent_tokens.forget_all();
        tracing::info!(user_id, disabled, by = actor.id, "user status changed");
        Ok(())
    }

    async fn user_info(&self, actor: &SessionUser) -> Result<UserSummary, AppError> {
        let row = users::find_by_id(&self.core.db.pool, actor.id).await.map_err(internal)?;
        row.map(user_summary).ok_or(AppError::Unauthenticated)
    }
}

/// What a failed sign-in records as "who": the email as typed, when it looks like one. Anything
/// else (say, a password typed into the email field) is not written down.
fn typed_email(email: &str) -> String {
    if check_email(email).is_ok() {
        email.to_string()
    } else {
        "(not an email address)".to_string()
    }
}
