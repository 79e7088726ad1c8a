//! `GET /api/openapi.json` describes exactly what the router serves: every documented operation
//! is routed (and answers one of its documented statuses), and every route is documented.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// `/api/orgs/{org_id}/workspaces` and `/orgs/{orgId}/workspaces` both become `/orgs/{}/workspaces`.
fn normalize(path: &str) -> String {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// `(METHOD, normalized path)` for every `.route(…)` in `server/src/http/rest/mod.rs`, read from its text
/// so a new route that is not documented fails this test.
fn routed_operations() -> BTreeSet<(String, String)> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/rest/mod.rs")).unwrap();
    let mut routes = BTreeSet::new();
    for chunk in source.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).expect("a route's path is a string literal");
        if path.contains("{*") {
            continue; // the catch-all JSON 404
        }
        let handlers = &chunk[chunk.find(path).unwrap() + path.len()..];
        let mut methods = 0;
        for method in ["get", "post", "put", "delete", "patch", "head", "options", "any"] {
            // `get(h)`, `.put(h)`: a method router call, not a handler named `…::delete`.
            let bytes = handlers.as_bytes();
            let mut from = 0;
            while let Some(at) = handlers[from..].find(&format!("{method}(")) {
                let at = from + at;
                let before = at.checked_sub(1).map(|i| bytes[i]);
                if matches!(before, None | Some(b' ' | b'\n' | b'.' | b',' | b'(')) {
                    assert_ne!(method, "any", "{path}: `any` routes cannot be documented per method");
                    routes.insert((method.to_uppercase(), normalize(path)));
                    methods += 1;
                }
                from = at + method.len();
            }
        }
        assert!(methods > 0, "no method found for route {path}");
    }
    assert!(routes.len() >= 10, "parsing mod.rs found too few routes: {routes:?}");
    routes
}

