use leptos::prelude::*;

/// A Delete button that asks first: the action runs only after a second, explicit click.
#[component]
pub fn ConfirmDelete(
    question: &'static str,
    testid: &'static str,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    // The confirm button is re-created each time the question shows, so it shares the action.
    let on_confirm = StoredValue::new(on_confirm);
    view! {
        <Show when=move || asking.get() fallback=move || view! {
            <button type="button" class="danger-outline" data-testid=testid
                on:click=move |_| asking.set(true)>
                "Delete"
            </button>
        }>
            <span class="confirm">
                {question} " "
                <button type="button" class="danger" data-testid="confirm-delete"
                    on:click=move |_| { asking.set(false); on_confirm.with_value(|f| f()); }>"Delete"</button>
                <button type="button" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
}
