//! Every route the application serves, read from the live router at test time, so a route, server
//! function or page added later is covered without editing these tests.
//!
//! axum has no API that lists a router's routes, but its `Debug` output names each route's path
//! template (`RouteId(7): "/api/tokens"`) and, per route, which methods have a handler
//! (`RouteId(7): MethodRouter(MethodRouter { get: Route, head: None, … })`). The router built
//! here is the one `Application::build` serves (`server::http::router::router`), with the REST
//! API, the operations endpoints, the Leptos pages and every registered server function. If
//! axum's `Debug` format changes, the checks below fail loudly rather than list nothing: the
//! pages Leptos reports and the server functions `server_fn` has registered must all be found.

use crate::helpers::TestApp;
use std::collections::{BTreeMap, BTreeSet};

/// One routed path template and the methods it has a handler for.
#[derive(Debug, Clone)]
pub struct RoutedPath {
    /// axum's template: `/api/orgs/{org_id}/workspaces`, `/api/{*rest}`.
    pub path: String,
    /// Upper-case method names; `ANY` for a service routed for every method.
    pub methods: BTreeSet<String>,
}

impl RoutedPath {
    pub fn has_get(&self) -> bool {
        self.methods.contains("GET") || self.methods.contains("ANY")
    }

    /// The names of the path's parameters, in order (`{*rest}` gives `rest`).
    pub fn params(&self) -> Vec<String> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}'))
            .map(|(name, _)| name.trim_start_matches('*').to_string())
            .collect()
    }
}

/// What the application routes: every path of the router it serves.
pub async fn application_routes(app: &TestApp) -> Vec<RoutedPath> {
    // The same router `Application::build` serves, built on the test's database and key.
    let config = server::config::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: app.data_dir.path().to_path_buf(),
        database_url: Some(app.database_url.clone()),
        ..server::config::Config::default()
    };
    let built = server::startup::Application::build(config).await.expect("a second app on the test database");
    let router = server::http::router::router(built.state().clone());
    let routes = parse_router_debug(&format!("{router:?}"));
    assert!(routes.len() >= 20, "too few routes parsed from the router's Debug output: {routes:?}");
    check_against_leptos(&routes);
    routes
}

/// The paths and methods in axum's `Debug` text of a router.
fn parse_router_debug(text: &str) -> Vec<RoutedPath> {
    let mut paths: BTreeMap<u64, String> = BTreeMap::new();
    let mut methods: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for chunk in text.split("RouteId(").skip(1) {
        let (id, rest) = chunk.split_once("): ").expect("`RouteId(n): …` in axum's Debug output");
        let id: u64 = id.parse().expect("a numeric route id");
        if let Some(quoted) = rest.strip_prefix('"') {
            paths.insert(id, quoted.split('"').next().unwrap().to_string());
        } else if let Some(fields) = rest.strip_prefix("MethodRouter(MethodRouter { ") {
            let fields = fields.split(", fallback:").next().unwrap();
            let routed = fields
                .split(", ")
                .filter_map(|field| field.split_once(": "))
                .filter(|(_, endpoint)| *endpoint != "None")
                .map(|(method, _)| method.to_uppercase())
                .collect();
            methods.insert(id, routed);
        } else if rest.starts_with("Route(") {
            methods.insert(id, BTreeSet::from(["ANY".to_string()]));
        }
    }
    paths
        .into_iter()
        // axum's own fallback routes, not the application's.
        .filter(|(_, path)| !path.contains("__private__axum"))
        .map(|(id, path)| RoutedPath {
            methods: methods.remove(&id).unwrap_or_else(|| panic!("no endpoint parsed for {path}")),
            path,
        })
        .collect()
}

/// The parser must see every page Leptos lists and every registered server function (each with
/// its method): otherwise it is the parser that is wrong, and the tests would cover too little.
fn check_against_leptos(routes: &[RoutedPath]) {
    let by_path: BTreeMap<&str, &RoutedPath> = routes.iter().map(|r| (r.path.as_str(), r)).collect();
    let pages = leptos_axum::generate_route_list(app::App);
    assert!(!pages.is_empty(), "Leptos lists no pages");
    for page in &pages {
        let axum_path = leptos_path_to_axum(page.path());
        let routed = by_path.get(axum_path.as_str()).unwrap_or_else(|| {
            panic!("the page {} is missing from the parsed routes {:?}", page.path(), by_path.keys())
        });
        assert!(routed.has_get(), "the page {axum_path} has no GET handler in the parse");
    }
    let server_fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(server_fns.len() >= 10, "too few server functions registered: {server_fns:?}");
    for (path, method) in server_fns {
        let routed = by_path.get(path).unwrap_or_else(|| panic!("the server function {path} is not routed"));
        assert!(routed.methods.contains(method.as_str()), "{path}: {method} not in {:?}", routed.methods);
    }
}

/// Leptos writes `/orgs/:org_id`; axum 0.8 routes it as `/orgs/{org_id}`.
fn leptos_path_to_axum(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => match segment.strip_prefix('*') {
                Some(name) => format!("{{*{name}}}"),
                None => segment.to_string(),
            },
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_parser_reads_paths_and_methods() {
    let text = r#"Router { path_router: PathRouter { routes: {RouteId(3): MethodRouter(MethodRouter {
        get: Route, head: None, delete: BoxedHandler, options: None, patch: None, post: None, put: None,
        trace: None, connect: None, fallback: Route, allow_header: None }), RouteId(4): Route(Route)},
        node: Node { paths: {RouteId(3): "/api/x/{id}", RouteId(4): "/files/{*rest}"} } } }"#
        .replace("\n        ", " ");
    let routes: BTreeMap<String, RoutedPath> =
        parse_router_debug(&text).into_iter().map(|r| (r.path.clone(), r)).collect();
    assert_eq!(routes["/api/x/{id}"].methods, BTreeSet::from(["GET".into(), "DELETE".into()]));
    assert_eq!(routes["/api/x/{id}"].params(), vec!["id"]);
    assert_eq!(routes["/files/{*rest}"].methods, BTreeSet::from(["ANY".into()]));
    assert_eq!(routes["/files/{*rest}"].params(), vec!["rest"]);
    assert_eq!(leptos_path_to_axum("/orgs/:org_id/runs/:workflow_id"), "/orgs/{org_id}/runs/{workflow_id}");
}
