//! A member's SSH key is write-only: it is in no response, page, log line, audit entry or
//! plaintext database byte, only its fingerprint shows; and the launch path (`for_launch`) opens
//! exactly the document the member gave, for that member only, and pins a host key only once.

use super::{Org, TestKey};
use crate::helpers::*;
use crate::leak::{contains, database_bytes, encodings};
use secrecy::ExposeSecret;
use serde_json::Value;
use server::domain::identities::for_launch;

#[tokio::test]
async fn the_key_and_passphrase_never_come_out_and_only_the_fingerprint_shows() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let alice = org.member("alice@example.org", "launch").await;
    let passphrase = format!("pass{}", uuid::Uuid::new_v4().simple());
    let key = TestKey::new(Some(&passphrase));
    let credentials_id = org.credentials(&alice, id, &key, "alice").await;
    // A second key through the UI's server function (a form's textarea sends CRLF lines).
    let ui_key = TestKey::new(None);
    let bob = org.member("bob@example.org", "launch").await;
    let form = [
        ("org_id", org.id.to_string()),
        ("identity_id", id.to_string()),
        ("user_name", "bob".to_string()),
        ("private_key", ui_key.private_key.replace('\n', "\r\n")),
        ("passphrase", String::new()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.sfn(&bob, "add_cluster_credentials", &form).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK, "{}", response.text().await.unwrap());

    let (mut seen, mut pages) = (String::new(), String::new());
    for who in [&alice, &bob, &org.owner] {
        for path in [
            format!("/api/identities/{id}/credentials"),
            format!("/api/identities/{id}"),
            "/api/identities".to_string(),
        ] {
            let response = who.get(app.url(&org.path(&path))).send().await.unwrap();
            seen.push_str(&response.text().await.unwrap());
        }
        let response = app.sfn(who, "your_cluster_credentials", &[]).await;
        seen.push_str(&response.text().await.unwrap());
        for page in ["/user/cluster-credentials", "/identities"] {
            let response = app.get(who, page).await;
            assert_eq!(response.status(), reqwest::StatusCode::OK, "{page}");
            pages.push_str(&response.text().await.unwrap());
        }
    }
    assert!(seen.contains(&key.fingerprint) && seen.contains(&ui_key.fingerprint), "fingerprints show");
    // The pages render on the server with the identity, accounts and fingerprints.
    for shown in ["hpc-main", "alice@example.org", &key.fingerprint, &ui_key.fingerprint] {
        assert!(pages.contains(shown), "the pages show {shown}");
    }
    seen.push_str(&pages);
    let logs = captured_logs();
    assert!(logs.contains("managed credentials created"), "the log scan has the service's lines");
    let database = database_bytes(&app).await;
    assert!(
        database.iter().any(|(_, bytes)| contains(bytes, &key.fingerprint)),
        "the scan finds public fields"
    );
    for canary in [key.canary(), ui_key.canary(), passphrase.clone()] {
        assert!(!seen.contains(&canary), "a response or page holds a key or passphrase");
        assert!(!logs.contains(&canary), "a log line holds a key or passphrase");
        for (file, bytes) in &database {
            for form in encodings(&canary) {
                assert!(!contains(bytes, &form), "{file} holds a key or passphrase in plaintext");
            }
        }
    }

    // The launch path opens exactly what Alice gave, as Seqera's SSHSecurityKeys.
    let core = app.services().await;
    let user_id = |list: Value| list["managedCredentials"][0]["userId"].as_i64().unwrap();
    let alice_user = user_id(org.list(&alice, id, "").await);
    let opened = for_launch::launcher_credentials(&core, id, alice_user).await.unwrap().unwrap();
    assert_eq!((opened.id, opened.user_name.as_str(), opened.identity_id), (credentials_id, "alice", id));
    let document: Value = serde_json::from_slice(opened.keys.expose_secret()).unwrap();
    assert_eq!(document["privateKey"], key.private_key.as_str());
    assert_eq!(document["passphrase"], passphrase.as_str());
    let by_id = for_launch::credentials_by_id(&core, credentials_id).await.unwrap().unwrap();
    assert_eq!(by_id.keys.expose_secret(), opened.keys.expose_secret());
    // Bob's, sent with CRLF lines, is stored as the key file it was.
    let bob_user = user_id(org.list(&bob, id, "").await);
    let bobs = for_launch::launcher_credentials(&core, id, bob_user).await.unwrap().unwrap();
    let document: Value = serde_json::from_slice(bobs.keys.expose_secret()).unwrap();
    assert_eq!(document["privateKey"], ui_key.private_key.as_str());
    assert!(document.get("passphrase").is_none());
    // Nobody else has credentials there; an unknown id is nothing.
    assert!(for_launch::launcher_credentials(&core, id, 1).await.unwrap().is_none());
    assert!(for_launch::credentials_by_id(&core, 999_999).await.unwrap().is_none());
    let list = org.list(&alice, id, "").await;
    assert!(list["managedCredentials"][0]["lastUsed"].as_str().is_some(), "the launch use is recorded");
}

#[tokio::test]
async fn the_launch_path_reads_the_cluster_and_pins_a_host_key_only_once() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let core = app.services().await;
    let target = for_launch::managed_identity(&core, id).await.unwrap().unwrap();
    assert_eq!(
        (target.org_id, target.host_name.as_str(), target.port),
        (org.id, "login.hpc.example.org", 22)
    );
    assert_eq!((target.platform.as_str(), target.host_key_fingerprint.clone()), ("slurm-platform", None));
    assert!(for_launch::managed_identity(&core, id + 100).await.unwrap().is_none());

    let seen = "SHA256:iX8O8CcwQFAS6ojwyrggi0EFMvkenWV6zAuSOxlnnKI";
    let later = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
    assert!(for_launch::record_host_key(&core, id, "not a fingerprint").await.is_err());
    assert!(for_launch::record_host_key(&core, id, seen).await.unwrap(), "recorded when none is pinned");
    assert!(!for_launch::record_host_key(&core, id, later).await.unwrap(), "a pinned key stays");
    let (_, described) = app.get_json(&org.owner, &org.path(&format!("/api/identities/{id}"))).await;
    assert_eq!(described["config"]["hostKeyFingerprint"], seen);
    let target = for_launch::managed_identity(&core, id).await.unwrap().unwrap();
    assert_eq!(target.host_key_fingerprint.as_deref(), Some(seen));
    let message = for_launch::missing_credentials_message("hpc-main");
    assert!(message.contains("'hpc-main'") && message.contains("/user/cluster-credentials"), "{message}");
}
