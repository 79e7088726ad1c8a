//! The HTTP layer: the application state every handler receives (`state`), the router that puts
//! pages, server functions, the REST API and the operations endpoints together (`router`), the
//! request middleware (`middleware`: who is calling, from where, from which site), the REST API
//! (`rest`), the operations endpoints (`ops`), the OIDC issuer's discovery and JWKS (`oidc`) and
//! the compiled site's static files (`site_files`). No product rule lives here: handlers parse, call
//! one domain port and shape the answer.

pub mod middleware;
pub mod oidc;
pub mod ops;
pub mod rest;
pub mod router;
pub mod site_files;
pub mod state;

pub use state::AppState;
