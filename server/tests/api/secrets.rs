use crate::helpers::*;
use app::model::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;

async fn create(
    app: &TestApp,
    who: &Client,
    scope: &str,
    name: &str,
    value: &str,
) -> (StatusCode, serde_json::Value) {
    app.send_json(
        who,
        Method::POST,
        &format!("/api/pipeline-secrets{scope}"),
        json!({ "name": name, "value": value }),
    )
    .await
}

#[tokio::test]
async fn workspace_secrets_follow_the_role_table() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let scope = format!("?workspaceId={ws_id}");
    for role in Role::ALL {
        let email = format!("{role}-member@example.org");
        let user = app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, role.as_str()).await;
        let may_write = matches!(role, Role::Owner | Role::Admin | Role::Maintain);
        let name = format!("SECRET_{}", role.as_str().to_uppercase());

        let (status, body) = create(&app, &user, &scope, &name, "v1").await;
        assert_eq!(
            status,
            if may_write { StatusCode::OK } else { StatusCode::FORBIDDEN },
            "{role} creates: {body}"
        );
        // Everyone reads names and dates; make sure there is a secret to read for those who can't write.
        let id = match body["secretId"].as_i64() {
            Some(id) => id,
            None => create(&app, &admin, &scope, &name, "v1").await.1["secretId"].as_i64().unwrap(),
        };
        let (status, list) = app.get_json(&user, &format!("/api/pipeline-secrets{scope}")).await;
        assert_eq!(status, StatusCode::OK, "{role} lists");
        assert!(list["pipelineSecrets"].as_array().unwrap().iter().any(|s| s["name"] == name.as_str()));
        let (status, _) = app.get_json(&user, &format!("/api/pipeline-secrets/{id}{scope}")).await;
        assert_eq!(status, StatusCode::OK, "{role} describes");

        let write = |ok| if may_write { ok } else { StatusCode::FORBIDDEN };
        let (status, _) = app
            .send_json(
                &user,
                Method::PUT,
                &format!("/api/pipeline-secrets/{id}{scope}"),
                json!({"value": "v2"}),
            )
            .await;
        assert_eq!(status, write(StatusCode::NO_CONTENT), "{role} updates");
        let (status, _) = app
            .send_json(&user, Method::DELETE, &format!("/api/pipeline-secrets/{id}{scope}"), json!({}))
            .await;
        assert_eq!(status, write(StatusCode::NO_CONTENT), "{role} deletes");
        let (status, _) = app.get_json(&admin, &format!("/api/pipeline-secrets/{id}{scope}")).await;
        assert_eq!(
            status,
            if may_write { StatusCode::NOT_FOUND } else { StatusCode::OK },
            "{role}: deleted only if allowed"
        );
    }
}

#[tokio::test]
async fn secrets_have_the_seqera_shapes_and_never_a_value() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let canary = "canary-7f3a9c1e-never-shown";
    let (status, created) =
        create(&app, &admin, &format!("?workspaceId={ws_id}"), "DB_PASSWORD", canary).await;
    assert_eq!(status, StatusCode::OK);
    let id = created["secretId"].as_i64().unwrap();
    let list_response = app.get(&admin, &format!("/api/pipeline-secrets?workspaceId={ws_id}")).await;
    let text = list_response.text().await.unwrap();
    assert!(!text.contains(canary));
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["totalSize"], 1);
    let secret = &list["pipelineSecrets"][0];
    assert_eq!(secret["id"], id);
    assert_eq!(secret["name"], "DB_PASSWORD");
    assert!(secret["dateCreated"].as_str().unwrap().ends_with('Z'));
    assert!(secret["lastUpdated"].is_string());
    assert!(secret.get("value").is_none());
    let (_, described) =
        app.get_json(&admin, &format!("/api/pipeline-secrets/{id}?workspaceId={ws_id}")).await;
    assert_eq!(described["pipelineSecret"]["name"], "DB_PASSWORD");
    assert!(!described.to_string().contains(canary));
    // The page that lists workspaces does not carry it either, nor the database file.
    let page = app.get(&admin, "/").await.text().await.unwrap();
    assert!(!page.contains(canary));
    if !is_postgres() {
        for file in ["test.db", "test.db-wal"] {
            let path = app.data_dir.path().join(file);
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{file} holds the plaintext"
                );
            }
        }
    }
}

