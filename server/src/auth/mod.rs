//! Who is calling: password hashing, browser sessions, and the sign-in rate limit.

pub mod middleware;
pub mod password;
pub mod rate_limit;
pub mod session;
