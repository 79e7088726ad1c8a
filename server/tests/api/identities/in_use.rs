//! Managed credentials a run still needs stay as they are: a run that is not cleaned yet deletes
//! its copies of secrets on the cluster over SSH with the key it was launched with, so replacing
//! or deleting that key (or its identity) is refused with 409 in Seqera's conflict shape, until
//! the run is cleaned.

use super::{Org, TestKey};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A run row as a launch on a managed-identity environment leaves it: its target names the
/// identity and the launcher's managed credentials.
async fn insert_run(app: &TestApp, ws_id: i64, workflow_id: &str, identity_id: i64, credentials_id: i64) {
    let target = json!({
        "platform": "slurm-platform",
        "config": {"hostName": "login.hpc.example.org", "userName": "alice", "workDir": "/scratch",
                   "managedIdentityId": identity_id},
        "credentialsId": null,
        "managedCredentialsId": credentials_id,
    });
    app.run_sql(&format!(
        "INSERT INTO runs (id, workspace_id, launched_by, run_name, pipeline, target, status, stage, \
         created_at, updated_at) VALUES ('{workflow_id}', {ws_id}, 1, 'nightly', 'nf-core/rnaseq', \
         '{target}', 'RUNNING', 'launched', 1, 1)"
    ))
    .await;
}

#[tokio::test]
async fn credentials_a_run_still_needs_cannot_be_replaced_or_deleted_until_it_is_cleaned() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    let other = org.identity("hpc-other").await;
    let alice = org.member("alice@example.org", "launch").await;
    let alice_id = org.credentials(&alice, id, &TestKey::new(None), "alice").await;
    let other_id = org.credentials(&alice, other, &TestKey::new(None), "alice").await;
    insert_run(&app, org.ws_id, "1k0K4WlGep8ZTM", id, alice_id).await;

    let mine = format!("/api/identities/{id}/credentials/{alice_id}");
    for (who, method, body) in [
        (&alice, Method::DELETE, Value::Null),
        (&alice, Method::PUT, TestKey::new(None).request("alice")),
        (&alice, Method::PUT, json!({"metadata": {"userName": "alice2"}})),
        (&org.owner, Method::DELETE, Value::Null),
    ] {
        let (status, conflict) = org.call(who, method.clone(), &format!("{mine}?checked=true"), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{method}: {conflict}");
        assert_eq!(conflict["managedCredentialsId"], alice_id.to_string());
        assert_eq!(
            conflict["conflicts"],
            json!([{"type": "workflow", "id": "1k0K4WlGep8ZTM", "name": "nightly"}])
        );
        let message = conflict["message"].as_str().unwrap();
        assert!(
            message.contains("1k0K4WlGep8ZTM ('nightly')") && message.contains("Cancel the run"),
            "{message}"
        );
    }
    // `checked=false` cannot force it: the run's cleanup needs the key.
    let (status, _) = org.call(&alice, Method::DELETE, &format!("{mine}?checked=false"), Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, conflict) =
        org.call(&org.owner, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["managedCredentialsId"], Value::Null);
    assert_eq!(conflict["conflicts"][0]["id"], "1k0K4WlGep8ZTM");
    // The UI's server function answers the same.
    let form = [
        ("org_id", org.id.to_string()),
        ("identity_id", id.to_string()),
        ("credentials_id", alice_id.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.sfn(&alice, "delete_cluster_credentials", &form).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // Nothing changed meanwhile.
    let row = org.list(&alice, id, "").await["managedCredentials"][0].clone();
    assert_eq!(
        (row["managedCredentialsId"].as_i64(), row["metadata"]["userName"].as_str()),
        (Some(alice_id), Some("alice"))
    );

    // The same member's credentials on another identity are free.
    let others = format!("/api/identities/{other}/credentials/{other_id}");
    let (status, _) = org.call(&alice, Method::DELETE, &others, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Once the run is cleaned, the credentials and the identity can go.
    app.run_sql("UPDATE runs SET stage = 'cleaned', status = 'SUCCEEDED'").await;
    let (status, _) = org.call(&alice, Method::PUT, &mine, json!({"metadata": {"userName": "alice2"}})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) =
        org.call(&org.owner, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_run_on_an_identity_blocks_its_deletion_even_without_a_credentials_id() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    let id = org.identity("hpc-main").await;
    // A run whose target names the identity only (launched before its credentials id was known).
    let target =
        json!({"platform": "slurm-platform", "config": {"hostName": "h.org", "managedIdentityId": id}});
    app.run_sql(&format!(
        "INSERT INTO runs (id, workspace_id, launched_by, run_name, pipeline, target, status, stage, \
         created_at, updated_at) VALUES ('2k0K4WlGep8ZTM', {}, 1, 'early', 'nf-core/demo', '{target}', \
         'SUBMITTED', 'provisioning', 1, 1)",
        org.ws_id
    ))
    .await;
    let (status, conflict) =
        org.call(&org.owner, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["conflicts"][0]["name"], "early");
}
