//! The Identity section of a managed compute environment: what its runs act as and what a cloud
//! admin must configure for that, with the exact values (issuer, audience, each subject) and the
//! settings ready to copy (AWS trust policy, Google provider, Azure federated credential).

use super::check_fix::FixDocument;
use crate::api::compute::CloudIdentityView as LoadIdentity;
use crate::components::{Deferred, NotLoaded};
use crate::model::{CloudIdentityView, MappedSubject, SubjectGranularity};
use leptos::prelude::*;

fn granularity_words(granularity: SubjectGranularity) -> &'static str {
    match granularity {
        SubjectGranularity::Workspace => "one identity for the whole workspace",
        SubjectGranularity::Pipeline => "one identity per pipeline",
        SubjectGranularity::User => "one identity per launching user",
    }
}

/// Shows the environment's identity, loaded when the section is first opened (managed
/// environments only): the page itself renders and hydrates without it, and the section's code
/// is in the deferred forms' chunk (see `Deferred`), fetched then too. Opened once, it stays.
#[component]
pub fn CloudIdentityPanel(workspace_id: i64, compute_env_id: i64) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="identity-panel" data-testid="identity-panel" on:toggle=move |_| opened.set(true)>
            <summary>"Identity: managed (no stored keys)"</summary>
            <Show when=move || opened.get()>
                <Deferred load=move || identity_section(workspace_id, compute_env_id)/>
            </Show>
        </details>
    }
}

#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
fn identity_section(workspace_id: i64, compute_env_id: i64) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || view! { <IdentitySection workspace_id compute_env_id/> }))
}

/// Asks the server for the identity as it is first shown.
#[component]
fn IdentitySection(workspace_id: i64, compute_env_id: i64) -> impl IntoView {
    let load = ServerAction::<LoadIdentity>::new();
    load.dispatch(LoadIdentity { workspace_id, compute_env_id });
    view! {
        {move || load.pending().get().then(|| view! { <p class="hint">"Loading…"</p> })}
        {move || load.value().get().map(|found| match found {
            Ok(identity) => view! { <IdentityDetails identity/> }.into_any(),
            Err(error) => view! { <p class="error-text">{error.to_string()}</p> }.into_any(),
        })}
    }
}

#[component]
fn IdentityDetails(identity: CloudIdentityView) -> impl IntoView {
    let CloudIdentityView {
        issuer,
        discovery_url,
        audience,
        subject_granularity,
        your_subject,
        aws_provider,
        subjects,
        ..
    } = identity;
    view! {
        <p>
            "Runs act as short-lived cloud identities, exchanged for tokens from Strongroom's OIDC issuer: "
            {granularity_words(subject_granularity)} "."
        </p>
        <dl class="identity-facts">
            <dt>"Issuer"</dt><dd class="mono" data-testid="identity-issuer">{issuer}</dd>
            <dt>"Discovery"</dt><dd class="mono">{discovery_url}</dd>
            <dt>"Audience (aud)"</dt><dd class="mono" data-testid="identity-audience">{audience}</dd>
            <dt>"Your subject (sub)"</dt><dd class="mono" data-testid="identity-your-subject">{your_subject}</dd>
        </dl>
        <p class="fix-text">{aws_provider}</p>
        <ul class="identity-subjects">
            {subjects.into_iter().map(|subject| view! { <SubjectItem subject/> }).collect_view()}
        </ul>
    }
}

#[component]
fn SubjectItem(subject: MappedSubject) -> impl IntoView {
    let MappedSubject {
        subject,
        applies_to,
        maps_to,
        yours,
        aws_trust_policy,
        google_provider,
        azure_federated_credential,
        ..
    } = subject;
    view! {
        <li data-testid="identity-subject">
            <p>
                <span class="mono" data-testid="identity-subject-sub">{subject}</span>
                " → " <span class="mono">{maps_to.clone()}</span>
                {yours.then(|| view! { " " <span class="badge">"yours"</span> })}
            </p>
            <p class="hint">"For " {applies_to} "."</p>
            <FixDocument title=format!("AWS: trust policy of {maps_to}") body=aws_trust_policy/>
            <FixDocument title="Google: workload identity provider".to_string() body=google_provider/>
            <FixDocument title="Azure: federated identity credential".to_string() body=azure_federated_credential/>
        </li>
    }
}
