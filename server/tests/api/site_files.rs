//! The compiled site's files over HTTP through the real router: the brotli or gzip copy made at
//! build time when the browser accepts it, the file itself otherwise; hashed names cached for a
//! year, other files revalidated, pages never stored; the page names the hashed files.

use crate::helpers::*;
use reqwest::header::HeaderMap;
use reqwest::{Client, Response};

const WASM: &str = "/pkg/strongroom.2c3d4e5f.wasm";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site as `cargo xtask site` lays it out, each variant with its own recognisable bytes (the
/// server sends the files as they are, so they need not really be compressed).
fn site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    for (name, bytes) in [
        ("strongroom.2c3d4e5f.wasm", "raw wasm"),
        ("strongroom.2c3d4e5f.wasm.br", "brotli wasm"),
        ("strongroom.2c3d4e5f.wasm.gz", "gzip wasm"),
        ("strongroom.0a1b.js", "raw js"),
        ("strongroom.6a7b.css", "raw css"),
        ("__wasm_split.8c9d.js", "raw loader"),
        ("split_page.1e2f.wasm", "raw chunk"),
        // Named like a hashed file, but the site does not list it.
        ("unlisted.3a4b.js", "raw unlisted"),
    ] {
        std::fs::write(pkg.join(name), bytes).unwrap();
    }
    std::fs::write(site.path().join("favicon.svg"), "<svg/>").unwrap();
    std::fs::write(site.path().join("hash.txt"), "js: 0a1b\nwasm: 2c3d4e5f\ncss: 6a7b\nsplit: 8c9d\n")
        .unwrap();
    let hashed = [
        "strongroom.2c3d4e5f.wasm",
        "strongroom.0a1b.js",
        "strongroom.6a7b.css",
        "__wasm_split.8c9d.js",
        "split_page.1e2f.wasm",
    ];
    let listed: String = hashed.iter().map(|name| format!("/pkg/{name}\n")).collect();
    std::fs::write(site.path().join("immutable.txt"), listed).unwrap();
    site
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn fetch(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> Response {
    fetch_as(app, &client(), path, accept_encoding).await
}

async fn fetch_as(app: &TestApp, client: &Client, path: &str, accept_encoding: Option<&str>) -> Response {
    let mut request = client.get(app.url(path));
    if let Some(encodings) = accept_encoding {
        request = request.header("accept-encoding", encodings);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_wasm_is_sent_as_brotli_or_gzip_when_accepted_and_as_it_is_otherwise() {
    let site = site();
    let app = spawn_app_with(|config| config.site_root = site.path().to_path_buf()).await;
    for (accepted, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), "br", "brotli wasm"),
        (Some("gzip"), "gzip", "gzip wasm"),
        (Some("identity"), "", "raw wasm"),
        (None, "", "raw wasm"),
    ] {
        let response = fetch(&app, WASM, accepted).await;
        assert_eq!(response.status(), 200, "{accepted:?}");
        let headers = response.headers().clone();
        assert_eq!(header(&headers, "content-encoding"), encoding, "{accepted:?}");
        assert_eq!(header(&headers, "content-type"), "application/wasm", "{accepted:?}");
        assert_eq!(header(&headers, "vary"), "accept-encoding", "{accepted:?}");
        assert_eq!(header(&headers, "cache-control"), IMMUTABLE, "{accepted:?}");
        assert_eq!(response.text().await.unwrap(), body, "{accepted:?}");
    }
}

#[tokio::test]
async fn only_hashed_names_are_immutable_and_pages_and_missing_files_are_never_stored() {
    let site = site();
    let app = spawn_app_with(|config| config.site_root = site.path().to_path_buf()).await;
    // With an administrator, the sign-in page is a page (not the redirect to set-up) and a
    // signed-in visitor gets the 404 page for what is not there.
    let admin = app.setup_admin().await;
    for path in [
        "/pkg/strongroom.0a1b.js",
        "/pkg/strongroom.6a7b.css",
        "/pkg/__wasm_split.8c9d.js",
        "/pkg/split_page.1e2f.wasm",
    ] {
        let response = fetch(&app, path, Some("br")).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(response.headers(), "cache-control"), IMMUTABLE, "{path}");
        // No compressed copy of this one: the file itself.
        assert_eq!(header(response.headers(), "content-encoding"), "", "{path}");
    }
    for path in ["/favicon.svg", "/pkg/unlisted.3a4b.js"] {
        let response = fetch(&app, path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(response.headers(), "cache-control"), "no-cache", "{path}");
    }

    // Not files: the app answers (its 404 page, or a redirect), and that answer is never stored.
    let response = fetch_as(&app, &admin, "/pkg/strongroom.ffff.wasm", Some("br")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(header(response.headers(), "cache-control"), "no-store");
    for directory in ["/pkg", "/pkg/"] {
        let response = fetch_as(&app, &admin, directory, Some("br")).await;
        assert!(!response.status().is_success(), "{directory}: {}", response.status());
        assert_eq!(header(response.headers(), "cache-control"), "no-store", "{directory}");
    }

    let page = fetch(&app, "/login", Some("br")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(page.headers(), "cache-control"), "no-store");
    assert!(header(page.headers(), "content-security-policy").contains("'nonce-"));
    let html = page.text().await.unwrap();
    for hashed in ["/pkg/strongroom.0a1b.js", WASM, "/pkg/strongroom.6a7b.css"] {
        assert!(html.contains(hashed), "the page links {hashed}: {html}");
    }
}

/// Sends `GET target` as written, with no client-side clean-up of `..` or `%2e%2e` (an HTTP
/// client library would resolve them first), and returns the whole answer as text.
async fn raw_get(app: &TestApp, target: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.url("/").trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_site() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("site");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg").join("strongroom.2c3d4e5f.wasm"), "raw wasm").unwrap();
    std::fs::write(outer.path().join("outside.key"), "KEY-OUTSIDE-THE-SITE").unwrap();
    let app = spawn_app_with(|config| config.site_root = root.clone()).await;
    assert!(raw_get(&app, WASM).await.contains("raw wasm"), "the control: the site's own file is served");
    for target in [
        "/../outside.key",
        "/pkg/../../outside.key",
        "/%2e%2e/outside.key",
        "/pkg/%2e%2e/%2e%2e/outside.key",
        "/..%2foutside.key",
        "/pkg/..%5c..%5coutside.key",
        "/pkg/%2E%2E%2F%2E%2E%2Foutside.key",
    ] {
        let answer = raw_get(&app, target).await;
        assert!(
            !answer.contains("KEY-OUTSIDE-THE-SITE"),
            "{target} reached a file outside the site: {answer}"
        );
        assert!(!answer.starts_with("HTTP/1.1 200"), "{target}: {answer}");
    }
}
