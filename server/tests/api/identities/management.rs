//! Managed identities themselves: owners create, describe, update and delete them in Seqera's
//! shapes; members list and describe them but cannot change them; other organizations' users do
//! not learn they exist; what an owner gives is checked with messages that say what to fix.

use super::Org;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PIN: &str = "SHA256:iX8O8CcwQFAS6ojwyrggi0EFMvkenWV6zAuSOxlnnKI";

#[tokio::test]
async fn owners_create_describe_update_and_delete_identities_in_seqeras_shape() {
    let app = spawn_app().await;
    // An owner who is not an instance administrator.
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, "owner@example.org").await;
    let org = Org::owned_by(&app, owner, "genomics").await;
    let body = json!({"name": "hpc-main", "platform": "lsf-platform",
        "config": {"discriminator": "lsf", "hostName": "login.hpc.example.org", "port": 2222}});
    let (status, created) = org.call(&org.owner, Method::POST, "/api/identities", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["name"], "hpc-main");
    assert_eq!(created["platform"], "lsf-platform");
    assert_eq!(created["config"]["hostName"], "login.hpc.example.org");
    assert_eq!(created["config"]["port"], 2222);
    assert_eq!(created["config"]["discriminator"], "lsf");
    assert_eq!(created["config"]["hostKeyFingerprint"], Value::Null, "not pinned until given or checked");

    // A login node on a loopback or private address needs the instance administrator's listing:
    // otherwise a Check would let an organization probe the Strongroom host's own network.
    for inward in ["127.0.0.1", "10.0.0.5", "169.254.169.254"] {
        let body = json!({"name": "inward", "platform": "altair-platform", "config": {"hostName": inward}});
        let (status, refusal) = org.call(&org.owner, Method::POST, "/api/identities", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{inward}: {refusal}");
        let message = refusal["message"].as_str().unwrap();
        assert!(message.contains("STRONGROOM_ENDPOINT_ALLOW"), "{message}");
    }
    let second = json!({"name": "pbs", "platform": "altair-platform", "config": {"hostName": "192.0.2.10"}});
    let (status, pbs) = org.call(&org.owner, Method::POST, "/api/identities", second).await;
    assert_eq!(status, StatusCode::OK, "{pbs}");
    assert_eq!(pbs["config"]["port"], 22, "the port defaults to SSH's");

    let (status, list) = org.call(&org.owner, Method::GET, "/api/identities", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalSize"], 2);
    let names: Vec<&str> =
        list["managedIdentities"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hpc-main", "pbs"]);
    let (_, found) = org
        .call(&org.owner, Method::GET, "/api/identities?search=platform:altair-platform", Value::Null)
        .await;
    assert_eq!(
        (found["totalSize"].as_i64(), found["managedIdentities"][0]["name"].as_str()),
        (Some(1), Some("pbs"))
    );
    let (_, page) = org.call(&org.owner, Method::GET, "/api/identities?max=1&offset=1", Value::Null).await;
    assert_eq!(
        (page["totalSize"].as_i64(), page["managedIdentities"][0]["name"].as_str()),
        (Some(2), Some("pbs"))
    );

    // Update: rename and pin the host key; absent fields stay; null unpins.
    let change = json!({"managedIdentity": {"name": "hpc", "platform": "lsf-platform",
        "config": {"hostKeyFingerprint": PIN}}});
    let (status, body) = org.call(&org.owner, Method::PUT, &format!("/api/identities/{id}"), change).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, described) =
        org.call(&org.owner, Method::GET, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(described["name"], "hpc");
    assert_eq!(described["config"]["port"], 2222, "absent fields stay");
    assert_eq!(described["config"]["hostKeyFingerprint"], PIN);
    let unpin = json!({"managedIdentity": {"config": {"hostKeyFingerprint": null}}});
    let (status, _) = org.call(&org.owner, Method::PUT, &format!("/api/identities/{id}"), unpin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, described) =
        org.call(&org.owner, Method::GET, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(described["config"]["hostKeyFingerprint"], Value::Null);
    let moved = json!({"managedIdentity": {"platform": "slurm-platform"}});
    let (status, body) = org.call(&org.owner, Method::PUT, &format!("/api/identities/{id}"), moved).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("cannot change"), "{body}");

    let (status, _) = org
        .call(&org.owner, Method::DELETE, &format!("/api/identities/{id}?checked=true"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = org.call(&org.owner, Method::GET, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every change is in the audit trail, by name and id.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'managed_identity.%' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(
        actions,
        [
            "managed_identity.created",
            "managed_identity.created",
            "managed_identity.updated",
            "managed_identity.updated",
            "managed_identity.deleted"
        ]
    );
}

#[tokio::test]
async fn members_read_identities_owners_and_instance_admins_manage_them_outsiders_see_nothing() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, "owner@example.org").await;
    let org = Org::owned_by(&app, owner, "genomics").await;
    let id = org.identity("hpc-main").await;
    let member = app.user(&admin, "member@example.org").await;
    app.add_participant(&org.owner, org.id, org.ws_id, "member@example.org", "admin").await;
    let (status, list) = org.call(&member, Method::GET, "/api/identities", Value::Null).await;
    assert_eq!((status, list["totalSize"].as_i64()), (StatusCode::OK, Some(1)));
    let (status, _) = org.call(&member, Method::GET, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    // Even a workspace admin is not an organization owner.
    let body = json!({"name": "mine", "platform": "slurm-platform", "config": {"hostName": "h.example.org"}});
    let (status, refusal) = org.call(&member, Method::POST, "/api/identities", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert!(refusal["message"].as_str().unwrap().contains("owners"), "{refusal}");
    let rename = json!({"managedIdentity": {"name": "renamed"}});
    let (status, _) = org.call(&member, Method::PUT, &format!("/api/identities/{id}"), rename.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = org.call(&member, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another organization's user: "not found", for the list and for the identity.
    let stranger = app.user(&admin, "stranger@example.org").await;
    let elsewhere = Org::owned_by(&app, stranger, "other").await;
    for path in ["/api/identities".to_string(), format!("/api/identities/{id}")] {
        let (status, _) = org.call(&elsewhere.owner, Method::GET, &path, Value::Null).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // Their own orgId with this organization's identity id: still not found.
    let (status, _) =
        elsewhere.call(&elsewhere.owner, Method::GET, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        elsewhere.call(&elsewhere.owner, Method::DELETE, &format!("/api/identities/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The instance administrator takes no part in the organization and still manages it.
    let (status, made) = org.call(&admin, Method::POST, "/api/identities", body).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (status, _) = org.call(&admin, Method::PUT, &format!("/api/identities/{id}"), rename).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The UI's server functions answer the same.
    let response = app
        .sfn(&member, "delete_identity", &[("org_id", &org.id.to_string()), ("identity_id", &id.to_string())])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Signed out: 401.
    let (status, _) = org.call(&client(), Method::GET, "/api/identities", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn what_an_owner_gives_is_checked_and_each_refusal_says_what_to_fix() {
    let app = spawn_app().await;
    let org = Org::new(&app, "genomics").await;
    org.identity("hpc-main").await;
    let cases = [
        (json!({"name": "k8s", "platform": "aws-batch", "config": {"hostName": "h.org"}}), "slurm-platform"),
        (
            json!({"name": "k8s", "platform": "k8s-platform", "config": {"hostName": "h.org"}}),
            "Unknown platform",
        ),
        (json!({"name": "x", "platform": "slurm-platform", "config": {"hostName": "h.org"}}), "2 to 39"),
        (
            json!({"name": "HPC-MAIN", "platform": "slurm-platform", "config": {"hostName": "h.org"}}),
            "already has",
        ),
        (json!({"name": "b1", "platform": "slurm-platform", "config": {}}), "host name"),
        (
            json!({"name": "b2", "platform": "slurm-platform", "config": {"hostName": "user@host"}}),
            "DNS name",
        ),
        (
            json!({"name": "b3", "platform": "slurm-platform", "config": {"hostName": "h.org", "port": 0}}),
            "1 to 65535",
        ),
        (
            json!({"name": "b4", "platform": "slurm-platform",
                   "config": {"hostName": "h.org", "workDir": "/scratch"}}),
            "workDir belongs to the compute environment",
        ),
        (
            json!({"name": "b5", "platform": "slurm-platform",
                   "config": {"hostName": "h.org", "hostKeyFingerprint": "MD5:ab"}}),
            "SHA256: followed by 43",
        ),
    ];
    for (body, says) in cases {
        let (status, refusal) = org.call(&org.owner, Method::POST, "/api/identities", body.clone()).await;
        let expected = if says == "already has" { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
        assert_eq!(status, expected, "{body} -> {refusal}");
        let message = refusal["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let (status, refusal) = app.get_json(&org.owner, "/api/identities").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refusal["message"].as_str().unwrap().contains("orgId"), "{refusal}");
}
