use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn creator_owns_the_organization_and_its_first_workspace() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let (status, orgs) = app.get_json(&admin, "/api/orgs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orgs["totalSize"], 1);
    assert_eq!(orgs["organizations"][0]["orgId"], org_id);
    assert_eq!(orgs["organizations"][0]["memberRole"], "owner");
    let (_, list) = app.get_json(&admin, &format!("/api/orgs/{org_id}/workspaces")).await;
    assert_eq!(list["workspaces"][0]["id"], ws_id);
    assert_eq!(list["workspaces"][0]["fullName"], "Main workspace");
    let (_, people) =
        app.get_json(&admin, &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants")).await;
    assert_eq!(people["totalSize"], 1);
    assert_eq!(people["participants"][0]["wspRole"], "owner");
}

#[tokio::test]
async fn bad_names_and_duplicates_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, _) = app.org_and_workspace(&admin, "genomics").await;
    let cases = [
        (json!({"organization": {"name": "", "fullName": "x"}}), StatusCode::BAD_REQUEST, "required"),
        (json!({"organization": {"name": "a", "fullName": "x"}}), StatusCode::BAD_REQUEST, "2 to 39"),
        (
            json!({"organization": {"name": "x".repeat(40), "fullName": "x"}}),
            StatusCode::BAD_REQUEST,
            "at most 39",
        ),
        (
            json!({"organization": {"name": "bad name", "fullName": "x"}}),
            StatusCode::BAD_REQUEST,
            "letters or digits",
        ),
        (
            json!({"organization": {"name": "okname", "fullName": ""}}),
            StatusCode::BAD_REQUEST,
            "full name is required",
        ),
        (
            json!({"organization": {"name": "okname", "fullName": "y".repeat(101)}}),
            StatusCode::BAD_REQUEST,
            "at most 100",
        ),
        (
            json!({"organization": {"name": "GENOMICS", "fullName": "dup"}}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (json!({"nonsense": 1}), StatusCode::BAD_REQUEST, "JSON"),
    ];
    for (body, status, message) in cases {
        let (got, answer) = app.send_json(&admin, Method::POST, "/api/orgs", body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body} → {answer}");
    }
    let (_, orgs) = app.get_json(&admin, "/api/orgs").await;
    assert_eq!(orgs["totalSize"], 1);

    let path = format!("/api/orgs/{org_id}/workspaces");
    let dup = json!({"workspace": {"name": "Main", "fullName": "again", "visibility": "PRIVATE"}});
    let (status, answer) = app.send_json(&admin, Method::POST, &path, dup).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (_, list) = app.get_json(&admin, &path).await;
    assert_eq!(list["workspaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn organizations_of_others_are_invisible() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let eve = app.user(&admin, "eve@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let (_, orgs) = app.get_json(&eve, "/api/orgs").await;
    assert_eq!(orgs["totalSize"], 0);
    let (status, _) = app.get_json(&eve, &format!("/api/orgs/{org_id}/workspaces")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        app.get_json(&eve, &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Creating a workspace in someone else's organization: not found, nothing created.
    let body = json!({"workspace": {"name": "sneaky", "fullName": "s", "visibility": "PRIVATE"}});
    let (status, _) =
        app.send_json(&eve, Method::POST, &format!("/api/orgs/{org_id}/workspaces"), body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get_json(&admin, &format!("/api/orgs/{org_id}/workspaces")).await;
    assert_eq!(list["workspaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_organization_owners_create_workspaces() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    app.add_participant(&admin, org_id, ws_id, "bob@example.org", "admin").await;
    let body = json!({"workspace": {"name": "bobs", "fullName": "Bob's", "visibility": "PRIVATE"}});
    let (status, answer) =
        app.send_json(&bob, Method::POST, &format!("/api/orgs/{org_id}/workspaces"), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // Bob sees the organization as a member, through his workspace.
    let (_, orgs) = app.get_json(&bob, "/api/orgs").await;
    assert_eq!(orgs["organizations"][0]["memberRole"], "member");
}

#[tokio::test]
async fn workspace_pages_render_on_the_server_for_participants_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let eve = app.user(&admin, "eve@example.org").await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let path = format!("/orgs/{org_id}/workspaces/{ws_id}/members");
    let page = app.get(&admin, &path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Main workspace"), "SSR must include the workspace name");
    assert!(html.contains(ADMIN_EMAIL), "SSR must include the participants");
    let denied = app.get(&eve, &path).await;
    assert_eq!(denied.status(), StatusCode::NOT_FOUND);
    assert!(!denied.text().await.unwrap().contains("Main workspace"));
}
