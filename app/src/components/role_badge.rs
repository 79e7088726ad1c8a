use crate::model::Role;
use leptos::prelude::*;

#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    view! {
        <span class=format!("badge role-{}", role.as_str()) title=role.describe() data-testid="role-badge">
            {role.as_str()}
        </span>
    }
}
