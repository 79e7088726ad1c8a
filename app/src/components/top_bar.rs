use crate::api::accounts::{get_session_user, Logout};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

/// The product bar with the user menu at the top right. Signed-out pages show the name only.
///
/// The menu is a disclosure of links (not an ARIA `menu`, which promises arrow-key movement): it
/// opens on its button, and closes on Escape (focus back on the button), on a click outside it,
/// and on navigation.
#[component]
pub fn TopBar() -> impl IntoView {
    let location = use_location();
    let menu_ref = NodeRef::<leptos::html::Div>::new();
    let button_ref = NodeRef::<leptos::html::Button>::new();
    // Refetched on navigation, so signing in or out is reflected at once.
    let user = Resource::new(move || location.pathname.get(), |_| get_session_user());
    let logout = ServerAction::<Logout>::new();
    // Without WASM the form posts itself; with it, the action sends the same request and follows
    // the server's redirect to the sign-in page within the app.
    let sign_out = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        logout.dispatch(Logout {});
    };
    let menu_open = RwSignal::new(false);
    // A menu item navigates within the app: the menu closes with the page it was opened on.
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    close_on_outside_click(menu_ref, menu_open);
    let close_on_escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(button) = button_ref.get_untracked() {
                let _ = button.focus();
            }
        }
    };
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
                            <div class="user-menu" data-testid="user-menu" node_ref=menu_ref
                                on:keydown=close_on_escape>
                                <button
                                    type="button"
                                    class="user-menu-button"
                                    node_ref=button_ref
                                    aria-controls="user-menu-items"
                                    aria-expanded=move || menu_open.get().to_string()
                                    data-testid="user-menu-button"
                                    on:click=move |_| menu_open.update(|open| *open = !*open)
                                >
                                    {user.display_name.clone()}
                                    <span aria-hidden="true">" ▾"</span>
                                </button>
                                <nav class="user-menu-items" id="user-menu-items" class:open=move || menu_open.get()
                                    aria-label="Your account">
                                    <p class="user-menu-email">{user.email.clone()}</p>
                                    <a href="/user/secrets">"Your secrets"</a>
                                    <a href="/user/cluster-credentials">
                                        "Your cluster credentials"
                                    </a>
                                    <a href="/identities">"Identities"</a>
                                    <a href="/user/tokens">"Access tokens"</a>
                                    <a href="/account">"Account"</a>
                                    {user
                                        .is_instance_admin
                                        .then(|| view! {
                                            <a href="/admin/users">"Users"</a>
                                            <a href="/admin/audit">"Audit log"</a>
                                        })}
                                    // A plain form, not `ActionForm`: signing out takes no
                                    // fields, and `ActionForm` would put its form decoder
                                    // (serde_qs) in the code every page downloads.
                                    <form method="post" action=Logout::PATH on:submit=sign_out>
                                        <button type="submit" class="link-button"
                                            data-testid="sign-out">
                                            "Sign out"
                                        </button>
                                    </form>
                                </nav>
                            </div>
                        }
                    })
                })}
            </Transition>
        </header>
    }
}

/// Closes the menu when a pointer goes down outside it (in the browser only).
#[cfg(feature = "hydrate")]
fn close_on_outside_click(menu: NodeRef<leptos::html::Div>, open: RwSignal<bool>) {
    use leptos::wasm_bindgen::JsCast;
    let handle = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !open.get_untracked() {
            return;
        }
        let target = ev.target();
        let inside = menu.get_untracked().zip(target).is_some_and(|(menu, target)| {
            target.dyn_ref::<leptos::web_sys::Node>().is_some_and(|node| menu.contains(Some(node)))
        });
        if !inside {
            open.set(false);
        }
    });
    on_cleanup(move || handle.remove());
}

#[cfg(not(feature = "hydrate"))]
fn close_on_outside_click(_menu: NodeRef<leptos::html::Div>, _open: RwSignal<bool>) {}
