//! Who is calling: password hashing, browser sessions, and the sign-in rate limit.

pub mod client_addr;
pub mod cross_site;
pub mod middleware;
pub mod password;
pub mod rate_limit;
pub mod session;
