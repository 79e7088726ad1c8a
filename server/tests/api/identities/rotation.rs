//! `keys rotate` moves members' managed credentials too: their data keys are re-wrapped under the
//! new key, and each key document opens with it, bound to its identity, member and row only.

use super::{Org, TestKey};
use crate::cli::{db_env, kek_from, new_key_file, strongroom};
use crate::helpers::*;
use secrecy::ExposeSecret;
use serde_json::Value;
use server::crypto::{Binding, Sealed};

#[tokio::test]
async fn key_rotation_rewraps_managed_credentials_with_the_secrets() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let mut keys = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let member = org.member(&format!("{name}@example.org"), "launch").await;
        let key = TestKey::new(None);
        org.credentials(&member, id, &key, name).await;
        keys.push((name, key));
    }
    let old = kek_from(&app.key_file());
    let keys_dir = tempfile::tempdir().unwrap();
    let new_file = new_key_file(keys_dir.path(), "new.key");
    let new = kek_from(&new_file);

    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_file.display().to_string(), "--batch-size", "2"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("re-wrapped 3 of 3"), "{}", out.stdout);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    // id, identity id, user id, cluster account, version, key id, wrapped key, ciphertext
    type Row = (i64, i64, i64, String, i64, String, Vec<u8>, Vec<u8>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, identity_id, user_id, user_name, version, key_id, wrapped_key, ciphertext \
         FROM managed_credentials ORDER BY user_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 3);
    for ((row_id, identity_id, user_id, account, version, key_id, wrapped_key, ciphertext), (name, key)) in
        rows.into_iter().zip(&keys)
    {
        assert_eq!(&account, name);
        assert_eq!(key_id, new.id(), "{name}'s key moved to the new key");
        let binding = Binding::managed_credentials(identity_id, user_id, row_id, version);
        let sealed = Sealed { key_id, wrapped_key, ciphertext };
        assert!(old.open(&sealed, &binding).is_err(), "{name}'s no longer opens with the old key");
        let other_member = Binding::managed_credentials(identity_id, user_id + 1, row_id, version);
        assert!(new.open(&sealed, &other_member).is_err(), "bound to its member");
        let document: Value =
            serde_json::from_slice(new.open(&sealed, &binding).unwrap().expose_secret()).unwrap();
        assert_eq!(document["privateKey"], key.private_key.as_str(), "{name}'s is intact");
    }
}
