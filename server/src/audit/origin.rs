//! The client address of the request being served, for audit entries. The authentication
//! middleware sets it around each request (a task-local, so the services need not pass it through
//! every call); work outside a request (the CLI, background tasks) reads "local".

use std::future::Future;

tokio::task_local! {
    static CLIENT_IP: String;
}

pub async fn with_client_ip<F: Future>(ip: String, future: F) -> F::Output {
    CLIENT_IP.scope(ip, future).await
}

pub fn client_ip() -> String {
    CLIENT_IP.try_with(Clone::clone).unwrap_or_else(|_| "local".to_string())
}
