use crate::api::members::{list_participants, AddParticipant, RemoveParticipant, SetParticipantRole};
use crate::components::{
    action_error, ConfirmDelete, ErrorPanel, FormError, RoleBadge, RoleChange, RoleChangeAsked,
    WorkspaceResource,
};
use crate::model::{Participant, Role};
use leptos::prelude::*;
use leptos_meta::Title;

/// Participants and, for owners and admins, the controls to manage them. People without the
/// permission get no controls at all; the server refuses the actions anyway.
///
/// What the user typed or chose lives here, above the list that reloads after each action, so a
/// refused "Add" keeps the email and the role chosen (a retry never grants a default role), and
/// each action's success is said in words until the next edit.
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
    let asked = RwSignal::new(None::<RoleChangeAsked>);
    let removed = RwSignal::new(None::<String>);
    let new_member = NewMember { email: RwSignal::new(String::new()), role: RwSignal::new(Role::View) };
    let table_notice = Signal::derive(move || {
        let changed = asked.get().filter(|_| matches!(set_role.value().get(), Some(Ok(()))));
        if let Some(change) = changed {
            return Some(format!("{} is now {}.", change.email, change.role.as_str()));
        }
        let gone = removed.get().filter(|_| matches!(remove.value().get(), Some(Ok(()))));
        gone.map(|email| format!("{email} was removed from the workspace."))
    });
    // The participant whose role just changed, highlighted in the reloaded list.
    let changed_row = Signal::derive(move || table_notice.get().and(asked.get()).map(|a| a.participant_id));

    view! {
        <Title text="Members · Strongroom"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let manage = ws.await.map(|w| w.grants.manage_participants).unwrap_or(false);
                let list = participants.await;
                let (org_id, workspace_id) = (untrack(org_id), untrack(workspace_id));
                view! {
                    <section class="card">
                        <h2>"Participants"</h2>
                        {match list {
                            Ok(list) => view! {
                                <ParticipantsTable list manage org_id workspace_id set_role remove asked
                                    removed changed_row/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }}
                        <FormError message=table_error/>
                        {move || table_notice.get().map(|notice| view! {
                            <p class="form-success" role="status" data-testid="members-notice">{notice}</p>
                        })}
                    </section>
                    {manage.then(|| view! {
                        <AddParticipantForm org_id workspace_id add new_member/>
                    })}
                }
            })}
        </Suspense>
    }
}

/// The Add form's fields, kept across the list's reloads.
#[derive(Clone, Copy)]
struct NewMember {
    email: RwSignal<String>,
    role: RwSignal<Role>,
}

#[component]
#[allow(clippy::too_many_arguments)] // a table row's actions and the tab's shared feedback
fn ParticipantsTable(
    list: Vec<Participant>,
    manage: bool,
    org_id: i64,
    workspace_id: i64,
    set_role: ServerAction<SetParticipantRole>,
    remove: ServerAction<RemoveParticipant>,
    asked: RwSignal<Option<RoleChangeAsked>>,
    removed: RwSignal<Option<String>>,
    changed_row: Signal<Option<i64>>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
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
                        let email = StoredValue::new(p.email.clone());
                        let role_cell = if manage {
                            view! {
                                <RoleChange org_id workspace_id participant_id email=p.email.clone()
                                    current=p.role set_role asked/>
                            }.into_any()
                        } else {
                            view! { <RoleBadge role=p.role/> }.into_any()
                        };
                        view! {
                            <tr data-participant-id=participant_id data-testid="participant-row"
                                class:row-changed=move || changed_row.get() == Some(participant_id)>
                                <td><span class="truncate" title=p.display_name.clone()>{p.display_name.clone()}</span></td>
                                <td><span class="mono truncate" title=p.email.clone()>{p.email.clone()}</span></td>
                                <td>{role_cell}</td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        <ConfirmDelete
                                            what=format!("{} from this workspace", email.get_value())
                                            consequence="They lose access to its secrets, compute \
                                                         environments and runs at once."
                                            verb="Remove"
                                            testid="remove-participant"
                                            confirm_testid="confirm-remove"
                                            on_confirm=move || {
                                                asked.set(None);
                                                removed.set(Some(email.get_value()));
                                                remove.dispatch(RemoveParticipant {
                                                    org_id,
                                                    workspace_id,
                                                    participant_id,
                                                });
                                            }
                                        />
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
fn AddParticipantForm(
    org_id: i64,
    workspace_id: i64,
    add: ServerAction<AddParticipant>,
    new_member: NewMember,
) -> impl IntoView {
    let NewMember { email, role } = new_member;
    let added = RwSignal::new(None::<(String, Role)>);
    // A success empties the email (the role stays, for the next person) and says who was added;
    // a refusal keeps both as typed.
    Effect::new(move |_| {
        if let Some(Ok(participant)) = add.value().get() {
            added.set(Some((participant.email.clone(), participant.role)));
            email.set(String::new());
        }
    });
    view! {
        <section class="card">
            <h2>"Add participant"</h2>
            <p class="muted">
                "The person needs a Strongroom account first; the instance administrator creates accounts."
            </p>
            <form data-testid="add-participant-form" class="inline-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    added.set(None);
                    add.dispatch(AddParticipant {
                        org_id,
                        workspace_id,
                        email: email.get_untracked().trim().to_string(),
                        role: role.get_untracked().as_str().to_string(),
                    });
                }>
                <div class="field">
                    <label for="participant-email">"Email"</label>
                    <input id="participant-email" name="email" type="email" required
                        prop:value=move || email.get()
                        on:input=move |ev| {
                            added.set(None);
                            email.set(event_target_value(&ev));
                        }/>
                </div>
                <div class="field">
                    <label for="participant-role">"Role"</label>
                    <select id="participant-role" name="role" aria-describedby="participant-role-help"
                        prop:value=move || role.get().as_str()
                        on:change=move |ev| {
                            if let Ok(chosen) = event_target_value(&ev).parse::<Role>() {
                                added.set(None);
                                role.set(chosen);
                            }
                        }>
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=move || role.get_untracked() == r>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || add.pending().get()>"Add"</button>
            </form>
            <p class="hint" id="participant-role-help" data-testid="participant-role-help">
                {move || role.get().describe()}
            </p>
            <FormError message=action_error(add)/>
            {move || added.get().map(|(email, role)| view! {
                <p class="form-success" role="status" data-testid="participant-added">
                    {format!("{email} was added as {}.", role.as_str())}
                </p>
            })}
        </section>
    }
}
