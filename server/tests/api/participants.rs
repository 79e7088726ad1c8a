use crate::helpers::*;
use app::model::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;

struct Workspace {
    org_id: i64,
    ws_id: i64,
}

impl Workspace {
    fn path(&self, rest: &str) -> String {
        format!("/api/orgs/{}/workspaces/{}/participants{rest}", self.org_id, self.ws_id)
    }
}

async fn role_of(app: &TestApp, viewer: &Client, ws: &Workspace, email: &str) -> String {
    let (status, body) = app.get_json(viewer, &ws.path("")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == email)
        .map(|p| p["wspRole"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Every role against every participants endpoint: reads for all, changes for owner and admin.
#[tokio::test]
async fn participant_endpoints_follow_the_role_table() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    for role in Role::ALL {
        let email = format!("{role}-member@example.org");
        let user = app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, role.as_str()).await;
        let target_email = format!("target-{role}@example.org");
        app.user(&admin, &target_email).await;
        let target = app.add_participant(&admin, org_id, ws_id, &target_email, "view").await;
        let may_manage = matches!(role, Role::Owner | Role::Admin);
        let expect = |ok: StatusCode| if may_manage { ok } else { StatusCode::FORBIDDEN };

        let (status, _) = app.get_json(&user, &ws.path("")).await;
        assert_eq!(status, StatusCode::OK, "{role} lists participants");

        let (status, body) = app
            .send_json(&user, Method::PUT, &ws.path(&format!("/{target}/role")), json!({"role": "launch"}))
            .await;
        assert_eq!(status, expect(StatusCode::NO_CONTENT), "{role} changes a role: {body}");
        let want = if may_manage { "launch" } else { "view" };
        assert_eq!(role_of(&app, &admin, &ws, &target_email).await, want);

        let newcomer = format!("new-{role}@example.org");
        app.user(&admin, &newcomer).await;
        let (status, body) = app
            .send_json(
                &user,
                Method::PUT,
                &ws.path("/add"),
                json!({"userNameOrEmail": newcomer, "role": "view"}),
            )
            .await;
        assert_eq!(status, expect(StatusCode::OK), "{role} adds: {body}");

        let (status, body) =
            app.send_json(&user, Method::DELETE, &ws.path(&format!("/{target}")), json!({})).await;
        assert_eq!(status, expect(StatusCode::NO_CONTENT), "{role} removes: {body}");
        let still_there = !role_of(&app, &admin, &ws, &target_email).await.is_empty();
        assert_eq!(still_there, !may_manage);
    }
}

#[tokio::test]
async fn a_role_change_applies_to_the_very_next_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    app.user(&admin, "carol@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    let bob_pid = app.add_participant(&admin, org_id, ws_id, "bob@example.org", "admin").await;
    let carol_pid = app.add_participant(&admin, org_id, ws_id, "carol@example.org", "view").await;

    let (status, _) = app
        .send_json(&bob, Method::PUT, &ws.path(&format!("/{carol_pid}/role")), json!({"role": "launch"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .send_json(&admin, Method::PUT, &ws.path(&format!("/{bob_pid}/role")), json!({"role": "view"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .send_json(&bob, Method::PUT, &ws.path(&format!("/{carol_pid}/role")), json!({"role": "maintain"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Bob's demotion is seen at once");
    assert_eq!(role_of(&app, &admin, &ws, "carol@example.org").await, "launch");
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    let (_, body) = app.get_json(&admin, &ws.path("")).await;
    let owner_pid = body["participants"][0]["participantId"].as_i64().unwrap();

    let (status, body) = app
        .send_json(&admin, Method::PUT, &ws.path(&format!("/{owner_pid}/role")), json!({"role": "admin"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("last owner"), "{body}");
    let (status, body) =
        app.send_json(&admin, Method::DELETE, &ws.path(&format!("/{owner_pid}")), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("last owner"), "{body}");
    assert_eq!(role_of(&app, &admin, &ws, ADMIN_EMAIL).await, "owner");

    // With a second owner, the first may step down.
    app.user(&admin, "bob@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "bob@example.org", "owner").await;
    let (status, _) = app
        .send_json(&admin, Method::PUT, &ws.path(&format!("/{owner_pid}/role")), json!({"role": "admin"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn admins_cannot_grant_or_take_away_the_owner_role() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    let bob_pid = app.add_participant(&admin, org_id, ws_id, "bob@example.org", "admin").await;
    let (status, _) = app
        .send_json(&bob, Method::PUT, &ws.path(&format!("/{bob_pid}/role")), json!({"role": "owner"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an admin cannot promote themselves");
    let (_, body) = app.get_json(&admin, &ws.path("")).await;
    let owner_pid =
        body["participants"].as_array().unwrap().iter().find(|p| p["wspRole"] == "owner").unwrap()
            ["participantId"]
            .as_i64()
            .unwrap();
    let (status, _) =
        app.send_json(&bob, Method::DELETE, &ws.path(&format!("/{owner_pid}")), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(role_of(&app, &admin, &ws, "bob@example.org").await, "admin");
    assert_eq!(role_of(&app, &admin, &ws, ADMIN_EMAIL).await, "owner");
}

#[tokio::test]
async fn bad_participant_input_gets_clear_errors() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bob@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    let cases = [
        (json!({"userNameOrEmail": "not an email"}), StatusCode::BAD_REQUEST, "email address"),
        (json!({"userNameOrEmail": "ghost@example.org"}), StatusCode::NOT_FOUND, "No Strongroom user"),
        (
            json!({"userNameOrEmail": "bob@example.org", "role": "superuser"}),
            StatusCode::BAD_REQUEST,
            "Unknown role",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "userNameOrEmail"),
    ];
    for (body, status, message) in cases {
        let (got, answer) = app.send_json(&admin, Method::PUT, &ws.path("/add"), body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    app.add_participant(&admin, org_id, ws_id, "bob@example.org", "view").await;
    let (status, answer) = app
        .send_json(&admin, Method::PUT, &ws.path("/add"), json!({"userNameOrEmail": "BOB@example.org"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, _) =
        app.send_json(&admin, Method::PUT, &ws.path("/999999/role"), json!({"role": "view"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send_json(&admin, Method::PUT, &ws.path("/1/role"), json!({"role": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = app.get_json(&admin, &ws.path("")).await;
    assert_eq!(body["totalSize"], 2);
}

#[tokio::test]
async fn ids_from_another_workspace_are_not_found_and_untouched() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (org_a, ws_a) = app.org_and_workspace(&admin, "alpha").await;
    let (org_b, ws_b) = app.org_and_workspace(&bob, "beta").await;
    let a = Workspace { org_id: org_a, ws_id: ws_a };
    let b = Workspace { org_id: org_b, ws_id: ws_b };
    let (_, body) = app.get_json(&bob, &b.path("")).await;
    let bob_pid = body["participants"][0]["participantId"].as_i64().unwrap();

    // The admin owns workspace A; Bob's participant id belongs to B.
    let (status, _) = app
        .send_json(&admin, Method::PUT, &a.path(&format!("/{bob_pid}/role")), json!({"role": "view"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.send_json(&admin, Method::DELETE, &a.path(&format!("/{bob_pid}")), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A workspace id paired with the wrong organization is not found either.
    let mixed = Workspace { org_id: org_a, ws_id: ws_b };
    let (status, _) = app.get_json(&bob, &mixed.path("")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(role_of(&app, &bob, &b, "bob@example.org").await, "owner");

    // A forced change through the UI's server function is refused the same way.
    let r = app
        .sfn(
            &admin,
            "set_participant_role",
            &[
                ("org_id", &org_b.to_string()),
                ("workspace_id", &ws_b.to_string()),
                ("participant_id", &bob_pid.to_string()),
                ("role", "view"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(role_of(&app, &bob, &b, "bob@example.org").await, "owner");
}

#[tokio::test]
async fn a_view_member_forcing_a_role_change_is_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let viewer = app.user(&admin, "viewer@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let pid = app.add_participant(&admin, org_id, ws_id, "viewer@example.org", "view").await;
    let r = app
        .sfn(
            &viewer,
            "set_participant_role",
            &[
                ("org_id", &org_id.to_string()),
                ("workspace_id", &ws_id.to_string()),
                ("participant_id", &pid.to_string()),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let ws = Workspace { org_id, ws_id };
    assert_eq!(role_of(&app, &admin, &ws, "viewer@example.org").await, "view");
}

#[tokio::test]
async fn participants_are_paged_and_searchable() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Workspace { org_id, ws_id };
    for i in 0..5 {
        let email = format!("member{i}@example.org");
        app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, "view").await;
    }
    let (_, page) = app.get_json(&admin, &ws.path("?max=2&offset=1")).await;
    assert_eq!(page["totalSize"], 6);
    assert_eq!(page["participants"].as_array().unwrap().len(), 2);
    let (_, found) = app.get_json(&admin, &ws.path("?search=MEMBER3")).await;
    assert_eq!(found["totalSize"], 1);
    assert_eq!(found["participants"][0]["email"], "member3@example.org");
    let (status, _) = app.get_json(&admin, &ws.path("?max=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
