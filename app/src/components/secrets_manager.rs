//! The list of pipeline secrets with, for those allowed, add / update / delete. Used by the
//! workspace Secrets tab and by "Your secrets".
//!
//! Values are write-only: the value field never shows a stored value, is not autocompleted or
//! spell-checked, and is emptied as soon as it is sent. Forms post to the server function URL,
//! so even without JavaScript a value never lands in a URL (and so in a log line).

use super::add_secret_form::add_secret_form;
use super::update_value_form::update_value_form;
use crate::api::secrets::{list_secrets, CreateSecret, DeleteSecret, UpdateSecret};
use crate::components::{
    action_error, ConfirmDelete, Deferred, ErrorPanel, FormError, Timestamp, WorkspaceResource,
};
use crate::model::SecretMeta;
use leptos::prelude::*;

const PAGE_SIZE: usize = 50;

/// Whether the caller may write: from the workspace's grants, or always for their own secrets.
async fn may_write(workspace: Option<WorkspaceResource>) -> bool {
    match workspace {
        Some(ws) => ws.await.map(|w| w.grants.write_secrets).unwrap_or(false),
        None => true,
    }
}

/// `workspace_id` 0 with no `workspace` manages the signed-in user's own secrets.
///
/// The resource and actions are created here, synchronously, never inside a `Suspend`: a
/// resource created after an `.await` gets a different identity on the server and in the
/// browser, and hydration then fails.
///
/// List first: the list comes first; "New secret" opens the form above it. Each action's success
/// is said in words (and its row highlighted) until the user edits again.
#[component]
pub fn SecretsManager(workspace_id: i64, workspace: Option<WorkspaceResource>) -> impl IntoView {
    let create = ServerAction::<CreateSecret>::new();
    let update = ServerAction::<UpdateSecret>::new();
    let delete = ServerAction::<DeleteSecret>::new();
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0usize);
    let secrets = Resource::new(
        move || (search.get(), create.version().get(), update.version().get(), delete.version().get()),
        move |(search, ..)| list_secrets(workspace_id, search),
    );
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let table_error = Signal::derive(move || update_error.get().or_else(|| delete_error.get()));
    let adding = RwSignal::new(false);
    let last = RwSignal::new(None::<LastChange>);
    let edit_name = RwSignal::new(None::<String>);
    // The row whose value field is open; kept here so it stays open when the list reloads.
    let editing = RwSignal::new(None::<i64>);
    let notice = Signal::derive(move || {
        let change = last.get()?;
        let done = match change.kind {
            ChangeKind::Created => matches!(create.value().get(), Some(Ok(_))),
            ChangeKind::Updated => matches!(update.value().get(), Some(Ok(_))),
            ChangeKind::Deleted => matches!(delete.value().get(), Some(Ok(_))),
        };
        done.then_some(change)
    });
    // A created secret closes the form: the list shows it, highlighted.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            adding.set(false);
        }
    });
    let update_instead = Callback::new(move |name: String| {
        adding.set(false);
        last.set(None);
        page.set(0);
        edit_name.set(Some(name.clone()));
        search.set(name);
    });
    let on_edit = Callback::new(move |()| last.set(None));
    let on_create =
        Callback::new(move |name: String| last.set(Some(LastChange { kind: ChangeKind::Created, name })));
    let highlighted =
        Signal::derive(move || notice.get().filter(|c| c.kind != ChangeKind::Deleted).map(|c| c.name));

    view! {
        <section class="card">
            <header class="card-header">
                <h2>"Pipeline secrets"</h2>
                <div class="card-tools">
                    <input
                        type="search"
                        class="search"
                        placeholder="Filter by name"
                        aria-label="Filter secrets by name"
                        data-testid="secret-search"
                        prop:value=move || search.get()
                        on:input=move |ev| {
                            page.set(0);
                            search.set(event_target_value(&ev));
                        }
                    />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            may_write(workspace).await.then(|| view! {
                                <button type="button" class="primary" data-testid="new-secret-button"
                                    aria-expanded=move || adding.get().to_string()
                                    on:click=move |_| {
                                        last.set(None);
                                        adding.update(|open| *open = !*open);
                                    }>
                                    "New secret"
                                </button>
                            })
                        })}
                    </Suspense>
                </div>
            </header>
            <Show when=move || adding.get()>
                <Deferred load=move || add_secret_form(workspace_id, create, update_instead, on_edit, on_create)/>
            </Show>
            {move || notice.get().map(|change| view! {
                <p class="form-success" role="status" data-testid="secrets-notice">{change.message()}</p>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let can_write = may_write(workspace).await;
                    let filter = search.get_untracked();
                    match secrets.await {
                        Ok(list) if list.is_empty() && filter.is_empty() => view! {
                            <div class="empty" data-testid="no-secrets">
                                <p>"No secrets yet."</p>
                                <p class="muted">
                                    "A pipeline reads a secret by name, for example "
                                    <code>"secrets.DB_PASSWORD"</code>
                                    " in its Nextflow code; launches hand over the secrets you choose."
                                </p>
                            </div>
                        }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-match">
                                {format!("No secret matches \u{201c}{filter}\u{201d}.")}
                            </p>
                        }.into_any(),
                        Ok(list) => view! {
                            <SecretsTable list workspace_id can_write page update delete last editing edit_name
                                highlighted/>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Transition>
            <FormError message=table_error/>
        </section>
    }
}

/// The last change made on this page, for its success message and highlight.
#[derive(Clone, Debug, PartialEq)]
pub struct LastChange {
    pub kind: ChangeKind,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl LastChange {
    fn message(&self) -> String {
        match self.kind {
            ChangeKind::Created => format!("{} saved. Its value cannot be shown again.", self.name),
            ChangeKind::Updated => format!("{} updated. Launches from now on use the new value.", self.name),
            ChangeKind::Deleted => format!("{} deleted.", self.name),
        }
    }
}

#[component]
#[allow(clippy::too_many_arguments)] // the list's actions and the manager's shared feedback
fn SecretsTable(
    list: Vec<SecretMeta>,
    workspace_id: i64,
    can_write: bool,
    page: RwSignal<usize>,
    update: ServerAction<UpdateSecret>,
    delete: ServerAction<DeleteSecret>,
    last: RwSignal<Option<LastChange>>,
    editing: RwSignal<Option<i64>>,
    edit_name: RwSignal<Option<String>>,
    highlighted: Signal<Option<String>>,
) -> impl IntoView {
    let total = list.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let list = StoredValue::new(list);
    let rows = move || {
        let start = page.get().min(pages - 1) * PAGE_SIZE;
        list.with_value(|l| l.iter().skip(start).take(PAGE_SIZE).cloned().collect::<Vec<_>>())
    };
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="secrets-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Created"</th>
                        <th>"Last updated"</th>
                        <th>"Last used"</th>
                        {can_write.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    <For each=rows key=|s| (s.id, s.updated_at) let:secret>
                        <SecretRow secret workspace_id can_write editing update delete last edit_name
                            highlighted/>
                    </For>
                </tbody>
            </table>
        </div>
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                <button type="button" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p -= 1)>
                    "Previous"
                </button>
                <span data-testid="secrets-page">
                    {move || format!("Page {} of {pages} ({total} secrets)", page.get() + 1)}
                </span>
                <button type="button" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>
                    "Next"
                </button>
            </nav>
        })}
    }
}

