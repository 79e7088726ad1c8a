//! Which secrets shadow which: a user's own secret overrides a workspace secret of the same name
//! at that user's launches. These queries feed the badges in both lists; they read names only.

use sqlx::AnyPool;

/// Names of `workspace_id`'s secrets that `user_id` also has as a personal secret.
pub async fn overridden_in_workspace(
    pool: &AnyPool,
    user_id: i64,
    workspace_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT name FROM secrets WHERE scope = 'workspace' AND workspace_id = $2 \
         AND name IN (SELECT name FROM secrets WHERE scope = 'user' AND user_id = $1)",
    )
    .bind(user_id)
    .bind(workspace_id)
    .fetch_all(pool)
    .await
}

/// For each personal secret of `user_id` that overrides a secret of a workspace the user takes
/// part in: (secret name, organization name, workspace name).
pub async fn overridden_by_user(
    pool: &AnyPool,
    user_id: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.name, o.name, w.name FROM secrets s \
         JOIN workspace_participants p ON p.workspace_id = s.workspace_id AND p.user_id = $1 \
         JOIN workspaces w ON w.id = s.workspace_id \
         JOIN organizations o ON o.id = w.org_id \
         WHERE s.scope = 'workspace' \
         AND s.name IN (SELECT name FROM secrets WHERE scope = 'user' AND user_id = $1) \
         ORDER BY o.name, w.name",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}
