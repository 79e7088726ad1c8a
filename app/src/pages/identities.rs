//! "Identities": the managed identities of the organizations the caller owns. Each identity
//! describes one cluster (scheduler, SSH host and port, pinned host key) and shows which members
//! registered their own cluster account and key and who is still missing. Owners create, edit
//! and delete identities and may remove a member's credentials; no page ever shows a key, only
//! its fingerprint.

use crate::api::identities::{
    list_identities, list_identity_members, CreateIdentity, DeleteClusterCredentials, DeleteIdentity,
    UpdateIdentity,
};
use crate::api::workspaces::list_orgs;
use crate::components::{action_error, ConfirmDelete, Deferred, ErrorPanel, FormError, NotLoaded};
use crate::error::AppError;
use crate::model::{
    check_resource_name, ManagedCredentialsSummary, ManagedIdentity, OrgSummary, CLUSTER_CREDENTIALS_PAGE,
    DEFAULT_SSH_PORT, MANAGED_IDENTITY_PLATFORMS,
};
use leptos::prelude::*;
use leptos_meta::Title;

type IdentityWithMembers = (ManagedIdentity, Vec<ManagedCredentialsSummary>);

/// Every owned organization with its identities and their members.
async fn load() -> Result<Vec<(OrgSummary, Vec<IdentityWithMembers>)>, AppError> {
    let mut out = Vec::new();
    for org in list_orgs().await?.into_iter().filter(|org| org.is_owner) {
        let mut identities = Vec::new();
        for identity in list_identities(org.id).await? {
            let members = list_identity_members(org.id, identity.id).await?;
            identities.push((identity, members));
        }
        out.push((org, identities));
    }
    Ok(out)
}

/// The actions every part of the page dispatches, created once with the page.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateIdentity>,
    update: ServerAction<UpdateIdentity>,
    delete: ServerAction<DeleteIdentity>,
    remove: ServerAction<DeleteClusterCredentials>,
}

#[component]
pub fn IdentitiesPage() -> impl IntoView {
    // Created here, synchronously: see `SecretsManager` on resources made inside a `Suspend`.
    let actions = Actions {
        create: ServerAction::new(),
        update: ServerAction::new(),
        delete: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let orgs = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.update.version().get(),
                actions.delete.version().get(),
                actions.remove.version().get(),
            )
        },
        |_| load(),
    );
    let (update_error, delete_error, remove_error) =
        (action_error(actions.update), action_error(actions.delete), action_error(actions.remove));
    let error = Signal::derive(move || update_error.get().or(delete_error.get()).or(remove_error.get()));
    view! {
        <Title text="Identities · Strongroom"/>
        <div class="page" data-testid="identities-page">
            <h1>"Identities"</h1>
            <p class="muted">
                "A managed identity describes one cluster of your organization. Each member adds their own \
                 cluster account and SSH key for it under "
                <a href=CLUSTER_CREDENTIALS_PAGE>"Your cluster credentials"</a>
                ", and their launches on compute environments that use the identity run as that account."
            </p>
            <FormError message=error/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match orgs.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-owned-orgs">
                                "You own no organization: its owners manage its managed identities."
                            </p>
                        }.into_any(),
                        Ok(list) => list
                            .into_iter()
                            .map(|(org, identities)| view! { <OrgIdentities org identities actions/> })
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
fn OrgIdentities(org: OrgSummary, identities: Vec<IdentityWithMembers>, actions: Actions) -> impl IntoView {
    let org_id = org.id;
    let adding = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(actions.create.value().get(), Some(Ok(_))) {
            adding.set(false);
        }
    });
    view! {
        <section class="card" data-testid="org-identities">
            <header class="card-header">
                <div>
                    <h2>{org.full_name.clone()}</h2>
                    <p class="muted mono">{org.name.clone()}</p>
                </div>
                <button type="button" class="primary" data-testid="new-identity-button"
                    on:click=move |_| adding.update(|open| *open = !*open)>
                    "New identity"
                </button>
            </header>
            {if identities.is_empty() {
                view! { <p class="empty" data-testid="no-identities">"No managed identities yet."</p> }
                    .into_any()
            } else {
                identities
                    .into_iter()
                    .map(|(identity, members)| view! { <IdentityCard org_id identity members actions/> })
                    .collect_view()
                    .into_any()
            }}
            <Show when=move || adding.get()>
                <Deferred load=move || identity_form(org_id, None, actions)/>
            </Show>
        </section>
    }
}

#[component]
fn IdentityCard(
    org_id: i64,
    identity: ManagedIdentity,
    members: Vec<ManagedCredentialsSummary>,
    actions: Actions,
) -> impl IntoView {
    let identity_id = identity.id;
    let editing = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(actions.update.value().get(), Some(Ok(_))) {
            editing.set(false);
        }
    });
    let pin = match &identity.config.host_key_fingerprint {
        Some(fingerprint) => fingerprint.clone(),
        None => "not pinned yet: the first successful Check records it".to_string(),
    };
    let (registered, missing): (Vec<_>, Vec<_>) =
        members.into_iter().partition(|m| m.credentials_id.is_some());
    let missing = missing.into_iter().map(|m| m.email).collect::<Vec<_>>();
    let missing_count = missing.len();
    let stored = StoredValue::new(identity.clone());
    let address = format!("{}:{}", identity.config.host_name, identity.config.port);
    let missing =
        if missing.is_empty() { "Every member has registered.".to_string() } else { missing.join(", ") };
    view! {
        <article class="identity" data-testid="identity" data-identity-id=identity_id>
            <header class="card-header">
                <div>
                    <h3 class="mono">{identity.name.clone()}</h3>
                    <p class="muted small">
                        {identity.platform.as_str()} " · "
                        <span class="mono">{address}</span>
                        " · host key " <span class="mono" data-testid="identity-host-key">{pin}</span>
                    </p>
                </div>
                <span class="actions">
                    <button type="button" data-testid="edit-identity"
                        on:click=move |_| editing.update(|open| *open = !*open)>"Edit"</button>
                    " "
                    <ConfirmDelete
                        what=format!("the cluster identity {}", identity.name)
                        consequence="Every member's credentials on it are deleted too; launches on this \
                                     cluster stop until it is added again."
                        testid="delete-identity"
                        on_confirm=move || {
                            actions.delete.dispatch(DeleteIdentity { org_id, identity_id });
                        }
                    />
                </span>
            </header>
            <Show when=move || editing.get()>
                <Deferred load=move || identity_form(org_id, Some(stored.get_value()), actions)/>
            </Show>
            <h4>{format!("Registered ({})", registered.len())}</h4>
            {if registered.is_empty() {
                view! { <p class="muted">"Nobody has added their cluster credentials yet."</p> }.into_any()
            } else {
                view! { <MembersTable org_id identity_id registered remove=actions.remove/> }.into_any()
            }}
            <h4>{format!("Missing ({missing_count})")}</h4>
            <p class="muted" data-testid="identity-missing">
                {missing}
            </p>
        </article>
    }
}

