//! The form that replaces a secret's value, opened from its row's "Update value" button.
//!
//! Like every value field, it never shows a stored value, is not autocompleted or spell-checked,
//! and is emptied as soon as the value is sent. It posts to the server function's URL, so even
//! without JavaScript the value never lands in a URL.

use crate::api::secrets::UpdateSecret;
use crate::components::NotLoaded;
use crate::model::check_secret_value_len;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The form in the deferred forms' chunk (see `Deferred`): it opens from a row's button, so its
/// code is fetched then and not with the page. `editing` is the list's open row, closed here
/// when the value is sent or the form cancelled; `on_sent` runs as the value is sent.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn update_value_form(
    workspace_id: i64,
    secret_id: i64,
    update: ServerAction<UpdateSecret>,
    editing: RwSignal<Option<i64>>,
    on_sent: Callback<()>,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || view! { <UpdateValueForm workspace_id secret_id update editing on_sent/> }))
}

#[component]
fn UpdateValueForm(
    workspace_id: i64,
    secret_id: i64,
    update: ServerAction<UpdateSecret>,
    editing: RwSignal<Option<i64>>,
    on_sent: Callback<()>,
) -> impl IntoView {
    let new_value = RwSignal::new(String::new());
    view! {
        <form method="post" action=UpdateSecret::PATH class="inline-form"
            data-testid="update-secret-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let value = new_value.get_untracked();
                // Cleared before the request returns: the value leaves the page at once.
                new_value.set(String::new());
                editing.set(None);
                on_sent.run(());
                update.dispatch(UpdateSecret { workspace_id, secret_id, value });
            }>
            <input type="hidden" name="workspace_id" value=workspace_id/>
            <input type="hidden" name="secret_id" value=secret_id/>
            <textarea name="value" rows="2" required autocomplete="off" spellcheck="false"
                aria-label="New value" data-testid="new-secret-value"
                prop:value=move || new_value.get()
                on:input=move |ev| new_value.set(event_target_value(&ev))></textarea>
            <button type="submit" class="primary"
                disabled=move || check_secret_value_len(new_value.with(String::len)).is_err()>
                "Save"
            </button>
            <button type="button"
                on:click=move |_| {
                    new_value.set(String::new());
                    editing.set(None);
                }>"Cancel"</button>
        </form>
    }
}
