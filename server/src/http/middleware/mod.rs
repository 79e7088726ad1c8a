//! What runs around every route: resolving the caller (`authenticate`), the client address behind
//! trusted proxies (`client_addr`), the refusal of cross-site state-changing requests
//! (`cross_site`) and the browser security headers on every answer (`browser_headers`).

pub mod authenticate;
pub mod browser_headers;
pub mod client_addr;
pub mod cross_site;

pub use authenticate::{authenticate, RequestGuard};
