//! Every delete (and every removal) asks first, in a modal dialog that names what goes and what
//! follows from it. A stray click or Enter never deletes: focus starts on Cancel, Escape cancels,
//! and on a phone the question cannot scroll out of sight beside the row it belongs to.

use leptos::html::Dialog;
use leptos::prelude::*;

/// The button that opens the dialog, and the dialog. The dialog lives inside the button's row in
/// the page (so a test or a screen reader finds it there) but shows on the browser's top layer.
#[component]
pub fn ConfirmDelete(
    /// What goes, as the user knows it: "the secret DB_PASSWORD", "ada@example.org".
    #[prop(into)]
    what: String,
    /// What follows from it, in one sentence: "Launches that use it will fail."
    consequence: &'static str,
    /// The opening button's test id (e.g. `delete-secret`).
    testid: &'static str,
    /// The word on both buttons: "Delete", "Remove".
    #[prop(default = "Delete")]
    verb: &'static str,
    /// The confirming button's test id.
    #[prop(default = "confirm-delete")]
    confirm_testid: &'static str,
    /// What the confirming button does. A `Callback`, not a generic closure: one copy of this
    /// component's code serves every use, instead of one per call site in each page's code.
    #[prop(into)]
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let dialog = NodeRef::<Dialog>::new();
    // The dialog is created when asked for; once it is in the page it opens as a modal, which
    // makes the rest of the page inert until it closes.
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get() {
            if !dialog.open() {
                // Refused only when the element is not connected, which the effect rules out.
                let _ = dialog.show_modal();
            }
        }
    });
    let title = format!("{verb} {what}?");
    view! {
        <button type="button" class="danger-outline" data-testid=testid
            on:click=move |_| asking.set(true)>
            {verb}
        </button>
        <Show when=move || asking.get()>
            <dialog node_ref=dialog class="confirm-dialog" aria-labelledby="confirm-dialog-title"
                data-testid="confirm-dialog"
                // Escape closes the dialog without a click: forget the question too.
                on:close=move |_| asking.set(false)>
                <h2 id="confirm-dialog-title">{title.clone()}</h2>
                <p>{consequence}</p>
                <div class="dialog-actions">
                    <button type="button" autofocus on:click=move |_| asking.set(false)>"Cancel"</button>
                    <button type="button" class="danger" data-testid=confirm_testid
                        on:click=move |_| {
                            asking.set(false);
                            on_confirm.run(());
                        }>
                        {verb}
                    </button>
                </div>
            </dialog>
        </Show>
    }
}
