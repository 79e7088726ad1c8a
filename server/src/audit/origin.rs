//! The client address of the request being served, for audit entries. The authentication
//! middleware sets it around each request (a task-local, so the services need not pass it through
//! every call). Pages rendered on the server run their data loading in tasks of their own, where
//! the task-local is not set; there the address comes from the request parts Leptos keeps in its
//! context for that render. Work outside a request (the CLI, background tasks) reads "local".

use app::ports::ClientInfo;
use std::future::Future;

tokio::task_local! {
    static CLIENT_IP: String;
}

pub async fn with_client_ip<F: Future>(ip: String, future: F) -> F::Output {
    CLIENT_IP.scope(ip, future).await
}

pub fn client_ip() -> String {
    CLIENT_IP
        .try_with(Clone::clone)
        .ok()
        .or_else(|| {
            leptos::prelude::use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<ClientInfo>().map(|client| client.ip.clone()))
        })
        .unwrap_or_else(|| "local".to_string())
}