#[tokio::test]
async fn names_follow_the_rule_and_duplicates_conflict() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let scope = format!("?workspaceId={ws_id}");
    for bad in ["A", "A__B", "MY-SECRET", "1ABC", "__A", "has space", ""] {
        let (status, body) = create(&app, &admin, &scope, bad, "v").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert!(body["message"].is_string());
    }
    let (status, _) = create(&app, &admin, &scope, "TOKEN", "v").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = create(&app, &admin, &scope, "TOKEN", "other").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!body.to_string().contains("other"));
    let v = |name: &str| format!("/api/pipeline-secrets/validate?workspaceId={ws_id}&name={name}");
    assert_eq!(app.get(&admin, &v("TOKEN")).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.get(&admin, &v("FREE_NAME")).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&admin, &v("BAD-NAME")).await.status(), StatusCode::BAD_REQUEST);
    // The same name is free in the caller's own scope.
    assert_eq!(
        app.get(&admin, "/api/pipeline-secrets/validate?name=TOKEN").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn values_are_one_byte_to_64_kib_and_may_span_lines() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (status, _) = create(&app, &admin, "", "EMPTY", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = create(&app, &admin, "", "HUGE", &"x".repeat(64 * 1024 + 1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = create(&app, &admin, "", "BIG", &"x".repeat(64 * 1024)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        create(&app, &admin, "", "PEM_KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        app.send_json(&admin, Method::POST, "/api/pipeline-secrets", json!({"name": "NO_VALUE"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_users_own_secrets_are_theirs_alone() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (status, created) = create(&app, &bob, "", "MY_TOKEN", "bob-only").await;
    assert_eq!(status, StatusCode::OK);
    let id = created["secretId"].as_i64().unwrap();
    let (_, own) = app.get_json(&admin, "/api/pipeline-secrets").await;
    assert_eq!(own["totalSize"], 0, "the instance admin does not see Bob's secrets");
    assert_eq!(app.get(&admin, &format!("/api/pipeline-secrets/{id}")).await.status(), StatusCode::NOT_FOUND);
    let (status, _) = app
        .send_json(&admin, Method::PUT, &format!("/api/pipeline-secrets/{id}"), json!({"value": "x"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        app.send_json(&admin, Method::DELETE, &format!("/api/pipeline-secrets/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, mine) = app.get_json(&bob, "/api/pipeline-secrets").await;
    assert_eq!(mine["totalSize"], 1);
}

#[tokio::test]
async fn secret_ids_from_another_workspace_are_not_found_and_untouched() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (_, ws_a) = app.org_and_workspace(&admin, "alpha").await;
    let (_, ws_b) = app.org_and_workspace(&bob, "beta").await;
    let (_, created) = create(&app, &bob, &format!("?workspaceId={ws_b}"), "BETA_KEY", "b").await;
    let id = created["secretId"].as_i64().unwrap();
    // The admin owns workspace A and names B's secret through it.
    assert_eq!(
        app.get(&admin, &format!("/api/pipeline-secrets/{id}?workspaceId={ws_a}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = app
        .send_json(
            &admin,
            Method::DELETE,
            &format!("/api/pipeline-secrets/{id}?workspaceId={ws_a}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // And B itself is not theirs.
    assert_eq!(
        app.get(&admin, &format!("/api/pipeline-secrets?workspaceId={ws_b}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, list) = app.get_json(&bob, &format!("/api/pipeline-secrets?workspaceId={ws_b}")).await;
    assert_eq!(list["totalSize"], 1);
}

#[tokio::test]
async fn a_personal_secret_overriding_a_workspace_secret_is_flagged_in_both_lists_for_its_owner_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "overrides").await;
    let member = app.user(&admin, "member@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "member@example.org", "launch").await;
    let scope = format!("?workspaceId={ws_id}");
    for name in ["SHARED", "WORKSPACE_ONLY"] {
        assert_eq!(create(&app, &admin, &scope, name, "w").await.0, StatusCode::OK);
    }
    for name in ["SHARED", "MINE_ONLY"] {
        assert_eq!(create(&app, &member, "", name, "m").await.0, StatusCode::OK);
    }
    let list = |who: Client, workspace: i64| {
        let app = &app;
        async move {
            let ws = workspace.to_string();
            let response = app.sfn(&who, "list_secrets", &[("workspace_id", &ws), ("search", "")]).await;
            assert_eq!(response.status(), StatusCode::OK);
            let list: serde_json::Value = response.json().await.unwrap();
            list.as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let name = s["name"].as_str().unwrap().to_string();
                    (name, s["overridden_by_yours"].as_bool().unwrap(), s["overrides_in"].to_string())
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(member.clone(), ws_id).await,
        vec![("SHARED".into(), true, "[]".into()), ("WORKSPACE_ONLY".into(), false, "[]".into())]
    );
    assert_eq!(
        list(member.clone(), 0).await,
        vec![
            ("MINE_ONLY".into(), false, "[]".into()),
            ("SHARED".into(), false, r#"["overrides / main"]"#.into())
        ]
    );
    // The administrator has no personal SHARED: nothing is flagged for them.
    assert!(list(admin.clone(), ws_id).await.iter().all(|(_, flagged, _)| !flagged));
    // The REST API keeps Seqera's shape: no badge fields there.
    let (_, rest) = app.get_json(&member, &format!("/api/pipeline-secrets{scope}")).await;
    assert!(rest["pipelineSecrets"][0].get("overridden_by_yours").is_none(), "{rest}");
    // Leaving the workspace ends the override.
    let (_, participants) =
        app.get_json(&admin, &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants")).await;
    let participant = participants["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "member@example.org")
        .unwrap()["participantId"]
        .as_i64()
        .unwrap();
    let path = format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants/{participant}");
    assert_eq!(app.send_json(&admin, Method::DELETE, &path, json!({})).await.0, StatusCode::NO_CONTENT);
    assert!(list(member, 0).await.iter().all(|(_, _, places)| places == "[]"));
}

/// The list's filter matches a name's text as typed: `_` and `%` are themselves, not wildcards
/// (a search for `DB_PASS` found nothing while underscores were dropped from the pattern).
#[tokio::test]
async fn the_name_filter_matches_underscores_and_percent_signs_literally() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let scope = format!("?workspaceId={ws_id}");
    for name in ["DB_PASSWORD", "DBXPASSWORD", "API_KEY"] {
        assert_eq!(create(&app, &admin, &scope, name, "v").await.0, StatusCode::OK);
    }
    let ws = ws_id.to_string();
    for (search, expected) in [
        ("DB_PASS", vec!["DB_PASSWORD"]),
        ("db_password", vec!["DB_PASSWORD"]),
        ("_", vec!["API_KEY", "DB_PASSWORD"]),
        ("%", vec![]),
        ("!", vec![]),
        ("", vec!["API_KEY", "DBXPASSWORD", "DB_PASSWORD"]),
    ] {
        let response = app.sfn(&admin, "list_secrets", &[("workspace_id", &ws), ("search", search)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{search}");
        let list: serde_json::Value = response.json().await.unwrap();
        let mut names: Vec<&str> =
            list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        // Sorted here: PostgreSQL's collation may order `_` differently from SQLite.
        names.sort_unstable();
        assert_eq!(names, expected, "search {search:?}");
    }
}
