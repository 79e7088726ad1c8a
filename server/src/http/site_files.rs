//! The compiled site's static files (`cargo xtask site`: the WASM, its JS glue, the stylesheet,
//! `public/`), served from the site root as the router's fallback.
//!
//! - A brotli (`.br`) or gzip (`.gz`) copy made at build time is sent when the browser accepts
//!   it (`Content-Encoding`), the file itself otherwise; `Vary: Accept-Encoding` tells caches so.
//! - Files whose name carries their content hash (listed in the site's `immutable.txt`: the
//!   WASM, its page chunks, the JS glue, the chunk loader, the stylesheet) never change under that
//!   name: `Cache-Control: public, max-age=31536000, immutable`. Every other file (the icon) is
//!   `no-cache`: kept, but checked again (`Last-Modified`) before each use.
//! - Anything that is not a file (an unknown path, a directory, a POST) is the app's 404 page,
//!   which `browser_headers` marks `no-store` like every page.

use crate::http::state::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashSet;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The file `cargo xtask site` writes into the site root: one `kind: hash` line per hashed file
/// (`js`, `wasm`, `css`, `split`), the format Leptos' `HydrationScripts` and `HashedStylesheet` read.
pub const HASH_FILE: &str = "hash.txt";
/// Also written by `cargo xtask site`: the URL path of every file named by its content, one per line.
const IMMUTABLE_FILE: &str = "immutable.txt";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The hash file's absolute path when the site has one (Leptos reads it relative to the
/// server's executable unless it is absolute, and panics if hashing is on without it).
pub fn hash_file(site_root: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(site_root.join(HASH_FILE)).ok()?;
    path.is_file().then_some(path)
}

/// The URL paths of the files named by their content.
fn hashed_paths(site_root: &Path) -> HashSet<String> {
    let Ok(text) = std::fs::read_to_string(site_root.join(IMMUTABLE_FILE)) else { return HashSet::new() };
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(String::from).collect()
}

/// The fallback service: a site file if there is one, the app's 404 page otherwise.
pub fn service(
    state: &AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
       + Clone
       + Send
       + Sync
       + 'static {
    let options = &state.leptos_options;
    let site_root = PathBuf::from(options.site_root.as_ref());
    let hashed = Arc::new(hashed_paths(&site_root));
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(app::shell).with_state(state.clone());
    let files = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        // A directory is not a file to serve (no index.html, no redirect to add a slash).
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    tower::service_fn(move |request: Request| {
        let files = files.clone();
        let hashed = hashed.clone();
        async move {
            let immutable = hashed.contains(request.uri().path());
            let Ok(response) = files.oneshot(request).await;
            let mut response = response.map(Body::new);
            if is_a_served_file(response.status()) {
                let headers = response.headers_mut();
                let cache = if immutable { IMMUTABLE } else { REVALIDATE };
                headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
                headers.append(VARY, HeaderValue::from_static("accept-encoding"));
            }
            Ok::<_, Infallible>(response)
        }
    })
}

/// A file (whole, in part, or "unchanged since"), not the 404 page or an error.
fn is_a_served_file(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::NOT_MODIFIED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_immutable_files_are_those_the_site_lists() {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join(HASH_FILE), "js: 0a1b\nwasm: 2c3d\ncss: 4e5f\nsplit: 6a7b\n")
            .unwrap();
        std::fs::write(
            site.path().join(IMMUTABLE_FILE),
            "/pkg/strongroom.0a1b.js\n/pkg/split_x.8c9d.wasm\n\n",
        )
        .unwrap();
        let paths = hashed_paths(site.path());
        let expected: HashSet<String> =
            ["/pkg/strongroom.0a1b.js", "/pkg/split_x.8c9d.wasm"].map(String::from).into();
        assert_eq!(paths, expected);
        assert_eq!(hash_file(site.path()), Some(std::path::absolute(site.path().join(HASH_FILE)).unwrap()));
    }

    #[test]
    fn a_site_without_a_hash_file_has_no_hashed_files() {
        let site = tempfile::tempdir().unwrap();
        assert!(hashed_paths(site.path()).is_empty());
        assert_eq!(hash_file(site.path()), None);
    }
}