#[component]
fn SecretRow(
    secret: SecretMeta,
    workspace_id: i64,
    can_write: bool,
    editing: RwSignal<Option<i64>>,
    update: ServerAction<UpdateSecret>,
    delete: ServerAction<DeleteSecret>,
    last: RwSignal<Option<LastChange>>,
    edit_name: RwSignal<Option<String>>,
    highlighted: Signal<Option<String>>,
) -> impl IntoView {
    let id = secret.id;
    let name = StoredValue::new(secret.name.clone());
    let record = move |kind: ChangeKind| last.set(Some(LastChange { kind, name: name.get_value() }));
    let value_sent = Callback::new(move |()| record(ChangeKind::Updated));
    // "Update … instead" from the add form: this row opens its value field.
    Effect::new(move |_| {
        if edit_name.with(|n| n.as_deref() == Some(name.get_value().as_str())) {
            edit_name.set(None);
            editing.set(Some(id));
        }
    });
    view! {
        <tr data-testid="secret-row" data-secret-id=id
            class:row-changed=move || highlighted.with(|h| h.as_deref() == Some(name.get_value().as_str()))>
            <td>
                <span class="mono truncate" title=secret.name.clone()>{secret.name.clone()}</span>
                <OverrideBadge secret=secret.clone()/>
            </td>
            <td><Timestamp at=secret.created_at/></td>
            <td><Timestamp at=secret.updated_at/></td>
            <td>{match secret.last_used_at { Some(at) => view! { <Timestamp at/> }.into_any(), None => "never".into_any() }}</td>
            {can_write.then(|| view! {
                <td class="actions">
                    <Show when=move || editing.get() == Some(id) fallback=move || view! {
                        <button type="button" data-testid="edit-secret"
                            on:click=move |_| {
                                last.set(None);
                                editing.set(Some(id));
                            }>"Update value"</button>
                        " "
                        <ConfirmDelete
                            what=format!("the secret {}", name.get_value())
                            consequence="Launches that use it will fail until it is added again."
                            testid="delete-secret"
                            on_confirm=move || {
                                record(ChangeKind::Deleted);
                                delete.dispatch(DeleteSecret { workspace_id, secret_id: id });
                            }
                        />
                    }>
                        <Deferred load=move || update_value_form(workspace_id, id, update, editing, value_sent)/>
                    </Show>
                </td>
            })}
        </tr>
    }
}

/// Says which value a launch by the signed-in user will use when a personal secret and a
/// workspace secret share a name: the personal one, always.
#[component]
fn OverrideBadge(secret: SecretMeta) -> impl IntoView {
    let workspace_side = secret.overridden_by_yours.then(|| {
        view! {
            <span class="badge override" data-testid="override-badge"
                title="You have a personal secret with this name: your launches use yours, not this one.">
                "Yours wins at launch"
            </span>
        }
    });
    let personal_side = (!secret.overrides_in.is_empty()).then(|| {
        let places = secret.overrides_in.join(", ");
        view! {
            <span class="badge override" data-testid="override-badge"
                title=format!("Your launches use this value instead of the workspace secret in {places}.")>
                {format!("Wins at launch over {places}")}
            </span>
        }
    });
    (workspace_side, personal_side)
}
