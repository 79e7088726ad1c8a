//! Adding credentials. Secret fields (the AWS secret access key, the Google key file, an SSH
//! private key and its passphrase) are never autocompleted, emptied as soon as the form is sent
//! and never filled from anything the server returns. The SSH key is a textarea (a key file has
//! line breaks a password input would drop), with spellcheck off so no browser service sees it.

use crate::api::compute::CreateCredentials;
use crate::components::{action_error, FormError};
use crate::model::check_compute_name;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn AddCredentialsForm(workspace_id: i64, create: ServerAction<CreateCredentials>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let provider = RwSignal::new("aws".to_string());
    let access_key = RwSignal::new(String::new());
    let secret_key = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let external_id = RwSignal::new(String::new());
    let key_file = RwSignal::new(String::new());
    let name_hint =
        move || name.with(|n| (!n.is_empty()).then(|| check_compute_name("credentials", n).err()).flatten());
    let is_aws = move || provider.with(|p| p == "aws");
    let is_ssh = move || provider.with(|p| p == "ssh");
    // AWS keys come in pairs: one without the other is refused here rather than by the server.
    let keys_hint = move || {
        let (access, secret) =
            (access_key.with(|k| !k.trim().is_empty()), secret_key.with(|k| !k.is_empty()));
        match (is_aws(), access, secret) {
            (true, true, false) => Some("Give the secret access key that goes with this access key id."),
            (true, false, true) => Some("Give the access key id that goes with this secret access key."),
            _ => None,
        }
    };
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            for field in [name, access_key, role, external_id] {
                field.set(String::new());
            }
        }
    });
    let text = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <section class="card">
            <h2>"Add credentials"</h2>
            <form method="post" action=CreateCredentials::PATH data-testid="add-credentials-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    // Secrets leave the page at once, whatever the answer.
                    let secret = secret_key.get_untracked();
                    let file = key_file.get_untracked();
                    secret_key.set(String::new());
                    key_file.set(String::new());
                    create.dispatch(CreateCredentials {
                        workspace_id,
                        name: name.get_untracked(),
                        provider: provider.get_untracked(),
                        access_key: access_key.get_untracked(),
                        secret_key: secret,
                        assume_role_arn: role.get_untracked(),
                        external_id: external_id.get_untracked(),
                        key_file: file,
                    });
                }>
                <input type="hidden" name="workspace_id" value=workspace_id/>
                <label for="credentials-name">"Name"</label>
                <input id="credentials-name" name="name" required autocomplete="off" placeholder="aws-prod"
                    prop:value=move || name.get() on:input=text(name)/>
                <p class="hint">{name_hint}</p>
                <label for="credentials-provider">"Provider"</label>
                <select id="credentials-provider" name="provider" data-testid="credentials-provider"
                    prop:value=move || provider.get() on:change=text(provider)>
                    <option value="aws">"Amazon Web Services"</option>
                    <option value="google">"Google Cloud"</option>
                    <option value="ssh">"SSH (HPC cluster)"</option>
                </select>
                <Show when=is_ssh>
                    <label for="credentials-private-key">"SSH private key"</label>
                    <textarea id="credentials-private-key" name="key_file" rows="6" autocomplete="off"
                        spellcheck="false" data-testid="credentials-private-key" class="mono"
                        placeholder="-----BEGIN OPENSSH PRIVATE KEY----- (write-only, never shown again)"
                        prop:value=move || key_file.get() on:input=text(key_file)></textarea>
                    <label for="credentials-passphrase">"Passphrase (if the key has one)"</label>
                    <input id="credentials-passphrase" name="secret_key" type="password"
                        autocomplete="new-password" data-testid="credentials-passphrase"
                        prop:value=move || secret_key.get() on:input=text(secret_key)/>
                    <input type="hidden" name="access_key" value=""/>
                    <input type="hidden" name="assume_role_arn" value=""/>
                    <input type="hidden" name="external_id" value=""/>
                    <p class="hint">
                        "The cluster account's key: add its public half to ~/.ssh/authorized_keys of that \
                         account. The list shows the key's fingerprint."
                    </p>
                </Show>
                <Show when=move || !is_ssh()>
                <Show when=is_aws fallback=move || view! {
                    <label for="credentials-key-file">"Service account key (JSON)"</label>
                    <input id="credentials-key-file" name="key_file" type="password" autocomplete="off"
                        data-testid="credentials-key-file"
                        placeholder="Paste the key file; it cannot be shown again"
                        prop:value=move || key_file.get() on:input=text(key_file)/>
                    <input type="hidden" name="access_key" value=""/>
                    <input type="hidden" name="secret_key" value=""/>
                    <input type="hidden" name="assume_role_arn" value=""/>
                    <input type="hidden" name="external_id" value=""/>
                }>
                    <label for="credentials-access-key">"Access key id"</label>
                    <input id="credentials-access-key" name="access_key" autocomplete="off" spellcheck="false"
                        data-testid="credentials-access-key" placeholder="AKIA…"
                        prop:value=move || access_key.get() on:input=text(access_key)/>
                    <label for="credentials-secret-key">"Secret access key"</label>
                    <input id="credentials-secret-key" name="secret_key" type="password"
                        autocomplete="new-password" data-testid="credentials-secret-key"
                        placeholder="Write-only: it cannot be shown again"
                        prop:value=move || secret_key.get() on:input=text(secret_key)/>
                    <p class="hint" role="status" data-testid="credentials-keys-hint">{keys_hint}</p>
                    <label for="credentials-role">"Role to assume (optional)"</label>
                    <input id="credentials-role" name="assume_role_arn" autocomplete="off" spellcheck="false"
                        placeholder="arn:aws:iam::123456789012:role/strongroom"
                        prop:value=move || role.get() on:input=text(role)/>
                    <label for="credentials-external-id">"External id (optional)"</label>
                    <input id="credentials-external-id" name="external_id" autocomplete="off"
                        prop:value=move || external_id.get() on:input=text(external_id)/>
                    <input type="hidden" name="key_file" value=""/>
                    <p class="hint">
                        "Without keys, the role is assumed with the Strongroom host's own AWS credentials: \
                         an instance administrator must allow that for this workspace, and the external id \
                         is then the workspace's own (shown in the list below once added; leave the field \
                         empty)."
                    </p>
                </Show>
                </Show>
                <button type="submit" class="primary" data-testid="add-credentials"
                    disabled=move || {
                        name.with(|n| check_compute_name("credentials", n).is_err()) || keys_hint().is_some()
                    }>
                    "Add credentials"
                </button>
            </form>
            <FormError message=action_error(create)/>
        </section>
    }
}
