//! Adding credentials, and replacing their keys. Secret fields (the AWS secret access key, the
//! Google key file, an SSH private key and its passphrase) are never autocompleted, emptied as
//! soon as the form is sent and never filled from anything the server returns. The SSH key is a
//! textarea (a key file has line breaks a password input would drop), with spellcheck off so no
//! browser service sees it.

use crate::api::compute::{CreateCredentials, ReplaceCredentials};
use crate::components::{action_error, page_owned_action, FormError, NotLoaded};
use crate::model::{check_compute_name, CredentialsRow};
use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;
use leptos::server_fn::ServerFn;

/// The add form in the deferred forms' chunk (see `Deferred`): it opens from "New credentials", so
/// its code is fetched then and not with the Compute tab. It makes its own server action, so the
/// code that sends keys is in that chunk too, owned by `page` (see `page_owned_action`);
/// `on_added` tells the page when they are saved, even if the form was closed meanwhile.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn add_credentials_form(
    page: WeakOwner,
    workspace_id: i64,
    on_added: Callback<()>,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || {
        let create = page_owned_action::<CreateCredentials>(&page, on_added);
        view! { <AddCredentialsForm create workspace_id/> }
    }))
}

/// The replace form, in the same chunk: it opens from a row's "Replace keys"; `on_replaced` tells
/// the page when the new keys are saved (its action is the page's too).
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn replace_credentials_form(
    page: WeakOwner,
    workspace_id: i64,
    credentials: CredentialsRow,
    on_replaced: Callback<()>,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || {
        let credentials = credentials.clone();
        let replace = page_owned_action::<ReplaceCredentials>(&page, on_replaced);
        view! { <ReplaceCredentialsForm replace workspace_id credentials/> }
    }))
}

/// What the key fields hold, for one form.
#[derive(Clone, Copy)]
struct KeyInputs {
    provider: RwSignal<String>,
    access_key: RwSignal<String>,
    secret_key: RwSignal<String>,
    role: RwSignal<String>,
    external_id: RwSignal<String>,
    key_file: RwSignal<String>,
}

/// The key fields as a form posts them, the secret ones already taken out of the page.
struct PostedKeys {
    provider: String,
    access_key: String,
    secret_key: String,
    assume_role_arn: String,
    external_id: String,
    key_file: String,
}

impl KeyInputs {
    fn new(provider: &str) -> KeyInputs {
        KeyInputs {
            provider: RwSignal::new(provider.to_string()),
            access_key: RwSignal::new(String::new()),
            secret_key: RwSignal::new(String::new()),
            role: RwSignal::new(String::new()),
            external_id: RwSignal::new(String::new()),
            key_file: RwSignal::new(String::new()),
        }
    }

    fn is_aws(&self) -> bool {
        self.provider.with(|p| p == "aws")
    }

    /// AWS keys come in pairs: one without the other is refused here rather than by the server.
    fn pair_hint(&self) -> Option<&'static str> {
        let (access, secret) =
            (self.access_key.with(|k| !k.trim().is_empty()), self.secret_key.with(|k| !k.is_empty()));
        match (self.is_aws(), access, secret) {
            (true, true, false) => Some("Give the secret access key that goes with this access key id."),
            (true, false, true) => Some("Give the access key id that goes with this secret access key."),
            _ => None,
        }
    }

    /// What to send. The secret fields leave the page at once, whatever the answer.
    fn post(&self) -> PostedKeys {
        let secret_key = self.secret_key.get_untracked();
        let key_file = self.key_file.get_untracked();
        self.secret_key.set(String::new());
        self.key_file.set(String::new());
        PostedKeys {
            provider: self.provider.get_untracked(),
            access_key: self.access_key.get_untracked(),
            secret_key,
            assume_role_arn: self.role.get_untracked(),
            external_id: self.external_id.get_untracked(),
            key_file,
        }
    }

    /// After a success: nothing typed stays in the form.
    fn clear(&self) {
        for field in [self.access_key, self.role, self.external_id] {
            field.set(String::new());
        }
    }
}

