use crate::api::members::{list_participants, AddParticipant, RemoveParticipant, SetParticipantRole};
use crate::components::{action_error, ErrorPanel, FormError, RoleBadge, WorkspaceResource};
use crate::model::{Participant, Role};
use leptos::prelude::*;

/// Participants and, for owners and admins, the controls to manage them. People without the
/// permission get no controls at all; the server refuses the actions anyway.
#[component]
pub fn MembersTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let add = ServerAction::<AddParticipant>::new();
    let set_role = ServerAction::<SetParticipantRole>::new();
    let remove = ServerAction::<RemoveParticipant>::new();
    let participants = Resource::new(
        move || {
            (org_id(), workspace_id(), add.version().get(), set_role.version().get(), remove.version().get())
        },
        |(o, w, ..)| list_participants(o, w),
    );
    let role_error = action_error(set_role);
    let remove_error = action_error(remove);
    let table_error = Signal::derive(move || role_error.get().or_else(|| remove_error.get()));

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let manage = ws.await.map(|w| w.grants.manage_participants).unwrap_or(false);
                let list = participants.await;
                view! {
                    <section class="card">
                        <h2>"Participants"</h2>
                        {match list {
                            Ok(list) => view! {
                                <ParticipantsTable list manage org_id=org_id() workspace_id=workspace_id()
                                    set_role remove/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }}
                        <FormError message=table_error/>
                    </section>
                    {manage.then(|| view! {
                        <AddParticipantForm org_id=org_id() workspace_id=workspace_id() add/>
                    })}
                }
            })}
        </Suspense>
    }
}

#[component]
fn ParticipantsTable(
    list: Vec<Participant>,
    manage: bool,
    org_id: i64,
    workspace_id: i64,
    set_role: ServerAction<SetParticipantRole>,
    remove: ServerAction<RemoveParticipant>,
) -> impl IntoView {
    let confirming = RwSignal::new(None::<i64>);
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="participants-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Email"</th>
                        <th>"Role"</th>
                        {manage.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|p| {
                        let participant_id = p.participant_id;
                        let role_cell = if manage {
                            view! {
                                <select
                                    data-testid="role-select"
                                    aria-label=format!("Role of {}", p.email)
                                    on:change=move |ev| {
                                        set_role.dispatch(SetParticipantRole {
                                            org_id,
                                            workspace_id,
                                            participant_id,
                                            role: event_target_value(&ev),
                                        });
                                    }
                                >
                                    {Role::ALL.into_iter().map(|r| view! {
                                        <option value=r.as_str() selected=r == p.role>{r.as_str()}</option>
                                    }).collect_view()}
                                </select>
                            }.into_any()
                        } else {
                            view! { <RoleBadge role=p.role/> }.into_any()
                        };
                        view! {
                            <tr data-participant-id=participant_id data-testid="participant-row">
                                <td>{p.display_name.clone()}</td>
                                <td class="mono">{p.email.clone()}</td>
                                <td>{role_cell}</td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        <Show
                                            when=move || confirming.get() == Some(participant_id)
                                            fallback=move || view! {
                                                <button type="button" class="danger-outline"
                                                    data-testid="remove-participant"
                                                    on:click=move |_| confirming.set(Some(participant_id))>
                                                    "Remove"
                                                </button>
                                            }
                                        >
                                            <span class="confirm">
                                                "Remove this participant? "
                                                <button type="button" class="danger"
                                                    data-testid="confirm-remove"
                                                    on:click=move |_| {
                                                        confirming.set(None);
                                                        remove.dispatch(RemoveParticipant {
                                                            org_id,
                                                            workspace_id,
                                                            participant_id,
                                                        });
                                                    }>
                                                    "Remove"
                                                </button>
                                                <button type="button" on:click=move |_| confirming.set(None)>
                                                    "Cancel"
                                                </button>
                                            </span>
                                        </Show>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn AddParticipantForm(org_id: i64, workspace_id: i64, add: ServerAction<AddParticipant>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Add participant"</h2>
            <p class="muted">
                "The person needs a Strongroom account first; the instance administrator creates accounts."
            </p>
            <ActionForm action=add attr:data-testid="add-participant-form" attr:class="inline-form">
                <input type="hidden" name="org_id" value=org_id/>
                <input type="hidden" name="workspace_id" value=workspace_id/>
                <div class="field">
                    <label for="participant-email">"Email"</label>
                    <input id="participant-email" name="email" type="email" required/>
                </div>
                <div class="field">
                    <label for="participant-role">"Role"</label>
                    <select id="participant-role" name="role">
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == Role::Launch>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary">"Add"</button>
            </ActionForm>
            <FormError message=action_error(add)/>
        </section>
    }
}
