//! Changing a participant's role, deliberately: choosing in the select changes nothing until Save
//! (one arrow key on a focused select used to grant a role at once), and granting owner or admin
//! asks for a confirmation that says what the person will be able to do.

use crate::api::members::SetParticipantRole;
use crate::model::Role;
use leptos::prelude::*;

/// What the members tab says after a role change: whose role, and the role asked for (the
/// action's answer only says whether it worked).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleChangeAsked {
    pub participant_id: i64,
    pub email: String,
    pub role: Role,
}

/// Whether moving from `current` to `chosen` needs a confirmation: granting owner or admin.
pub fn needs_confirmation(current: Role, chosen: Role) -> bool {
    chosen > current && chosen >= Role::Admin
}

/// The role picker of one participant row: the select, Save and Cancel once another role is
/// chosen, the confirmation for owner and admin, and what the chosen role may do.
#[component]
pub fn RoleChange(
    org_id: i64,
    workspace_id: i64,
    participant_id: i64,
    email: String,
    current: Role,
    set_role: ServerAction<SetParticipantRole>,
    /// Set when Save is pressed, so the tab can say what changed once the server agrees.
    asked: RwSignal<Option<RoleChangeAsked>>,
) -> impl IntoView {
    let chosen = RwSignal::new(current);
    let confirming = RwSignal::new(false);
    let email = StoredValue::new(email);
    let help_id = format!("role-help-{participant_id}");
    let save = move || {
        let role = chosen.get_untracked();
        confirming.set(false);
        asked.set(Some(RoleChangeAsked { participant_id, email: email.get_value(), role }));
        set_role.dispatch(SetParticipantRole {
            org_id,
            workspace_id,
            participant_id,
            role: role.as_str().into(),
        });
    };
    let cancel = move || {
        confirming.set(false);
        chosen.set(current);
    };
    let question = move || {
        let role = chosen.get();
        format!("Make {} {} {}? {}.", email.get_value(), article(role), role.as_str(), role.describe())
    };
    view! {
        <div class="role-change">
            <select
                data-testid="role-select"
                aria-label=format!("Role of {}", email.get_value())
                aria-describedby=help_id.clone()
                prop:value=move || chosen.get().as_str()
                on:change=move |ev| {
                    if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                        confirming.set(false);
                        asked.set(None);
                        chosen.set(role);
                    }
                }
            >
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r == current>{r.as_str()}</option>
                }).collect_view()}
            </select>
            <Show when=move || chosen.get() != current && !confirming.get()>
                <button type="button" class="primary" data-testid="save-role"
                    disabled=move || set_role.pending().get()
                    on:click=move |_| {
                        if needs_confirmation(current, chosen.get_untracked()) { confirming.set(true) } else { save() }
                    }>
                    "Save"
                </button>
                <button type="button" data-testid="cancel-role" on:click=move |_| cancel()>"Cancel"</button>
            </Show>
            <Show when=move || confirming.get()>
                <span class="confirm" role="alertdialog" aria-label="Confirm the role change"
                    data-testid="confirm-role">
                    {question}
                    <button type="button" class="danger" data-testid="confirm-role-change"
                        on:click=move |_| save()>
                        {move || format!("Make {}", chosen.get().as_str())}
                    </button>
                    <button type="button" on:click=move |_| cancel()>"Cancel"</button>
                </span>
            </Show>
            <p class="hint small" id=help_id data-testid="role-help">{move || chosen.get().describe()}</p>
        </div>
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Owner | Role::Admin => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granting_owner_or_admin_asks_first() {
        assert!(needs_confirmation(Role::View, Role::Admin));
        assert!(needs_confirmation(Role::Admin, Role::Owner));
        assert!(needs_confirmation(Role::Launch, Role::Owner));
        assert!(!needs_confirmation(Role::View, Role::Maintain));
        assert!(!needs_confirmation(Role::Owner, Role::Admin), "a demotion is not a grant");
        assert!(!needs_confirmation(Role::Admin, Role::View));
    }
}