#[component]
fn MembersTable(
    org_id: i64,
    identity_id: i64,
    registered: Vec<ManagedCredentialsSummary>,
    remove: ServerAction<DeleteClusterCredentials>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="identity-members">
                <thead>
                    <tr>
                        <th>"Member"</th>
                        <th>"Cluster account"</th>
                        <th>"Key fingerprint"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {registered.into_iter().map(|member| {
                        let credentials_id = member.credentials_id.unwrap_or_default();
                        view! {
                            <tr data-testid="identity-member">
                                <td>{member.email.clone()}</td>
                                <td class="mono">{member.user_name.clone().unwrap_or_default()}</td>
                                <td class="mono small">
                                    {member.public_key_fingerprint.clone().unwrap_or_else(|| "—".into())}
                                </td>
                                <td class="actions">
                                    <ConfirmDelete
                                        what=format!("{}'s cluster credentials", member.email)
                                        consequence="Their launches on this cluster stop until they add \
                                                     new ones."
                                        verb="Remove"
                                        testid="remove-member-credentials"
                                        on_confirm=move || {
                                            remove.dispatch(DeleteClusterCredentials {
                                                org_id,
                                                identity_id,
                                                credentials_id,
                                            });
                                        }
                                    />
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `IdentityForm` in the deferred forms' chunk (see `Deferred`): both forms open from a button, so
/// their code is fetched then and not with the page.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
fn identity_form(
    org_id: i64,
    identity: Option<ManagedIdentity>,
    actions: Actions,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || {
        let identity = identity.clone();
        view! { <IdentityForm org_id identity actions/> }
    }))
}

/// The new-identity form (`identity` `None`) or the edit form of one identity. An empty host
/// key fingerprint on edit unpins the key.
#[component]
fn IdentityForm(org_id: i64, identity: Option<ManagedIdentity>, actions: Actions) -> impl IntoView {
    let name = RwSignal::new(identity.as_ref().map(|i| i.name.clone()).unwrap_or_default());
    let name_hint = move || {
        name.with(|n| (!n.is_empty()).then(|| check_resource_name("managed identity", n).err()).flatten())
    };
    let (host, port, pin) = match &identity {
        Some(i) => (i.config.host_name.clone(), i.config.port, i.config.host_key_fingerprint.clone()),
        None => (String::new(), DEFAULT_SSH_PORT, None),
    };
    let prefix = identity.as_ref().map_or("new-identity".to_string(), |i| format!("identity-{}", i.id));
    let id = move |field: &str| format!("{prefix}-{field}");
    let fields = view! {
        <input type="hidden" name="org_id" value=org_id/>
        <div class="field">
            <label for=id("name")>"Name"</label>
            <input id=id("name") name="name" required placeholder="hpc-main" data-testid="identity-name"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
        </div>
        <div class="field">
            <label for=id("host")>"Host name"</label>
            <input id=id("host") name="host_name" required placeholder="login.hpc.example.org"
                data-testid="identity-host" value=host/>
        </div>
        <div class="field">
            <label for=id("port")>"SSH port"</label>
            <input id=id("port") name="port" type="number" min="1" max="65535" required value=port
                data-testid="identity-port"/>
        </div>
        <div class="field">
            <label for=id("pin")>"Host key fingerprint (optional)"</label>
            <input id=id("pin") name="host_key_fingerprint" placeholder="SHA256:…" spellcheck="false"
                data-testid="identity-host-key-input" value=pin/>
        </div>
    };
    let hint = view! { <p class="hint" data-testid="identity-name-hint">{name_hint}</p> };
    if let Some(identity) = identity {
        view! {
            <ActionForm action=actions.update attr:class="inline-form" attr:data-testid="edit-identity-form">
                <input type="hidden" name="identity_id" value=identity.id/>
                {fields}
                <button type="submit" class="primary" disabled=move || name_hint().is_some()>"Save"</button>
            </ActionForm>
            {hint}
            <FormError message=action_error(actions.update)/>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=actions.create attr:class="inline-form" attr:data-testid="new-identity-form">
                {fields}
                <div class="field">
                    <label for="new-identity-platform">"Scheduler"</label>
                    <select id="new-identity-platform" name="platform" data-testid="identity-platform">
                        {MANAGED_IDENTITY_PLATFORMS
                            .into_iter()
                            .map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || name_hint().is_some()>
                    "Create identity"
                </button>
            </ActionForm>
            {hint}
            <FormError message=action_error(actions.create)/>
        }
        .into_any()
    }
}
