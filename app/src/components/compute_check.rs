//! The "Check" button of a compute environment: runs its preflight now and shows the outcome,
//! with the fix (IAM policies, commands) ready to copy when it fails.

use crate::api::compute::CheckComputeEnv;
use crate::components::FormError;
use leptos::prelude::*;

#[component]
pub fn ComputeCheckButton(workspace_id: i64, compute_env_id: i64) -> impl IntoView {
    let check = ServerAction::<CheckComputeEnv>::new();
    let outcome = check.value();
    view! {
        <div class="compute-check">
            <button type="button" class="button secondary" data-testid="check-compute-env"
                disabled=move || check.pending().get()
                on:click=move |_| { check.dispatch(CheckComputeEnv { workspace_id, compute_env_id }); }>
                {move || if check.pending().get() { "Checking…" } else { "Check" }}
            </button>
            {move || outcome.get().map(|result| match result {
                // The server's note (a host key it pinned, or that only the connection could be
                // checked) qualifies the success, so it is shown with it.
                Ok(found) if found.status == "AVAILABLE" => match found.message {
                    None => view! {
                        <p class="check-ok" role="status" data-testid="check-result">
                            "Ready: every step of a launch works."
                        </p>
                    }.into_any(),
                    Some(note) => view! {
                        <div class="check-ok" role="status" data-testid="check-result">
                            <p>"Ready."</p>
                            <p data-testid="check-note">{note}</p>
                        </div>
                    }.into_any(),
                },
                Ok(found) => view! {
                    <div class="check-failed" role="alert" data-testid="check-result">
                        <p class="error-text">{found.message.unwrap_or_default()}</p>
                        <pre class="fix">{found.fix.unwrap_or_default()}</pre>
                    </div>
                }.into_any(),
                Err(error) => view! {
                    <FormError message=Signal::derive(move || Some(error.to_string()))/>
                }.into_any(),
            })}
        </div>
    }
}
