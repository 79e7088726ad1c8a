//! What runs before every route: resolving the caller (`authenticate`), the client address behind
//! trusted proxies (`client_addr`) and the refusal of cross-site state-changing requests
//! (`cross_site`).

pub mod authenticate;
pub mod client_addr;
pub mod cross_site;

pub use authenticate::{authenticate, RequestGuard};
