use crate::api::accounts::get_session_user;
use crate::api::admin::{list_users, CreateUser, SetUserDisabled};
use crate::components::{action_error, Deferred, ErrorPanel, FormError, NotLoaded, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;

/// Instance administration: create and disable user accounts.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let toggle = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_users());
    let me = Resource::new(|| (), |_| get_session_user());
    // List first: the form opens from "New user" and closes once the user is listed.
    let adding = RwSignal::new(false);
    let created = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(user)) = create.value().get() {
            created.set(Some(user.email));
            adding.set(false);
        }
    });
    view! {
        <Title text="Users · Strongroom"/>
        <div class="page">
            <header class="card-header">
                <h1>"Users"</h1>
                <button type="button" class="primary" data-testid="new-user-button"
                    aria-expanded=move || adding.get().to_string()
                    on:click=move |_| {
                        created.set(None);
                        adding.update(|open| *open = !*open);
                    }>
                    "New user"
                </button>
            </header>
            <Show when=move || adding.get()>
                <Deferred load=move || create_user_form(create)/>
            </Show>
            {move || created.get().map(|email| view! {
                <p class="form-success" role="status" data-testid="user-created">
                    {format!("{email} can now sign in with the initial password.")}
                </p>
            })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let my_id = me.await.ok().flatten().map(|u| u.id);
                    match users.await {
                        Ok(list) => view! {
                            <section class="card">
                                <div class="table-scroll" tabindex="0">
                                    <table class="table" data-testid="users-table">
                                        <thead>
                                            <tr>
                                                <th>"Email"</th>
                                                <th>"Name"</th>
                                                <th>"Role"</th>
                                                <th>"Status"</th>
                                                <th>"Created"</th>
                                                <th></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list.into_iter().map(|u| {
                                                let is_me = Some(u.id) == my_id;
                                                let role = if u.is_instance_admin {
                                                    "administrator"
                                                } else {
                                                    "user"
                                                };
                                                let status = if u.disabled { "disabled" } else { "active" };
                                                let verb = if u.disabled { "Enable" } else { "Disable" };
                                                view! {
                                                    <tr>
                                                        <td class="mono">{u.email.clone()}</td>
                                                        <td>{u.display_name.clone()}</td>
                                                        <td>{role}</td>
                                                        <td>{status}</td>
                                                        <td><Timestamp at=u.created_at/></td>
                                                        <td>
                                                            {(!is_me).then(|| view! {
                                                                <ActionForm action=toggle>
                                                                    <input type="hidden" name="user_id"
                                                                        value=u.id/>
                                                                    <input type="hidden" name="disabled"
                                                                        value=(!u.disabled).to_string()/>
                                                                    <button type="submit" class="secondary">
                                                                        {verb}
                                                                    </button>
                                                                </ActionForm>
                                                            })}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <FormError message=action_error(toggle)/>
                            </section>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// `CreateUserForm` in the deferred forms' chunk (see `Deferred`): it opens from "New user", so its
/// code is fetched then and not with the page.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
fn create_user_form(create: ServerAction<CreateUser>) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || view! { <CreateUserForm create/> }))
}

/// The new user's email and name stay after a refusal; the initial password leaves the page as
/// soon as it is sent, whatever the answer.
#[component]
fn CreateUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let text = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <section class="card">
            <h2>"New user"</h2>
            <form data-testid="create-user-form" class="inline-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let initial = password.get_untracked();
                    password.set(String::new());
                    create.dispatch(CreateUser {
                        email: email.get_untracked().trim().to_string(),
                        display_name: name.get_untracked().trim().to_string(),
                        password: initial,
                    });
                }>
                <div class="field">
                    <label for="new-user-email">"Email"</label>
                    <input id="new-user-email" name="email" type="email" required
                        prop:value=move || email.get() on:input=text(email)/>
                </div>
                <div class="field">
                    <label for="new-user-name">"Display name"</label>
                    <input id="new-user-name" name="display_name" required
                        prop:value=move || name.get() on:input=text(name)/>
                </div>
                <div class="field">
                    <label for="new-user-password">"Initial password"</label>
                    <input id="new-user-password" name="password" type="password"
                        required minlength="8" autocomplete="new-password"
                        prop:value=move || password.get() on:input=text(password)/>
                </div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create user"</button>
            </form>
            <FormError message=action_error(create)/>
        </section>
    }
}
