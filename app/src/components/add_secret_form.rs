//! The form that adds a pipeline secret, opened from the list's "New secret" button.
//!
//! What was typed is never lost: the name stays after a refusal (only the value leaves the page,
//! at once, whatever the answer); surrounding spaces are trimmed; the name rule is checked while
//! typing with a length counter; and a name already taken is found before submitting (the
//! server's validate call), with a way to update that secret instead.

use crate::api::secrets::{validate_secret_name, CreateSecret};
use crate::components::{action_error, FormError, NotLoaded};
use crate::error::AppError;
use crate::model::{check_secret_name, check_secret_value_len};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The longest name the rule admits (`SECRET_NAME_PATTERN`: a first character and 49 more).
const NAME_LIMIT: usize = 50;

/// Whether the server says `name` is taken in this scope. A name that breaks the rule is not
/// asked about (the rule's own hint shows), nor is any other answer treated as taken.
async fn is_taken(workspace_id: i64, name: String) -> bool {
    if check_secret_name(&name).is_err() {
        return false;
    }
    matches!(validate_secret_name(workspace_id, name).await, Err(AppError::Conflict(_)))
}

/// The form in the deferred forms' chunk (see `Deferred`): it opens from "New secret", so its code
/// is fetched then and not with the page.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn add_secret_form(
    workspace_id: i64,
    create: ServerAction<CreateSecret>,
    update_instead: Callback<String>,
    on_edit: Callback<()>,
    on_create: Callback<String>,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || view! { <AddSecretForm workspace_id create update_instead on_edit on_create/> }))
}

#[component]
fn AddSecretForm(
    workspace_id: i64,
    create: ServerAction<CreateSecret>,
    /// Set to a taken name when the user chooses to update that secret instead.
    update_instead: Callback<String>,
    /// Called on every edit, so the list's last success message clears.
    on_edit: Callback<()>,
    /// Called with the (trimmed) name sent, for the list's success message.
    on_create: Callback<String>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let trimmed = Memo::new(move |_| name.with(|n| n.trim().to_string()));
    let name_hint = move || trimmed.with(|n| (!n.is_empty()).then(|| check_secret_name(n).err()).flatten());
    let value_hint =
        move || value.with(|v| (!v.is_empty()).then(|| check_secret_value_len(v.len()).err()).flatten());
    // Asked again as the name changes; only in the browser (the form is never server-rendered open).
    let taken = LocalResource::new(move || {
        let name = trimmed.get();
        async move { (!name.is_empty() && is_taken(workspace_id, name.clone()).await).then_some(name) }
    });
    let taken_name = move || taken.get().flatten().filter(|n| *n == trimmed.get());
    let invalid = move || {
        trimmed.with(|n| check_secret_name(n).is_err())
            || value.with(|v| check_secret_value_len(v.len()).is_err())
            || taken_name().is_some()
    };
    // The name is kept when the server refuses it (so it can be corrected) and cleared on success.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
        }
    });
    view! {
        <form method="post" action=CreateSecret::PATH data-testid="add-secret-form" class="add-secret"
            on:submit=move |ev| {
                ev.prevent_default();
                let secret_value = value.get_untracked();
                value.set(String::new());
                on_create.run(trimmed.get_untracked());
                create.dispatch(CreateSecret { workspace_id, name: trimmed.get_untracked(), value: secret_value });
            }>
            <h3>"New secret"</h3>
            <input type="hidden" name="workspace_id" value=workspace_id/>
            <label for="secret-name">"Name"</label>
            <input id="secret-name" name="name" required autocomplete="off" placeholder="DB_PASSWORD"
                aria-describedby="secret-name-hint secret-name-count"
                prop:value=move || name.get()
                on:input=move |ev| {
                    on_edit.run(());
                    name.set(event_target_value(&ev));
                }/>
            <p class="hint counter" id="secret-name-count" data-testid="secret-name-count">
                {move || format!("{} / {NAME_LIMIT}", trimmed.with(String::len))}
            </p>
            <p class="hint" id="secret-name-hint" data-testid="secret-name-hint">
                {move || match taken_name() {
                    Some(taken) => view! {
                        <span data-testid="secret-name-taken">
                            {format!("{taken} already exists here. ")}
                            <button type="button" class="link" data-testid="update-instead"
                                on:click=move |_| update_instead.run(taken.clone())>
                                {format!("Update {} instead", trimmed.get_untracked())}
                            </button>
                        </span>
                    }.into_any(),
                    None => name_hint().into_any(),
                }}
            </p>
            <label for="secret-value">"Value"</label>
            <textarea id="secret-value" name="value" rows="3" required autocomplete="off"
                spellcheck="false"
                data-testid="secret-value" placeholder="Write-only: it cannot be shown again after saving"
                prop:value=move || value.get()
                on:input=move |ev| {
                    on_edit.run(());
                    value.set(event_target_value(&ev));
                }></textarea>
            <p class="hint">{value_hint}</p>
            <button type="submit" class="primary" disabled=invalid>"Add"</button>
        </form>
        <FormError message=action_error(create)/>
    }
}
