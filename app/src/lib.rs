//! Strongroom's contract and UI: wire types, the error that crosses the wire, server functions,
//! and the Leptos pages. Builds for the browser (`hydrate`) and for the server (`ssr`).

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
mod routes;
#[cfg(feature = "ssr")]
pub mod security_policy;

pub use routes::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes (`routes.rs`): hydration first awaits the chunk of the page the
    // visit starts on, so it is asynchronous, and the page is marked interactive after it.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else { return };
        leptos::mount::hydrate_from_async(body.clone(), App).await.forget();
        // Tells browser tests (and curious people) that the page is interactive now.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
