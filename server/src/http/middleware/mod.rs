//! What runs around every route: resolving the caller (`authenticate`), the client address behind
//! trusted proxies (`client_addr`), the refusal of cross-site state-changing requests
//! (`cross_site`), the browser security headers on every answer (`browser_headers`), the log
//! of response bodies that took long or never ended (`unfinished_bodies`) and the deadline on
//! rendering a page (`page_deadline`).

pub mod authenticate;
pub mod browser_headers;
pub mod client_addr;
pub mod cross_site;
pub mod page_deadline;
pub mod unfinished_bodies;

pub use authenticate::{authenticate, RequestGuard};
