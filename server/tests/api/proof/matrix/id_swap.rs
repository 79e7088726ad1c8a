//! Id swaps: the owner of another workspace (in another organization) sends every operation with
//! its own workspace, organization and objects, except for one id parameter, which names the
//! matrix workspace's object instead (its secret, environment, credentials, run, participant,
//! token, managed identity or managed credentials, or the workspace or organization itself).
//! Each answer must be "not found" (or the refusal the caller gets on its own objects anyway),
//! and the database must be exactly as before.
//!
//! Which parameters an operation takes is found out, not listed: a parameter is swapped when a
//! marker id given for it shows up in the operation's request.

use super::expectations::{expect, Fresh, Outcome, OPERATIONS, RUN_LAST};
use super::principals::{id_of, ok, Principal, World};
use super::requests::{self, Body, Ids, Req, Target};
use crate::helpers::*;
use crate::proof::db_dump::{appended_audit_entries, differences, dump};
use crate::proof::routes::application_routes;
use app::model::Role;
use reqwest::{Client, Method};
use serde_json::json;
use std::time::Instant;

/// The parameters swapped, in groups of names that mean the same object.
const SWAPPED: &[&[&str]] = &[
    &["org_id"],
    &["workspace_id"],
    &["secret_id"],
    &["compute_env_id"],
    &["credentials_id"],
    &["workflow_id"],
    &["participant_id"],
    &["token_id"],
    &["managed_identity_id", "identity_id"],
    &["managed_credentials_id"],
];

const MARKER: &str = "987654321";

/// The attacker's own workspace, with one of every object, by parameter name.
async fn attacker_ids(app: &TestApp, world: &World, attacker: &Client) -> Ids {
    let (org, ws) = (world.other_org, world.other_ws);
    let mut ids = world.ids();
    ids.insert("org_id", org.to_string());
    ids.insert("workspace_id", ws.to_string());
    let secret = json!({"name": "THEIR_SECRET", "value": "their-value"});
    let path = format!("/api/pipeline-secrets?workspaceId={ws}");
    ids.insert("secret_id", id_of(&ok(app, attacker, Method::POST, &path, secret).await["secretId"]));
    let envs =
        ok(app, attacker, Method::GET, &format!("/api/compute-envs?workspaceId={ws}"), json!(null)).await;
    ids.insert("compute_env_id", id_of(&envs["computeEnvs"][0]["id"]));
    let path = format!("/api/credentials?workspaceId={ws}");
    let created = ok(app, attacker, Method::POST, &path, world.credentials_body()).await;
    ids.insert("credentials_id", id_of(&created["credentialsId"]));
    let path = format!("/api/workflow/launch?workspaceId={ws}");
    let launch = json!({"launch": {"pipeline": "nf-core/demo", "computeEnvId": ids["compute_env_id"]}});
    let run = ok(app, attacker, Method::POST, &path, launch).await;
    ids.insert("workflow_id", id_of(&run["workflowId"]));
    let (email, _) = world.new_account(app).await;
    ids.insert("participant_id", app.add_participant(attacker, org, ws, &email, "view").await.to_string());
    ids.insert("token_id", world.new_token(app, attacker).await.unwrap());
    let path = format!("/api/identities?orgId={org}");
    let identity = id_of(&ok(app, attacker, Method::POST, &path, world.identity_body()).await["id"]);
    ids.insert("managed_identity_id", identity.clone());
    ids.insert("identity_id", identity.clone());
    let mine = world.register_cluster_credentials_in(app, attacker, org, identity.parse().unwrap()).await;
    ids.insert("managed_credentials_id", mine.expect("the attacker registers in its own organization"));
    // Accounts that take part in nothing of the attacker's, for the add and disable calls.
    let (email, user_id) = world.new_account(app).await;
    ids.insert("email", email);
    ids.insert("user_id", user_id);
    ids
}

/// Whether the operation uses up the object it names (a delete), so is tried once, last.
fn consumes_its_object(key: &str) -> bool {
    OPERATIONS.iter().any(|(k, _, fresh)| *k == key && *fresh != Fresh::Nothing)
}

/// The request's method, path and body as text, to look for the marker in.
fn text(request: &Req) -> String {
    let body = match &request.body {
        Body::None => String::new(),
        Body::Json(value) => value.to_string(),
        Body::Form(fields) => format!("{fields:?}"),
    };
    format!("{} {} {body}", request.method, request.path)
}