fn documented_operations(doc: &Value) -> Vec<(String, String, Value)> {
    let base = doc["servers"][0]["url"].as_str().unwrap_or("").trim_end_matches('/').to_string();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch", "head", "options", "trace"]
                .contains(&method.as_str())
            {
                ops.push((method.to_uppercase(), format!("{base}{path}"), op.clone()));
            }
        }
    }
    ops
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => refs.push(r.clone()),
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_public_and_openapi_3() {
    let app = spawn_app().await;
    app.setup_admin().await;
    // Signed out: the document is public, as Seqera's is.
    let response = app.get(&client(), "/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Strongroom");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["components"]["securitySchemes"]["BearerAuth"]["scheme"], "bearer");
    // Every reference resolves inside the document.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    // Secret schemas never carry a value out.
    for schema in ["PipelineSecret", "ListPipelineSecretsResponse", "DescribePipelineSecretResponse"] {
        let text = doc["components"]["schemas"][schema].to_string();
        assert!(!text.contains("\"value\""), "{schema} mentions a value");
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let doc: Value = app.get(&client(), "/api/openapi.json").await.json().await.unwrap();
    let ops = documented_operations(&doc);

    let documented: BTreeSet<(String, String)> =
        ops.iter().map(|(m, p, _)| (m.clone(), normalize(p))).collect();
    assert_eq!(documented.len(), ops.len(), "an operation is documented twice");
    let routed = routed_operations();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed but not in openapi.json: {undocumented:?}");
    assert!(unrouted.is_empty(), "in openapi.json but not routed: {unrouted:?}");

    // Real objects for every id in a path.
    let (org_id, ws_id) = app.org_and_workspace(&owner, "openapi").await;
    // Role-only credentials and environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &owner, ws_id).await;
    app.user(&owner, "carol@example.org").await;
    app.user(&owner, "bob@example.org").await;
    let participant_id = app.add_participant(&owner, org_id, ws_id, "carol@example.org", "view").await;
    let (_, token) = app.send_json(&owner, Method::POST, "/api/tokens", json!({"name": "to-delete"})).await;
    let token_id = token["token"]["id"].as_i64().unwrap();
    let (_, secret) = app
        .send_json(&owner, Method::POST, "/api/pipeline-secrets", json!({"name": "EXISTING", "value": "v"}))
        .await;
    let secret_id = secret["secretId"].as_i64().unwrap();
    let (_, envs) = app.get_json(&owner, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    let compute_env_id = envs["computeEnvs"][0]["id"].as_str().unwrap().to_string();
    // Two runs: the trace operations report on one (and complete it), cancel ends the other.
    let launch = json!({
        "launch": {"pipeline": "nf-core/demo", "computeEnvId": compute_env_id, "userSecrets": ["EXISTING"]}
    });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (_, run) = app
            .send_json(
                &owner,
                Method::POST,
                &format!("/api/workflow/launch?workspaceId={ws_id}"),
                launch.clone(),
            )
            .await;
        runs.push(run["workflowId"].as_str().unwrap_or_else(|| panic!("launch failed: {run}")).to_string());
    }
    let aws_keys = json!({"assumeRoleArn": "arn:aws:iam::123456789012:role/strongroom"});
    let (_, credentials) = app
        .send_json(
            &owner,
            Method::POST,
            &format!("/api/credentials?workspaceId={ws_id}"),
            json!({"credentials": {"name": "existing", "provider": "aws", "keys": aws_keys}}),
        )
        .await;
    let credentials_id = credentials["credentialsId"].as_str().unwrap().to_string();
    let aws_batch = json!({"region": "eu-west-1", "computeQueue": "q",
        "executionRole": "arn:aws:iam::123456789012:role/exec"});
    // Two managed identities: the owner's credentials on the first (replaced, then deleted); the
    // second gets new credentials and is deleted with them.
    let org_path = |path: &str| format!("{path}?orgId={org_id}");
    let mut identities = Vec::new();
    for name in ["hpc-one", "hpc-two"] {
        let body =
            json!({"name": name, "platform": "slurm-platform", "config": {"hostName": "h.example.org"}});
        let (_, made) = app.send_json(&owner, Method::POST, &org_path("/api/identities"), body).await;
        identities.push(made["id"].as_i64().unwrap_or_else(|| panic!("identity: {made}")).to_string());
    }
    let ssh_key = crate::identities::TestKey::new(None);
    let path = org_path(&format!("/api/identities/{}/credentials", identities[0]));
    let (_, made) = app.send_json(&owner, Method::POST, &path, ssh_key.request("owner")).await;
    let managed_credentials_id = made["managedCredentials"]["id"].as_i64().unwrap().to_string();

    // Deletes last, so every other operation still finds its object.
    let mut ops = ops;
    ops.sort_by_key(|(method, path, _)| (method == "DELETE", path.clone()));
    for (method, path, op) in &ops {
        let url = path
            .replace("{orgId}", &org_id.to_string())
            .replace("{workspaceId}", &ws_id.to_string())
            .replace("{participantId}", &participant_id.to_string())
            .replace("{tokenId}", &token_id.to_string())
            .replace("{secretId}", &secret_id.to_string())
            .replace("{computeEnvId}", &compute_env_id)
            .replace("{workflowId}", if path.ends_with("/cancel") { &runs[1] } else { &runs[0] })
            .replace("{credentialsId}", &credentials_id)
            .replace("{managedCredentialsId}", &managed_credentials_id);
        let operation = op["operationId"].as_str().unwrap_or_default();
        // New credentials and the identity delete go to the second identity (see above).
        let second = matches!(operation, "CreateManagedCredentials" | "DeleteManagedIdentity");
        let url = url.replace("{managedIdentityId}", &identities[usize::from(second)]);
        assert!(!url.contains('{'), "no id to substitute in {path}");
        let (url, body) = match operation {
            "CreateOrganization" => {
                (url, json!({"organization": {"name": "openapi2", "fullName": "Second"}}))
            }
            "CreateWorkspace" => {
                (url, json!({"workspace": {"name": "second", "fullName": "Second", "visibility": "PRIVATE"}}))
            }
            "CreateWorkspaceParticipant" => {
                (url, json!({"userNameOrEmail": "bob@example.org", "role": "view"}))
            }
            "UpdateWorkspaceParticipantRole" => (url, json!({"role": "launch"})),
            "CreateToken" => (url, json!({"name": "openapi-token"})),
            "CreatePipelineSecret" => (url, json!({"name": "CREATED", "value": "v"})),
            "UpdatePipelineSecret" => (url, json!({"value": "v2"})),
            "ValidatePipelineSecretName" => (format!("{url}?name=FREE_NAME"), Value::Null),
            "DescribeWorkflow" | "ListWorkflows" | "CancelWorkflow" | "ValidateComputeEnv" => (
                format!("{url}?workspaceId={ws_id}"),
                if operation == "CancelWorkflow" || operation == "ValidateComputeEnv" {
                    json!({})
                } else {
                    Value::Null
                },
            ),
            "CreateWorkflowLaunch" => (format!("{url}?workspaceId={ws_id}"), launch.clone()),
            "CreateTrace" => {
                (format!("{url}?workspaceId={ws_id}"), json!({"workflowId": runs[0], "runName": "traced"}))
            }
            "UpdateTraceBegin" => (url, json!({"workflow": {"id": runs[0]}, "processNames": []})),
            "UpdateTraceProgress" => (url, json!({"tasks": [], "progress": {}})),
            "UpdateTraceHeartbeat" => (url, json!({"progress": {}})),
            "UpdateTraceComplete" => (url, json!({"workflow": {"id": runs[0], "success": true}})),
            "ListComputeEnvs"
            | "DescribeComputeEnv"
            | "DescribeComputeEnvIdentity"
            | "DeleteComputeEnv"
            | "ListCredentials"
            | "DescribeCredentials"
            | "DeleteCredentials" => (format!("{url}?workspaceId={ws_id}"), Value::Null),
            "CreateCredentials" => (
                format!("{url}?workspaceId={ws_id}"),
                json!({"credentials": {"name": "created", "provider": "aws", "keys": aws_keys}}),
            ),
            "UpdateCredentials" => {
                (format!("{url}?workspaceId={ws_id}"), json!({"credentials": {"keys": aws_keys}}))
            }
            "CreateComputeEnv" => (
                format!("{url}?workspaceId={ws_id}"),
                json!({"computeEnv": {"name": "created", "platform": "aws-batch", "config": aws_batch}}),
            ),
            "UpdateComputeEnv" => (format!("{url}?workspaceId={ws_id}"), json!({"name": "renamed"})),
            "SetWorkspaceHostIdentity" => (url, json!({"allowed": true})),
            "ListManagedIdentities"
            | "DescribeManagedIdentity"
            | "DeleteManagedIdentity"
            | "ListManagedCredentials"
            | "DeleteManagedCredentials" => (org_path(&url), Value::Null),
            "CreateManagedIdentity" => (
                org_path(&url),
                json!({"name": "hpc-three", "platform": "uge-platform",
                       "config": {"hostName": "h.example.org"}}),
            ),
            "UpdateManagedIdentity" => (org_path(&url), json!({"managedIdentity": {"name": "hpc-renamed"}})),
            "CreateManagedCredentials" => {
                (org_path(&url), crate::identities::TestKey::new(None).request("owner"))
            }
            "UpdateManagedCredentials" => (org_path(&url), json!({"metadata": {"userName": "owner2"}})),
            _ => (url, Value::Null),
        };
        let mut request = owner.request(method.parse::<Method>().unwrap(), app.url(&url));
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let what = format!("{method} {url} ({operation}) answered {status}: {text}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "not routed: {what}");
        let message =
            serde_json::from_str::<Value>(&text).ok().and_then(|b| b["message"].as_str().map(String::from));
        assert!(
            !(status == StatusCode::NOT_FOUND && message.as_deref() == Some("No such API endpoint.")),
            "not routed: {what}"
        );
        if operation == "CreateRunIdentityToken" {
            // Only a managed run's own run token gets one (oidc::aws_managed proves it); the
            // owner's session is refused, as documented.
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            assert!(op["responses"].get(status.as_str()).is_some(), "undocumented status: {what}");
            continue;
        }
        // With real objects and valid bodies, every operation succeeds as documented.
        assert!(status.is_success(), "{what}");
        assert!(op["responses"].get(status.as_str()).is_some(), "undocumented status: {what}");
    }

    // The check can fail: a path the router lacks is told apart from a missing object.
    let (status, body) = app.get_json(&owner, "/api/not-a-route").await;
    assert_eq!((status, body["message"].as_str()), (StatusCode::NOT_FOUND, Some("No such API endpoint.")));
    let (status, body) = app.get_json(&owner, "/api/pipeline-secrets/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(body["message"].as_str(), Some("No such API endpoint."));
}
