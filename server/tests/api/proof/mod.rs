//! Proof (issue 15): session, brute-force and enumeration, read-only GET and fail-closed
//! guarantees, checked systematically: the GET check walks every route of the live router, so a
//! new route, server function or page is covered without editing these tests.

mod brute_force;
mod db_dump;
mod fail_closed;
mod get_is_safe;
mod matrix;
pub(crate) mod routes;
mod seed;
mod sessions;
