//! "Your cluster credentials": for each managed identity of the caller's organizations, the
//! caller's own cluster account and SSH key, which their launches on that cluster use. Add,
//! replace or remove them here.
//!
//! The key is write-only: its field is a textarea that is emptied as soon as the form is sent and
//! never filled from anything the server returns (the page shows the key's fingerprint only); the
//! passphrase field likewise. Forms post to the server function URL, so even without JavaScript
//! the key never lands in a URL.

use crate::api::identities::{
    your_cluster_credentials, AddClusterCredentials, DeleteClusterCredentials, ReplaceClusterCredentials,
};
use crate::components::{action_error, ConfirmDelete, ErrorPanel, FormError};
use crate::model::{check_cluster_user_name, ClusterCredentialsEntry};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddClusterCredentials>,
    replace: ServerAction<ReplaceClusterCredentials>,
    remove: ServerAction<DeleteClusterCredentials>,
}

#[component]
pub fn ClusterCredentialsPage() -> impl IntoView {
    // Created here, synchronously: see `SecretsManager` on resources made inside a `Suspend`.
    let actions =
        Actions { add: ServerAction::new(), replace: ServerAction::new(), remove: ServerAction::new() };
    let entries = Resource::new(
        move || {
            (actions.add.version().get(), actions.replace.version().get(), actions.remove.version().get())
        },
        |_| your_cluster_credentials(),
    );
    let (add_error, replace_error, remove_error) =
        (action_error(actions.add), action_error(actions.replace), action_error(actions.remove));
    let error = Signal::derive(move || add_error.get().or(replace_error.get()).or(remove_error.get()));
    let saved = move || {
        matches!(actions.add.value().get(), Some(Ok(_)))
            || matches!(actions.replace.value().get(), Some(Ok(_)))
    };
    view! {
        <Title text="Your cluster credentials · Strongroom"/>
        <div class="page" data-testid="cluster-credentials-page">
            <h1>"Your cluster credentials"</h1>
            <p class="muted">
                "Your own account on each cluster your organizations describe, and the SSH key Strongroom \
                 logs in with when you launch there: your runs execute, and their files are owned, as that \
                 account. The key cannot be shown again after saving; only its fingerprint is."
            </p>
            <FormError message=error/>
            {move || saved().then(|| view! {
                <p class="form-success" role="status" data-testid="cluster-credentials-saved">
                    "Saved. The key cannot be shown again."
                </p>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-identities">
                                "None of your organizations has a managed identity yet: its owners create \
                                 them under Identities."
                            </p>
                        }.into_any(),
                        Ok(list) => list
                            .into_iter()
                            .map(|entry| view! { <ClusterCard entry actions/> })
                            .collect_view()
                            .into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn ClusterCard(entry: ClusterCredentialsEntry, actions: Actions) -> impl IntoView {
    let identity = entry.identity;
    let (org_id, identity_id) = (identity.org_id, identity.id);
    let registered = entry.credentials.clone();
    // The form is open at once where nothing is registered yet.
    let editing = RwSignal::new(registered.is_none());
    let address = format!("{}:{}", identity.config.host_name, identity.config.port);
    let current = registered.as_ref().map(|c| {
        let account = c.user_name.clone().unwrap_or_default();
        let fingerprint = c.public_key_fingerprint.clone().unwrap_or_else(|| "not shown for this key".into());
        let credentials_id = c.credentials_id.unwrap_or_default();
        view! {
            <dl class="facts">
                <dt>"Cluster account"</dt>
                <dd class="mono" data-testid="cluster-account">{account}</dd>
                <dt>"Key fingerprint"</dt>
                <dd class="mono" data-testid="cluster-key-fingerprint">{fingerprint}</dd>
            </dl>
            <p class="actions">
                <button type="button" data-testid="replace-cluster-credentials"
                    on:click=move |_| editing.update(|open| *open = !*open)>"Replace"</button>
                " "
                <ConfirmDelete
                    what=format!("your credentials for {}", address.clone())
                    consequence="Your launches on this cluster stop until you add new ones."
                    verb="Remove"
                    testid="remove-cluster-credentials"
                    on_confirm=move || {
                        let remove = DeleteClusterCredentials { org_id, identity_id, credentials_id };
                        actions.remove.dispatch(remove);
                    }
                />
            </p>
        }
    });
    let credentials_id = registered.as_ref().and_then(|c| c.credentials_id);
    let user_name = registered.and_then(|c| c.user_name).unwrap_or_default();
    view! {
        <section class="card" data-testid="cluster-card" data-identity-id=identity_id>
            <header class="card-header">
                <div>
                    <h2 class="mono">{identity.name.clone()}</h2>
                    <p class="muted small">
                        {entry.org_name.clone()} " · " {identity.platform.as_str()} " · "
                        <span class="mono">{address}</span>
                    </p>
                </div>
                {if credentials_id.is_some() {
                    view! { <span class="badge">"registered"</span> }.into_any()
                } else {
                    view! { <span class="badge" data-testid="cluster-missing">"not registered"</span> }
                        .into_any()
                }}
            </header>
            {current}
            <Show when=move || editing.get()>
                <KeyForm org_id identity_id credentials_id user_name=user_name.clone() editing actions/>
            </Show>
        </section>
    }
}

/// Adds (no `credentials_id`) or replaces the caller's credentials. On replace an empty key keeps
/// the registered one.
#[component]
fn KeyForm(
    org_id: i64,
    identity_id: i64,
    credentials_id: Option<i64>,
    user_name: String,
    editing: RwSignal<bool>,
    actions: Actions,
) -> impl IntoView {
    let account = RwSignal::new(user_name);
    let key = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let account_hint =
        move || account.with(|a| (!a.is_empty()).then(|| check_cluster_user_name(a).err()).flatten());
    let replacing = credentials_id.is_some();
    let invalid = move || {
        account.with(|a| check_cluster_user_name(a).is_err()) || (!replacing && key.with(String::is_empty))
    };
    let key_required = !replacing;
    let key_placeholder = if replacing {
        "Leave empty to keep your registered key, or paste a new one"
    } else {
        "-----BEGIN OPENSSH PRIVATE KEY----- … (write-only: it cannot be shown again)"
    };
    let path = if replacing { ReplaceClusterCredentials::PATH } else { AddClusterCredentials::PATH };
    let id = move |field: &str| format!("cluster-{identity_id}-{field}");
    view! {
        <form method="post" action=path data-testid="cluster-credentials-form"
            on:submit=move |ev| {
                ev.prevent_default();
                // The key and passphrase leave the page at once, whatever the answer.
                let (private_key, pass) = (key.get_untracked(), passphrase.get_untracked());
                key.set(String::new());
                passphrase.set(String::new());
                let user_name = account.get_untracked();
                match credentials_id {
                    Some(credentials_id) => {
                        actions.replace.dispatch(ReplaceClusterCredentials {
                            org_id, identity_id, credentials_id, user_name, private_key, passphrase: pass,
                        });
                    }
                    None => {
                        actions.add.dispatch(AddClusterCredentials {
                            org_id, identity_id, user_name, private_key, passphrase: pass,
                        });
                    }
                }
                if replacing {
                    editing.set(false);
                }
            }>
            <input type="hidden" name="org_id" value=org_id/>
            <input type="hidden" name="identity_id" value=identity_id/>
            {credentials_id.map(|c| view! { <input type="hidden" name="credentials_id" value=c/> })}
            <label for=id("account")>"Your user name on the cluster"</label>
            <input id=id("account") name="user_name" required autocomplete="off" spellcheck="false"
                placeholder="jsmith" data-testid="cluster-user-name"
                prop:value=move || account.get() on:input=move |ev| account.set(event_target_value(&ev))/>
            <p class="hint" data-testid="cluster-user-name-hint">{account_hint}</p>
            <label for=id("key")>"SSH private key"</label>
            <textarea id=id("key") name="private_key" rows="6" autocomplete="off" spellcheck="false"
                class="mono" data-testid="cluster-private-key" required=key_required
                placeholder=key_placeholder
                prop:value=move || key.get()
                on:input=move |ev| key.set(event_target_value(&ev))></textarea>
            <label for=id("passphrase")>"Key passphrase (if it has one)"</label>
            <input id=id("passphrase") name="passphrase" type="password" autocomplete="off"
                data-testid="cluster-passphrase"
                prop:value=move || passphrase.get()
                on:input=move |ev| passphrase.set(event_target_value(&ev))/>
            <p class="hint">
                "Strongroom logs in with this key as this account: add its public half to \
                 ~/.ssh/authorized_keys of your account on the cluster."
            </p>
            <button type="submit" class="primary" disabled=invalid data-testid="save-cluster-credentials">
                {if replacing { "Save" } else { "Add credentials" }}
            </button>
        </form>
    }
}
