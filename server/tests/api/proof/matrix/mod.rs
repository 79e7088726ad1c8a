//! The role × operation matrix, built from the router: every REST route and method and every
//! server function the live router serves (`proof::routes`) is sent, over the real HTTP stack,
//! as each of eleven principals, and must answer what the one rule table
//! (`expectations::OPERATIONS`, derived through `Role::allows`) says. An operation the router
//! serves that the table does not name fails the test, and so does a table entry the router no
//! longer serves.

mod expectations;
mod id_swap;
mod principals;
mod requests;

use super::routes::application_routes;
use crate::helpers::*;
use expectations::{expect, Outcome, Rule, OPERATIONS, RUN_LAST};
use principals::{Principal, World};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The operations the router serves, as `METHOD path-template`: the REST API's and the server
/// functions' (pages and the operations endpoints are not authorization decisions).
async fn routed_operations(app: &TestApp) -> BTreeSet<String> {
    let mut operations = BTreeSet::new();
    for route in application_routes(app).await {
        if !(route.path.starts_with("/api/") || route.path.starts_with("/sfn/")) {
            continue;
        }
        operations.extend(route_operations(&route));
    }
    operations
}

/// One routed path's operations: one per method it handles, or `ANY` for a path routed for
/// every method (`axum::routing::any`, which routes them all to the method router's fallback, so
/// the parse lists no method for it).
pub fn route_operations(route: &super::routes::RoutedPath) -> Vec<String> {
    let every = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    if route.methods.is_empty()
        || route.methods.contains("ANY")
        || every.iter().all(|m| route.methods.contains(*m))
    {
        return vec![format!("ANY {}", route.path)];
    }
    route
        .methods
        .iter()
        // axum answers HEAD and OPTIONS itself from the GET handler; they decide nothing new.
        .filter(|method| *method != "HEAD" && *method != "OPTIONS")
        .map(|method| format!("{method} {}", route.path))
        .collect()
}

/// Checks that the table and the router name the same operations.
fn check_table_covers(routed: &BTreeSet<String>) {
    let table: BTreeSet<String> = OPERATIONS.iter().map(|(key, _, _)| key.to_string()).collect();
    let missing: Vec<&String> = routed.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "operations the router serves that the matrix's rule table (proof/matrix/expectations.rs) does \
         not name; add each with the rule that guards it: {missing:?}"
    );
    let stale: Vec<&String> = table.difference(routed).collect();
    assert!(stale.is_empty(), "rule table entries the router does not serve: {stale:?}");
}

/// Sends one (operation, principal) pair; returns a mismatch, if any.
async fn run_pair(
    app: &TestApp,
    world: &World,
    key: &str,
    rule: Rule,
    fresh: expectations::Fresh,
    who: Principal,
) -> Option<String> {
    let target = requests::prepare(app, world, fresh, who).await;
    let ids = world.ids();
    let request = requests::build(key, app, world, &ids, &target);
    let client = target.client.clone().unwrap_or_else(|| world.client(who));
    let response = request.send(app, &client).await;
    let status = response.status();
    let redirects = status.is_redirection() && response.headers().contains_key("location");
    let expected = expect(rule, who);
    let met = match expected {
        Outcome::Allowed => status.is_success() || redirects,
        Outcome::Refused(code) => status.as_u16() == code,
    };
    if met {
        return None;
    }
    let body: String = response.text().await.unwrap_or_default().chars().take(200).collect();
    Some(format!(
        "{key} ({} {}) as {}: expected {expected:?} ({rule:?}), got {status} {body}",
        request.method,
        request.path,
        who.label()
    ))
}

#[tokio::test]
async fn every_operation_answers_every_principal_as_the_role_table_says() {
    let started = Instant::now();
    // No background jobs: launched runs stay live, so their tokens and copies stay put.
    let app = spawn_app_with(|c| c.workers = 0).await;
    let world = World::build(&app).await;
    let routed = routed_operations(&app).await;
    check_table_covers(&routed);

    let table: BTreeMap<&str, _> =
        OPERATIONS.iter().map(|(key, rule, fresh)| (*key, (*rule, *fresh))).collect();
    let (last, first): (Vec<&str>, Vec<&str>) = table.keys().copied().partition(|key| RUN_LAST.contains(key));
    let principals = Principal::all();
    let (mut pairs, mut mismatches) = (0usize, Vec::new());
    let mut allowed_pairs = 0usize;
    for key in first.into_iter().chain(last) {
        let (rule, fresh) = table[key];
        for who in &principals {
            pairs += 1;
            allowed_pairs += usize::from(expect(rule, *who) == Outcome::Allowed);
            if let Some(mismatch) = run_pair(&app, &world, key, rule, fresh, *who).await {
                mismatches.push(mismatch);
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {pairs} pairs answered otherwise:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    println!(
        "role matrix: {} operations ({} REST, {} server functions) × {} principals = {pairs} pairs \
         ({allowed_pairs} allowed, {} refused), {:.1} s",
        table.len(),
        table.keys().filter(|k| !k.starts_with("POST /sfn/")).count(),
        table.keys().filter(|k| k.starts_with("POST /sfn/")).count(),
        principals.len(),
        pairs - allowed_pairs,
        started.elapsed().as_secs_f64()
    );
}
