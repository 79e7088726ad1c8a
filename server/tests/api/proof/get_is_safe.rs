//! GET never changes state, over the whole router: every routed path (REST, server functions,
//! pages, operations; listed from the live router, see `routes`) is called with GET, its
//! parameters filled with real ids of a seeded workspace, as the workspace owner (session), with
//! the owner's access token, as the instance administrator and signed out; every table is
//! dumped before and after and must be the same, apart from the columns `MOVE_ON_READ` lists
//! and audit entries of refused reads.

use super::db_dump::{appended_audit_entries, differences, dump, MOVE_ON_READ};
use super::routes::{application_routes, RoutedPath};
use super::seed::{seed, Seeded};
use crate::helpers::*;
use reqwest::Client;
use std::collections::{BTreeMap, BTreeSet};

/// The query strings every REST path is also tried with: reads scoped to the seeded workspace
/// (most REST reads need `workspaceId`), and with the seeded organization (`orgId`, Seqera's
/// scope for organization resources) and the name check's `name` as well.
fn query_variants(path: &str, seeded: &Seeded) -> Vec<String> {
    if !path.starts_with("/api/") {
        return vec![String::new()];
    }
    let (ws, org) = (seeded.workspace_id, &seeded.ids["org_id"][0]);
    vec![
        String::new(),
        format!("?workspaceId={ws}"),
        format!("?workspaceId={ws}&orgId={org}&name=PROBE_NAME&max=5"),
    ]
}

/// Every concrete URL path for a routed path: each parameter takes each of its real ids (or, for
/// a parameter not known by name, every seeded id).
fn concrete_paths(route: &RoutedPath, seeded: &Seeded, unknown: &mut BTreeSet<String>) -> Vec<String> {
    let mut paths = vec![route.path.clone()];
    for name in route.params() {
        let values = if name == "rest" {
            vec!["no/such/route".to_string()]
        } else {
            seeded.ids.get(name.as_str()).cloned().unwrap_or_else(|| {
                unknown.insert(format!("{} {{{name}}}", route.path));
                seeded.every_id()
            })
        };
        let (plain, wildcard) = (format!("{{{name}}}"), format!("{{*{name}}}"));
        paths = paths
            .iter()
            .flat_map(|path| {
                values.iter().map(|value| path.replacen(&plain, value, 1).replacen(&wildcard, value, 1))
            })
            .collect();
    }
    paths
}

#[tokio::test]
async fn no_get_anywhere_changes_the_database() {
    // No background jobs: the seeded run must not move on its own while the reads happen.
    let app = spawn_app_with(|c| c.workers = 0).await;
    let seeded = seed(&app).await;
    let routes = application_routes(&app).await;
    let principals: [(&str, Client); 4] = [
        ("owner session", seeded.owner.clone()),
        ("owner token", client_with_bearer(&seeded.owner_token)),
        ("instance admin", seeded.admin.clone()),
        ("signed out", client()),
    ];

    let before = dump(&app).await;
    let mut unknown_params = BTreeSet::new();
    let (mut requests, mut statuses) = (0usize, BTreeMap::<u16, usize>::new());
    let mut served: BTreeMap<&str, bool> = BTreeMap::new();
    let mut server_errors = Vec::new();
    for route in &routes {
        let mut any_success = false;
        for path in concrete_paths(route, &seeded, &mut unknown_params) {
            for query in query_variants(&route.path, &seeded) {
                for (who, client) in &principals {
                    let response = app.get(client, &format!("{path}{query}")).await;
                    let status = response.status();
                    requests += 1;
                    *statuses.entry(status.as_u16()).or_default() += 1;
                    any_success |= status.is_success();
                    if status.is_server_error() {
                        server_errors.push(format!("GET {path}{query} as {who}: {status}"));
                    }
                }
            }
        }
        served.insert(&route.path, any_success);
    }
    let after = dump(&app).await;

    assert!(server_errors.is_empty(), "reads that failed on the server:\n{}", server_errors.join("\n"));
    // Refused reads are audited (`denied`), and that is the only thing a read may append.
    let appended = appended_audit_entries(&app, &before).await;
    let not_denied: Vec<_> = appended.iter().filter(|(_, outcome, _)| outcome != "denied").collect();
    assert!(not_denied.is_empty(), "a GET wrote audit entries that are not refusals: {not_denied:?}");
    let (mut before, mut after) = (before, after);
    let (old_audit, new_audit) = (before.remove("audit_log").unwrap(), after.remove("audit_log").unwrap());
    assert!(old_audit.iter().all(|row| new_audit.contains(row)), "a GET changed an existing audit entry");
    let changed = differences(&before, &after);
    assert!(changed.is_empty(), "GET requests changed the database:\n{}", changed.join("\n"));

    // The control: one request that does change something is seen by the same comparison.
    let token_id = &seeded.ids["token_id"][0];
    let deleted = seeded.owner.delete(app.url(&format!("/api/tokens/{token_id}"))).send().await.unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    let mut changed = dump(&app).await;
    changed.remove("audit_log");
    assert!(!differences(&before, &changed).is_empty(), "the comparison missed a deleted token");

    // The reads were real: every GET route whose parameters the seed knows answered someone.
    let get_routes: Vec<&RoutedPath> = routes.iter().filter(|r| r.has_get()).collect();
    let never_served: Vec<&str> = get_routes
        .iter()
        .filter(|r| !r.path.contains("{*") && r.params().iter().all(|p| seeded.ids.contains_key(p.as_str())))
        // Once set up, the first-visit page only ever redirects.
        .filter(|r| !served[r.path.as_str()] && r.path != "/setup")
        .map(|r| r.path.as_str())
        .collect();
    assert!(never_served.is_empty(), "GET routes no principal got a 2xx from: {never_served:?}");
    let (rest, sfn) = (
        routes.iter().filter(|r| r.path.starts_with("/api/")).count(),
        routes.iter().filter(|r| r.path.starts_with("/sfn/")).count(),
    );
    println!(
        "GET check: {} routes ({rest} REST, {sfn} server functions, {} pages and operations; {} with a GET \
         handler), {requests} requests, statuses {statuses:?}, {} refused reads audited; parameters not \
         known by name (filled with every seeded id): {unknown_params:?}; columns left out: {:?}",
        routes.len(),
        routes.len() - rest - sfn,
        get_routes.len(),
        appended.len(),
        MOVE_ON_READ.iter().map(|(t, c, _)| format!("{t}.{c}")).collect::<Vec<_>>(),
    );
}
