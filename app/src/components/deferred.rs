//! A part of a page whose code is fetched when it is first shown: the forms that open from a
//! button, and what shows only after a click (a Check's outcome, a managed identity's details).
//! Their views come from functions marked `wasm_split(deferred_forms)`, which the site
//! build cuts into one WASM chunk of their own, so a first visit to a page does not download
//! them. One chunk for all of them, not one each: every split point cuts the code pages share
//! into more, smaller files, and each file compresses on its own (measured with one chunk per
//! form: the sign-in and launch pages grew by 1.7 and 5.9 kB with brotli; with one, 0.7 and 2.2).

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// A deferred part's chunk could not be fetched: the network failed, or a new release replaced
/// the site's files since the page was loaded. Said on the page; without `fallible` the failed
/// load would panic and stop the whole page's WASM.
pub struct NotLoaded;

impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// Shows the view `load` gives once its chunk has arrived (at once after the first time), with
/// "Loading…" meanwhile, and says so if it cannot arrive.
///
/// `load` gives the view's constructor, not the view: the view is then built here like any other
/// (under this component's owner, so hiding it disposes it, and outside any `Suspense` of its
/// own, whose pending state a form's resources would otherwise flip while the user types).
#[component]
pub fn Deferred<F, Fut>(load: F) -> impl IntoView
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<ViewFn, NotLoaded>> + 'static,
{
    let loaded = RwSignal::new(None::<Result<ViewFn, ()>>);
    // An effect, so only the browser fetches (the server never runs it).
    Effect::new(move |_| {
        let view = load();
        // `try_set`: the part may be hidden, and this signal gone, before its chunk arrives.
        spawn_local(async move {
            let _ = loaded.try_set(Some(view.await.map_err(|NotLoaded| ())));
        });
    });
    move || match loaded.get() {
        Some(Ok(view)) => view.run(),
        Some(Err(())) => view! {
            <p class="form-error" role="alert" data-testid="deferred-not-loaded">
                "This part of the page could not be loaded. Reload the page to try again."
            </p>
        }
        .into_any(),
        None => view! { <p class="muted" role="status">"Loading…"</p> }.into_any(),
    }
}
