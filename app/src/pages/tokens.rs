//! "Access tokens": the signed-in user's personal access tokens for the REST API and the CLI.
//!
//! A new token is shown once, right after it is created: it lives only in the create action's
//! value (a signal of this page), and is gone when the user dismisses it, leaves or reloads. The
//! server keeps only its hash and never returns it again.

use crate::api::tokens::{list_tokens, CreateToken, DeleteToken};
use crate::components::{action_error, ConfirmDelete, ErrorPanel, FormError, Timestamp};
use crate::model::{format_timestamp, TokenSummary, TOKEN_MAX_LIFETIME_DAYS};
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;

/// Copies the current selection (the selected token field) to the clipboard. `execCommand`
/// works synchronously and outside secure contexts too, where `navigator.clipboard` is missing.
#[cfg(feature = "hydrate")]
fn copy_selection() -> bool {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = document, js_name = execCommand)]
        fn exec_command(command: &str) -> Result<bool, JsValue>;
    }
    exec_command("copy").unwrap_or(false)
}

#[cfg(not(feature = "hydrate"))]
fn copy_selection() -> bool {
    false
}

/// The expiry field as days: `Ok(None)` when empty (the token never expires).
fn parse_days(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(days) if (1..=TOKEN_MAX_LIFETIME_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(format!("A token lives 1 to {TOKEN_MAX_LIFETIME_DAYS} days; leave empty for no expiry.")),
    }
}

/// The resource and actions are created here, synchronously, never inside a `Suspend` (see
/// `SecretsManager`).
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let delete = ServerAction::<DeleteToken>::new();
    let tokens = Resource::new(move || (create.version().get(), delete.version().get()), |_| list_tokens());
    view! {
        <Title text="Access tokens · Strongroom"/>
        <div class="page" data-testid="tokens-page">
            <h1>"Access tokens"</h1>
            <p class="muted">
                "Personal access tokens let scripts, pipelines and the command line call the REST API \
                 as you: "
                "send one as " <code>"Authorization: Bearer <token>"</code> ". "
                "A token can do everything you can, so give each use its own token and delete those you \
                 no longer need."
            </p>
            <CreateTokenForm create/>
            <section class="card">
                <h2>"Your tokens"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match tokens.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty" data-testid="no-tokens">"No access tokens yet."</p>
                            }.into_any(),
                            Ok(list) => view! { <TokensTable list delete/> }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Transition>
                <FormError message=action_error(delete)/>
            </section>
        </div>
    }
}

#[component]
fn TokensTable(list: Vec<TokenSummary>, delete: ServerAction<DeleteToken>) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="tokens-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Created"</th>
                        <th>"Last used"</th>
                        <th>"Expires"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || list.clone() key=|t| t.id let:token>
                        <TokenRow token delete/>
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TokenRow(token: TokenSummary, delete: ServerAction<DeleteToken>) -> impl IntoView {
    let id = token.id;
    view! {
        <tr data-testid="token-row" data-token-id=id>
            <td><span class="truncate" title=token.name.clone()>{token.name.clone()}</span></td>
            <td><Timestamp at=token.created_at/></td>
            <td>{match token.last_used_at { Some(at) => view! { <Timestamp at/> }.into_any(), None => "never".into_any() }}</td>
            <td>{token.expires_at.map(format_timestamp).unwrap_or_else(|| "never".into())}</td>
            <td class="actions">
                <ConfirmDelete
                    what=format!("the token {}", token.name)
                    consequence="Scripts and pipelines that use it are refused from now on."
                    testid="delete-token"
                    on_confirm=move || {
                        delete.dispatch(DeleteToken { token_id: id });
                    }
                />
            </td>
        </tr>
    }
}

#[component]
fn CreateTokenForm(create: ServerAction<CreateToken>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let days_hint = move || days.with(|d| parse_days(d).err());
    let invalid = move || name.with(|n| n.trim().is_empty()) || days.with(|d| parse_days(d).is_err());
    // The form is emptied once the token exists; kept when the server refuses, to be corrected.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
            days.set(String::new());
        }
    });
    view! {
        <section class="card">
            <h2>"Create a token"</h2>
            // No `action`: the token can only be shown by this page, so the form needs JavaScript.
            <form class="inline-form" data-testid="create-token-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let Ok(expires_in_days) = parse_days(&days.get_untracked()) else { return };
                    create.dispatch(CreateToken { name: name.get_untracked(), expires_in_days });
                }>
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" required maxlength="50" autocomplete="off"
                        placeholder="ci-pipeline"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="token-days">"Expires after (days)"</label>
                    <input id="token-days" name="expires_in_days" type="number" min="1"
                        max=TOKEN_MAX_LIFETIME_DAYS
                        placeholder="never" inputmode="numeric"
                        prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="primary" disabled=move || invalid() || create.pending().get()>
                    "Create token"
                </button>
            </form>
            <p class="hint" data-testid="token-days-hint">{days_hint}</p>
            <FormError message=action_error(create)/>
            <NewTokenPanel create/>
        </section>
    }
}

/// The new token, once. Dismissing it (or leaving the page) drops the only copy in the browser.
#[component]
fn NewTokenPanel(create: ServerAction<CreateToken>) -> impl IntoView {
    let field = NodeRef::<Input>::new();
    let copied = RwSignal::new(None::<bool>);
    let token =
        move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).map(|n| n.token.clone()));
    let name = move || {
        create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).map(|n| n.summary.name.clone()))
    };
    let select = move || {
        if let Some(input) = field.get() {
            input.select();
        }
    };
    view! {
        <Show when=move || token().is_some()>
            <div class="new-token" role="status" data-testid="new-token">
                <p>
                    <strong>"Token " {name} " created. "</strong>
                    "This is the only time the token is shown: copy it now and store it somewhere safe. "
                    "It cannot be shown again."
                </p>
                <div class="new-token-value">
                    <input node_ref=field type="text" readonly class="mono" aria-label="New access token"
                        data-testid="new-token-value" autocomplete="off" spellcheck="false"
                        prop:value=move || token().unwrap_or_default()
                        on:focus=move |_| select()/>
                    <button type="button" class="primary" data-testid="copy-token"
                        on:click=move |_| {
                            select();
                            copied.set(Some(copy_selection()));
                        }>"Copy"</button>
                    <button type="button" data-testid="dismiss-token"
                        on:click=move |_| {
                            copied.set(None);
                            create.value().set(None);
                        }>"Done"</button>
                </div>
                {move || copied.get().map(|ok| if ok {
                    view! { <p class="hint">"Copied to the clipboard."</p> }
                } else {
                    view! { <p class="hint">"Could not copy: the token is selected, press Ctrl+C (⌘C)."</p> }
                })}
            </div>
        </Show>
    }
}
