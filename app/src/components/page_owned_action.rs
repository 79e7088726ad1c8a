//! A deferred form's server action, owned by the page that opened the form.
//!
//! The forms in the deferred chunk make their own server actions, so the code that sends them is
//! fetched with the form and not with the page. Were an action owned by its form, closing the
//! form before the answer came would dispose of the action with the form: the item would be
//! saved, but nothing would be left to tell the page, and its list would not reload.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::reactive::owner::{Owner, WeakOwner};
use leptos::server_fn::ServerFn;

/// A server action owned by `page` that runs `on_saved` each time it succeeds, whether or not
/// the form that dispatched it is still open. Each opening of a form makes one (a few bytes the
/// page keeps until it is left). The page is held weakly: a form that held its page's owner
/// would keep the page's whole reactive tree alive after the page is left. Were the page gone,
/// the form's own owner takes the action.
pub fn page_owned_action<S>(page: &WeakOwner, on_saved: Callback<()>) -> ServerAction<S>
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
{
    let owner = page.upgrade().or_else(Owner::current).unwrap_or_default();
    owner.with(|| {
        let action = ServerAction::<S>::new();
        Effect::new(move |_| {
            if action.value().with(|result| matches!(result, Some(Ok(_)))) {
                on_saved.run(());
            }
        });
        action
    })
}