#[tokio::test]
async fn another_workspaces_ids_are_not_found_and_change_nothing() {
    let started = Instant::now();
    let app = spawn_app_with(|c| c.workers = 0).await;
    let world = World::build(&app).await;
    let routes = application_routes(&app).await;
    let routed: std::collections::BTreeSet<String> = routes
        .iter()
        .filter(|r| r.path.starts_with("/api/") || r.path.starts_with("/sfn/"))
        .flat_map(super::route_operations)
        .collect();
    let attacker = world.client(Principal::OtherWorkspace);
    let theirs = attacker_ids(&app, &world, &attacker).await;
    let victims = world.ids();

    let before = dump(&app).await;
    let (mut swaps, mut wrong, mut swapped_operations) = (0usize, Vec::new(), Vec::new());
    let mut like_missing = Vec::new();
    for (key, rule, _) in OPERATIONS.iter().filter(|(key, _, _)| !RUN_LAST.contains(key)) {
        assert!(routed.contains(*key), "{key} is not routed");
        // The attacker owns its workspace and organization: what it gets on its own objects.
        let own = expect(*rule, Principal::Member(Role::Owner));
        let expected = if own == Outcome::Allowed { Outcome::Refused(404) } else { own };
        let mut swapped_here = false;
        for group in SWAPPED {
            let mut marked = theirs.clone();
            for name in *group {
                marked.insert(*name, MARKER.to_string());
            }
            let probe = requests::build(key, &app, &world, &marked, &Target::default());
            if !text(&probe).contains(MARKER) {
                continue;
            }
            let mut swapped = theirs.clone();
            for name in *group {
                swapped.insert(*name, victims[*name].clone());
            }
            let request = requests::build(key, &app, &world, &swapped, &Target::default());
            let response = request.send(&app, &attacker).await;
            swaps += 1;
            swapped_here = true;
            let status = response.status().as_u16();
            if Outcome::Refused(status) == expected {
                continue;
            }
            // An id in a request body that names nothing usable may be a 400 rather than a 404;
            // that is as good only if it is exactly the answer for an id that does not exist.
            let body = response.text().await.unwrap_or_default();
            let missing = probe.send(&app, &attacker).await;
            let missing = (missing.status().as_u16(), missing.text().await.unwrap_or_default());
            if (400..500).contains(&status) && missing == (status, body.clone()) {
                like_missing.push(format!("{key} {group:?}: {status}"));
                continue;
            }
            let body: String = body.chars().take(200).collect();
            wrong.push(format!(
                "{key} with the other workspace's {group:?} ({} {}): expected {expected:?} or the answer \
                 for a missing id ({} {}), got {status} {body}",
                request.method, request.path, missing.0, missing.1
            ));
        }
        if swapped_here {
            swapped_operations.push(*key);
        }
    }
    let after = dump(&app).await;
    assert!(
        wrong.is_empty(),
        "{} of {swaps} id swaps answered otherwise:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let appended = appended_audit_entries(&app, &before).await;
    let not_denied: Vec<_> = appended.iter().filter(|(_, outcome, _)| outcome != "denied").collect();
    assert!(not_denied.is_empty(), "id swaps wrote audit entries that are not refusals: {not_denied:?}");
    let (mut before, mut after) = (before, after);
    before.remove("audit_log");
    after.remove("audit_log");
    let changed = differences(&before, &after);
    assert!(changed.is_empty(), "id swaps changed the database:\n{}", changed.join("\n"));

    // The control: the same calls with the attacker's own ids are allowed, so each 404 above came
    // from the swapped id and not from a malformed request. (Operations that consume their
    // object, the deletes, are checked on the attacker's objects last, one each.)
    let mut refused_own = Vec::new();
    let (plain, consumed): (Vec<&str>, Vec<&str>) =
        swapped_operations.iter().copied().partition(|key| !consumes_its_object(key));
    // Deletes in reverse table order: a managed identity's credentials before the identity.
    for key in plain.iter().chain(consumed.iter().rev().filter(|k| k.starts_with("DELETE "))) {
        let (_, rule, _) = OPERATIONS.iter().find(|(k, _, _)| k == key).unwrap();
        if expect(*rule, Principal::Member(Role::Owner)) != Outcome::Allowed {
            continue;
        }
        let request = requests::build(key, &app, &world, &theirs, &Target::default());
        let response = request.send(&app, &attacker).await;
        let status = response.status();
        if !(status.is_success() || status.is_redirection()) {
            refused_own.push(format!("{key} ({} {}): {status}", request.method, request.path));
        }
    }
    assert!(
        refused_own.is_empty(),
        "the attacker's own calls were refused, so the swaps prove nothing:\n{}",
        refused_own.join("\n")
    );
    println!(
        "id swaps: {swaps} swaps over {} operations, all refused (404, or for an id in a body the same \
         answer as for a missing id: {like_missing:?}), database unchanged, {:.1} s",
        swapped_operations.len(),
        started.elapsed().as_secs_f64()
    );
}
