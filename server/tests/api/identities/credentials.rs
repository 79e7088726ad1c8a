//! Each member's own managed credentials: a member adds, replaces and removes their own and sees
//! only those; an owner lists every member (who registered, who is missing, Seqera's
//! `is:missing` / `is:added`) and may remove anyone's but replace nobody's; what a member gives
//! is checked with messages that say what to fix.

use super::{accounts, Org, TestKey};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn members_manage_their_own_credentials_and_see_only_those() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let alice = org.member("alice@example.org", "launch").await;
    let bob = org.member("bob@example.org", "view").await;
    let alice_key = TestKey::new(None);
    let alice_id = org.credentials(&alice, id, &alice_key, "alice").await;
    let bob_id = org.credentials(&bob, id, &TestKey::new(Some("bobs passphrase")), "bob").await;

    // Alice sees her own row only, with Seqera's fields: the member as userName, the cluster
    // account in metadata, and the key's fingerprint, never the key.
    let list = org.list(&alice, id, "").await;
    assert_eq!(list["totalSize"], 1);
    let row = &list["managedCredentials"][0];
    assert_eq!(row["managedCredentialsId"], alice_id);
    assert_eq!(row["userName"], "alice@example.org");
    assert_eq!(row["provider"], "ssh");
    assert_eq!(row["metadata"]["userName"], "alice");
    assert_eq!(row["metadata"]["publicKeyFingerprint"], alice_key.fingerprint.as_str());
    assert!(row["userId"].as_i64().is_some() && row["dateCreated"].as_str().is_some(), "{row}");
    // Asking for Bob's is refused, not quietly answered.
    let bob_user =
        org.list(&org.owner, id, "search=bob").await["managedCredentials"][0]["userId"].as_i64().unwrap();
    let path = format!("/api/identities/{id}/credentials?userId={bob_user}");
    let (status, refusal) = org.call(&alice, Method::GET, &path, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");

    // A second registration is a conflict; a key for someone else is refused.
    let path = format!("/api/identities/{id}/credentials");
    let (status, body) = org.call(&alice, Method::POST, &path, TestKey::new(None).request("alice")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("replace them"), "{body}");
    let (status, _) = org
        .call(&alice, Method::POST, &format!("{path}?userId={bob_user}"), TestKey::new(None).request("x"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Alice replaces her account alone (the key stays), then her key.
    let mine = format!("/api/identities/{id}/credentials/{alice_id}");
    let (status, _) = org.call(&alice, Method::PUT, &mine, json!({"metadata": {"userName": "alice2"}})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let row = org.list(&alice, id, "").await["managedCredentials"][0].clone();
    assert_eq!(
        (row["metadata"]["userName"].as_str(), row["metadata"]["publicKeyFingerprint"].as_str()),
        (Some("alice2"), Some(alice_key.fingerprint.as_str()))
    );
    let new_key = TestKey::new(None);
    let (status, _) = org.call(&alice, Method::PUT, &mine, new_key.request("alice2")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let row = org.list(&alice, id, "").await["managedCredentials"][0].clone();
    assert_eq!(row["metadata"]["publicKeyFingerprint"], new_key.fingerprint.as_str());
    let (status, body) = org.call(&alice, Method::PUT, &mine, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Bob's credentials are "not found" to Alice, whatever she tries.
    let bobs = format!("/api/identities/{id}/credentials/{bob_id}");
    let (status, _) = org.call(&alice, Method::PUT, &bobs, TestKey::new(None).request("bob")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = org.call(&alice, Method::DELETE, &bobs, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(org.list(&bob, id, "").await["managedCredentials"][0]["managedCredentialsId"], bob_id);

    let (status, _) = org.call(&alice, Method::DELETE, &mine, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let list = org.list(&alice, id, "").await;
    assert_eq!(accounts(&list), [("alice@example.org".to_string(), None)], "she is missing now");

    // Every change is audited with the account and the key's fingerprint, never the key.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let entries: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor, detail FROM audit_log WHERE action LIKE 'managed_credentials.%' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let actions: Vec<&str> = entries.iter().map(|(action, ..)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "managed_credentials.created",
            "managed_credentials.created",
            "managed_credentials.updated",
            "managed_credentials.updated",
            "managed_credentials.deleted"
        ]
    );
    assert_eq!(entries[0].1, "alice@example.org");
    assert!(entries[0].2.contains("cluster account alice") && entries[0].2.contains(&alice_key.fingerprint));
    assert!(entries.iter().all(|(.., detail)| !detail.contains(&alice_key.canary())));

    // Another organization's user cannot even list.
    let stranger = app.user(&org.owner, "stranger@example.org").await;
    let (status, _) =
        org.call(&stranger, Method::GET, &format!("/api/identities/{id}/credentials"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = org.call(&stranger, Method::POST, &path, TestKey::new(None).request("s")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn owners_see_who_registered_and_who_is_missing_and_may_remove_but_not_replace() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let alice = org.member("alice@example.org", "launch").await;
    org.member("bob@example.org", "maintain").await;
    let alice_id = org.credentials(&alice, id, &TestKey::new(None), "alice").await;
    // A user of another organization never appears.
    let stranger = app.user(&org.owner, "stranger@example.org").await;
    Org::owned_by(&app, stranger, "other").await;

    let everyone = org.list(&org.owner, id, "").await;
    assert_eq!(everyone["totalSize"], 3);
    assert_eq!(
        accounts(&everyone),
        [
            (ADMIN_EMAIL.to_string(), None),
            ("alice@example.org".to_string(), Some("alice".to_string())),
            ("bob@example.org".to_string(), None),
        ]
    );
    let missing = everyone["managedCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["userName"] == "bob@example.org");
    assert_eq!(missing.unwrap()["managedCredentialsId"], Value::Null, "missing: no id, no metadata");
    assert_eq!(missing.unwrap()["metadata"], Value::Null);

    let emails = |list: Value| accounts(&list).into_iter().map(|(email, _)| email).collect::<Vec<_>>();
    assert_eq!(emails(org.list(&org.owner, id, "search=is:missing").await), [ADMIN_EMAIL, "bob@example.org"]);
    assert_eq!(emails(org.list(&org.owner, id, "search=is:added").await), ["alice@example.org"]);
    assert_eq!(emails(org.list(&org.owner, id, "search=is:added%20is:missing").await).len(), 3);
    assert_eq!(emails(org.list(&org.owner, id, "search=BOB").await), ["bob@example.org"]);
    assert_eq!(emails(org.list(&org.owner, id, "max=1&offset=1").await), ["alice@example.org"]);
    let alice_user =
        org.list(&org.owner, id, "search=is:added").await["managedCredentials"][0]["userId"].clone();
    assert_eq!(
        emails(org.list(&org.owner, id, &format!("userId={alice_user}")).await),
        ["alice@example.org"]
    );

    // The owner may not replace Alice's key (they would hold it), but may remove it.
    let alices = format!("/api/identities/{id}/credentials/{alice_id}");
    let (status, refusal) =
        org.call(&org.owner, Method::PUT, &alices, TestKey::new(None).request("alice")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    let (status, _) = org.call(&org.owner, Method::DELETE, &alices, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(org.list(&org.owner, id, "search=is:added").await["totalSize"], 0);

    // Deleting the identity takes every member's credentials with it.
    org.credentials(&alice, id, &TestKey::new(None), "alice").await;
    let (status, _) =
        org.call(&org.owner, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM managed_credentials").fetch_one(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn what_a_member_gives_is_checked_and_each_refusal_says_what_to_fix() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let path = format!("/api/identities/{id}/credentials");
    let key = TestKey::new(None);
    let locked = TestKey::new(Some("correct passphrase"));
    let public = key.public_key.clone();
    let cases = [
        (key.request("Alice"), "POSIX account name"),
        (key.request("1alice"), "POSIX account name"),
        (key.request("alice;rm"), "POSIX account name"),
        (key.request(&"a".repeat(33)), "POSIX account name"),
        (json!({"credentials": {"keys": {"privateKey": key.private_key}}}), "metadata.userName"),
        (json!({"metadata": {"userName": "alice"}}), "SSH private key"),
        (
            json!({"provider": "ssh", "metadata": {"userName": "alice"},
                "credentials": {"keys": {"privateKey": "hunter2-not-a-key"}}}),
            "not a private key",
        ),
        (
            json!({"metadata": {"userName": "alice"}, "credentials": {"keys": {"privateKey": public}}}),
            "That is a public key",
        ),
        (
            json!({"metadata": {"userName": "alice"},
                   "credentials": {"keys": {"privateKey": locked.private_key}}}),
            "passphrase",
        ),
        (
            json!({"metadata": {"userName": "alice"},
                   "credentials": {"keys": {"privateKey": locked.private_key, "passphrase": "hunter2"}}}),
            "does not open the private key",
        ),
        (
            json!({"provider": "aws", "metadata": {"userName": "alice"},
                "credentials": {"keys": {"privateKey": key.private_key}}}),
            "provider must be ssh",
        ),
    ];
    for (body, says) in cases {
        let (status, refusal) = org.call(&org.owner, Method::POST, &path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{says}: {refusal}");
        let message = refusal["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
        assert!(
            !message.contains("hunter2") && !message.contains(&key.canary()),
            "echoes the input: {message}"
        );
    }
    // The same key with its passphrase is accepted, as is a name with '.', '-' and '_'.
    org.credentials(&org.owner, id, &locked, "a_l.i-ce").await;
}
