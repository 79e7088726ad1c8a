//! `GET /api/openapi.json`: the OpenAPI 3 document of exactly the operations this server routes.
//! Public, as Seqera serves its own: it describes shapes, never data.
//!
//! `openapi.json` is committed (the slices of Seqera's public OpenAPI document for these operations,
//! plus Strongroom's documented extensions) and checked against the router by
//! `server/tests/api/openapi.rs`.

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;

const DOCUMENT: &str = include_str!("openapi.json");

/// The committed document with `info.version` set to this build's version.
static SERVED: LazyLock<String> = LazyLock::new(|| {
    let mut doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is valid JSON");
    doc["info"]["version"] = env!("CARGO_PKG_VERSION").into();
    doc.to_string()
});

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SERVED.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_3_and_carries_the_crate_version() {
        let doc: serde_json::Value = serde_json::from_str(&super::SERVED).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(doc["info"]["title"], "Strongroom");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    }
}
