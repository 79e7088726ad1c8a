//! Endpoints that misbehave on purpose, for the tests of what a dead or hostile endpoint may do:
//! one accepts connections and never answers, one answers everything with a fixed status, headers
//! and body.

/// A server that accepts connections and never answers them. Returns its `http://` address.
pub async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

/// A server that answers everything with `status`, `headers` and `body` (as JSON).
pub async fn answering_server(
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: &'static str,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let status = axum::http::StatusCode::from_u16(status).unwrap();
    let app = axum::Router::new().fallback(move || {
        let headers = headers.clone();
        async move {
            let mut response = axum::response::IntoResponse::into_response((status, body));
            response.headers_mut().insert("content-type", "application/json".parse().unwrap());
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// `host:port` of an `http://host:port` address: the allow-list entry for it.
pub fn host_port(endpoint: &str) -> String {
    endpoint.trim_start_matches("http://").to_string()
}
