//! The "Check" of a compute environment: a button in the environment's row runs its preflight
//! now; the outcome shows in a full-width row below it (not in the actions cell, where it crushed
//! the table), with the fix's policies folded and ready to copy when it fails. The row's status
//! badge follows the latest outcome.

use super::check_fix::CheckFix;
use crate::api::compute::CheckComputeEnv;
use crate::components::{FormError, NotLoaded};
use leptos::prelude::*;

/// The environment's status as last known: the latest Check's, else the stored one.
pub fn checked_status(check: ServerAction<CheckComputeEnv>, stored: String) -> Signal<String> {
    Signal::derive(move || match check.value().get() {
        Some(Ok(found)) => found.status,
        _ => stored.clone(),
    })
}

#[component]
pub fn ComputeCheckButton(
    check: ServerAction<CheckComputeEnv>,
    workspace_id: i64,
    compute_env_id: i64,
) -> impl IntoView {
    view! {
        <button type="button" class="button secondary" data-testid="check-compute-env"
            disabled=move || check.pending().get()
            on:click=move |_| { check.dispatch(CheckComputeEnv { workspace_id, compute_env_id }); }>
            {move || if check.pending().get() { "Checking…" } else { "Check" }}
        </button>
    }
}

/// The outcome, in the deferred forms' chunk (see `Deferred`): it shows after a Check, so its
/// code (with the fix's documents) is fetched then and not with the Compute tab.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn check_outcome(check: ServerAction<CheckComputeEnv>) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || view! { <ComputeCheckOutcome check/> }))
}

/// The outcome of the latest Check; nothing before the first.
#[component]
fn ComputeCheckOutcome(check: ServerAction<CheckComputeEnv>) -> impl IntoView {
    move || {
        check.value().get().map(|result| match result {
            // The server's note (a host key it pinned, or that only the connection could be
            // checked) qualifies the success, so it is shown with it.
            Ok(found) if found.status == "AVAILABLE" => match found.message {
                None => view! {
                    <p class="check-ok" role="status" data-testid="check-result">
                        "Ready: every step of a launch works."
                    </p>
                }
                .into_any(),
                Some(note) => view! {
                    <div class="check-ok" role="status" data-testid="check-result">
                        <p>"Ready."</p>
                        <p data-testid="check-note">{note}</p>
                    </div>
                }
                .into_any(),
            },
            Ok(found) => view! {
                <div class="check-failed" role="alert" data-testid="check-result">
                    <p class="error-text">{found.message.unwrap_or_default()}</p>
                    <CheckFix text=found.fix.unwrap_or_default()/>
                </div>
            }
            .into_any(),
            Err(error) => {
                view! { <FormError message=Signal::derive(move || Some(error.to_string()))/> }.into_any()
            }
        })
    }
}
