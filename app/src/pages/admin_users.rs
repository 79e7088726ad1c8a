use crate::api::accounts::get_session_user;
use crate::api::admin::{list_users, CreateUser, SetUserDisabled};
use crate::components::{action_error, ErrorPanel, FormError};
use crate::model::format_timestamp;
use leptos::prelude::*;

/// Instance administration: create and disable user accounts.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let toggle = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_users());
    let me = Resource::new(|| (), |_| get_session_user());
    view! {
        <div class="page">
            <h1>"Users"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let my_id = me.await.ok().flatten().map(|u| u.id);
                    match users.await {
                        Ok(list) => view! {
                            <section class="card">
                                <div class="table-scroll">
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
                                                        <td>{format_timestamp(u.created_at)}</td>
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
                            <section class="card">
                                <h2>"Create user"</h2>
                                <ActionForm action=create attr:data-testid="create-user-form"
                                    attr:class="inline-form">
                                    <div class="field">
                                        <label for="new-user-email">"Email"</label>
                                        <input id="new-user-email" name="email" type="email" required/>
                                    </div>
                                    <div class="field">
                                        <label for="new-user-name">"Display name"</label>
                                        <input id="new-user-name" name="display_name" required/>
                                    </div>
                                    <div class="field">
                                        <label for="new-user-password">"Initial password"</label>
                                        <input id="new-user-password" name="password" type="password"
                                            required minlength="8" autocomplete="new-password"/>
                                    </div>
                                    <button type="submit" class="primary">"Create user"</button>
                                </ActionForm>
                                <FormError message=action_error(create)/>
                            </section>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
