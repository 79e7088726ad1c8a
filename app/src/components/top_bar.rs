use crate::api::accounts::{get_session_user, Logout};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The product bar with the user menu at the top right. Signed-out pages show the name only.
#[component]
pub fn TopBar() -> impl IntoView {
    let location = use_location();
    // Refetched on navigation, so signing in or out is reflected at once.
    let user = Resource::new(move || location.pathname.get(), |_| get_session_user());
    let logout = ServerAction::<Logout>::new();
    let menu_open = RwSignal::new(false);
    // A menu item navigates within the app: the menu closes with the page it was opened on.
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Strongroom"
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let user = user.await.ok().flatten();
                    user.map(|user| {
                        view! {
                            <div class="user-menu" data-testid="user-menu">
                                <button
                                    type="button"
                                    class="user-menu-button"
                                    aria-haspopup="true"
                                    aria-expanded=move || menu_open.get().to_string()
                                    data-testid="user-menu-button"
                                    on:click=move |_| menu_open.update(|open| *open = !*open)
                                >
                                    {user.display_name.clone()}
                                    <span aria-hidden="true">" ▾"</span>
                                </button>
                                <div class="user-menu-items" class:open=move || menu_open.get() role="menu">
                                    <p class="user-menu-email">{user.email.clone()}</p>
                                    <a href="/user/secrets" role="menuitem">"Your secrets"</a>
                                    <a href="/user/cluster-credentials" role="menuitem">
                                        "Your cluster credentials"
                                    </a>
                                    <a href="/identities" role="menuitem">"Identities"</a>
                                    <a href="/user/tokens" role="menuitem">"Access tokens"</a>
                                    <a href="/account" role="menuitem">"Account"</a>
                                    {user
                                        .is_instance_admin
                                        .then(|| view! {
                                            <a href="/admin/users" role="menuitem">"Users"</a>
                                            <a href="/admin/audit" role="menuitem">"Audit log"</a>
                                        })}
                                    <ActionForm action=logout>
                                        <button type="submit" class="link-button" role="menuitem"
                                            data-testid="sign-out">
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                </div>
                            </div>
                        }
                    })
                })}
            </Transition>
        </header>
    }
}