/// The fields of one provider's keys. `id` makes the element ids unique when two forms are open.
#[component]
fn KeyFields(keys: KeyInputs, id: &'static str) -> impl IntoView {
    let text = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    let is_ssh = move || keys.provider.with(|p| p == "ssh");
    let is_aws = move || keys.is_aws();
    let field = move |name: &str| format!("{id}-{name}");
    view! {
        <Show when=is_ssh>
            <label for=field("private-key")>"SSH private key"</label>
            <textarea id=field("private-key") name="key_file" rows="6" autocomplete="off"
                spellcheck="false" data-testid="credentials-private-key" class="mono"
                placeholder="-----BEGIN OPENSSH PRIVATE KEY----- (write-only, never shown again)"
                prop:value=move || keys.key_file.get() on:input=text(keys.key_file)></textarea>
            <label for=field("passphrase")>"Passphrase (if the key has one)"</label>
            <input id=field("passphrase") name="secret_key" type="password"
                autocomplete="new-password" data-testid="credentials-passphrase"
                prop:value=move || keys.secret_key.get() on:input=text(keys.secret_key)/>
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
            <label for=field("key-file")>"Service account key (JSON)"</label>
            <input id=field("key-file") name="key_file" type="password" autocomplete="off"
                data-testid="credentials-key-file"
                placeholder="Paste the key file; it cannot be shown again"
                prop:value=move || keys.key_file.get() on:input=text(keys.key_file)/>
            <input type="hidden" name="access_key" value=""/>
            <input type="hidden" name="secret_key" value=""/>
            <input type="hidden" name="assume_role_arn" value=""/>
            <input type="hidden" name="external_id" value=""/>
        }>
            <label for=field("access-key")>"Access key id"</label>
            <input id=field("access-key") name="access_key" autocomplete="off" spellcheck="false"
                data-testid="credentials-access-key" placeholder="AKIA…"
                prop:value=move || keys.access_key.get() on:input=text(keys.access_key)/>
            <label for=field("secret-key")>"Secret access key"</label>
            <input id=field("secret-key") name="secret_key" type="password"
                autocomplete="new-password" data-testid="credentials-secret-key"
                placeholder="Write-only: it cannot be shown again"
                prop:value=move || keys.secret_key.get() on:input=text(keys.secret_key)/>
            <p class="hint" role="status" data-testid="credentials-keys-hint">{move || keys.pair_hint()}</p>
            <label for=field("role")>"Role to assume (optional)"</label>
            <input id=field("role") name="assume_role_arn" autocomplete="off" spellcheck="false"
                placeholder="arn:aws:iam::123456789012:role/strongroom"
                prop:value=move || keys.role.get() on:input=text(keys.role)/>
            <label for=field("external-id")>"External id (optional)"</label>
            <input id=field("external-id") name="external_id" autocomplete="off"
                prop:value=move || keys.external_id.get() on:input=text(keys.external_id)/>
            <input type="hidden" name="key_file" value=""/>
            <p class="hint">
                "Without keys, the role is assumed with the Strongroom host's own AWS credentials: \
                 an instance administrator must allow that for this workspace, and the external id \
                 is then the workspace's own (shown in the list below once added; leave the field \
                 empty)."
            </p>
        </Show>
        </Show>
    }
}

#[component]
fn AddCredentialsForm(create: ServerAction<CreateCredentials>, workspace_id: i64) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let keys = KeyInputs::new("aws");
    let name_hint =
        move || name.with(|n| (!n.is_empty()).then(|| check_compute_name("credentials", n).err()).flatten());
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
            keys.clear();
        }
    });
    view! {
        <section class="card">
            <h2>"Add credentials"</h2>
            <form method="post" action=CreateCredentials::PATH data-testid="add-credentials-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let posted = keys.post();
                    create.dispatch(CreateCredentials {
                        workspace_id,
                        name: name.get_untracked(),
                        provider: posted.provider,
                        access_key: posted.access_key,
                        secret_key: posted.secret_key,
                        assume_role_arn: posted.assume_role_arn,
                        external_id: posted.external_id,
                        key_file: posted.key_file,
                    });
                }>
                <input type="hidden" name="workspace_id" value=workspace_id/>
                <label for="credentials-name">"Name"</label>
                <input id="credentials-name" name="name" required autocomplete="off" placeholder="aws-prod"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="hint">{name_hint}</p>
                <label for="credentials-provider">"Provider"</label>
                <select id="credentials-provider" name="provider" data-testid="credentials-provider"
                    prop:value=move || keys.provider.get()
                    on:change=move |ev| keys.provider.set(event_target_value(&ev))>
                    <option value="aws">"Amazon Web Services"</option>
                    <option value="google">"Google Cloud"</option>
                    <option value="ssh">"SSH (HPC cluster)"</option>
                </select>
                <KeyFields keys id="credentials"/>
                <button type="submit" class="primary" data-testid="add-credentials"
                    disabled=move || {
                        name.with(|n| check_compute_name("credentials", n).is_err()) || keys.pair_hint().is_some()
                    }>
                    "Add credentials"
                </button>
            </form>
            <FormError message=action_error(create)/>
        </section>
    }
}

/// New keys for existing credentials: the name and the provider stay, and the environments that
/// use them take the new keys at their next launch (runs already started keep theirs).
#[component]
fn ReplaceCredentialsForm(
    replace: ServerAction<ReplaceCredentials>,
    workspace_id: i64,
    credentials: CredentialsRow,
) -> impl IntoView {
    let keys = KeyInputs::new(credentials.provider.as_str());
    let credentials_id = credentials.id;
    view! {
        <form method="post" action=ReplaceCredentials::PATH class="replace-credentials"
            data-testid="replace-credentials-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let posted = keys.post();
                keys.clear();
                replace.dispatch(ReplaceCredentials {
                    workspace_id,
                    credentials_id,
                    provider: posted.provider,
                    access_key: posted.access_key,
                    secret_key: posted.secret_key,
                    assume_role_arn: posted.assume_role_arn,
                    external_id: posted.external_id,
                    key_file: posted.key_file,
                });
            }>
            <h3>{format!("New keys for {}", credentials.name)}</h3>
            <input type="hidden" name="workspace_id" value=workspace_id/>
            <input type="hidden" name="credentials_id" value=credentials_id/>
            <input type="hidden" name="provider" value=credentials.provider.as_str()/>
            <KeyFields keys id="replace-credentials"/>
            <button type="submit" class="primary" data-testid="replace-credentials"
                disabled=move || keys.pair_hint().is_some() || replace.pending().get()>
                "Replace keys"
            </button>
            <FormError message=action_error(replace)/>
        </form>
    }
}
