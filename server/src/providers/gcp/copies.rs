//! The per-run copies in Google Secret Manager: made, deleted and listed, and the secret and
//! version calls they (and the preflight probe) are made of.
//!
//! Guarantees:
//! - a copy is the secret `tower-<workflowId>-<NAME>` with the `managed-by` label and the exact
//!   install id, workflow id and name in its annotations; an existing secret of that id is
//!   adopted only when all of them are ours, and listing returns only secrets whose label and
//!   install-id annotation are ours;
//! - a version is added only when the secret has no enabled one, so a retry after a lost answer
//!   never makes a second version; the value goes only into the `AddSecretVersion` body;
//! - every write waits for the project's pace (`connect::write_limiter`).

use super::errors::code;
use super::{
    GoogleStore, ANNOTATION_INSTALL_ID, ANNOTATION_NAME, ANNOTATION_PROBE, ANNOTATION_WORKFLOW_ID, COPY_TTL,
    LABEL_MANAGED_BY, LABEL_WORKFLOW_ID,
};
use crate::crypto::SecretBytes;
use crate::providers::paging::PageBound;
use crate::providers::{CopySpec, ManagedCopy, ProviderError};
use google_cloud_gax::error::rpc::Code;
use google_cloud_secretmanager_v1::model::{
    replication::Automatic, secret_version::State, Replication, Secret, SecretPayload,
};
use secrecy::ExposeSecret;
use std::time::Duration;

/// The id of a copy: Google secret ids cannot hold `/`.
pub fn copy_name(workflow_id: &str, name: &str) -> String {
    format!("tower-{workflow_id}-{name}")
}

/// Turns any id into a Google label value: lowercase letters, digits, `_` and `-`, at most 63
/// characters (other characters become `-`).
pub fn label_value(raw: &str) -> String {
    raw.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' { c } else { '-' })
        .take(63)
        .collect()
}

/// Secret ids: letters, digits, `_` and `-`, at most 255 characters.
fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl GoogleStore {
    /// `SecretStore::create_copy`: creates the copy, or adopts the one an earlier attempt made,
    /// and gives it its one version.
    pub(super) async fn create_secret_copy(
        &self,
        copy: CopySpec<'_>,
        value: &SecretBytes,
    ) -> Result<String, ProviderError> {
        let id = Self::copy_id(&copy)?;
        let secret_name = self.secret_name(&id);
        let secret = self.new_secret(
            COPY_TTL,
            vec![
                (LABEL_MANAGED_BY, self.managed_by.clone()),
                (LABEL_WORKFLOW_ID, label_value(copy.workflow_id)),
            ],
            vec![
                (ANNOTATION_INSTALL_ID, self.install_id.clone()),
                (ANNOTATION_WORKFLOW_ID, copy.workflow_id.to_string()),
                (ANNOTATION_NAME, copy.name.to_string()),
            ],
        );
        let created = self
            .create_secret(&id, secret)
            .await
            .map_err(|e| self.error(&e, "secretmanager.secrets.create"))?;
        if !created && self.adopt_existing(copy, &id, &secret_name).await? {
            return Ok(self.reference(copy.workflow_id, copy.name));
        }
        self.add_version(&secret_name, value.expose_secret())
            .await
            .map_err(|e| self.error(&e, "secretmanager.versions.add"))?;
        Ok(self.reference(copy.workflow_id, copy.name))
    }

    /// A secret of the copy's id already exists (an earlier attempt, or someone else): refuses it
    /// unless it is ours, for this copy. Returns whether it already holds an enabled version.
    async fn adopt_existing(
        &self,
        copy: CopySpec<'_>,
        id: &str,
        secret_name: &str,
    ) -> Result<bool, ProviderError> {
        let existing = self
            .client
            .get_secret()
            .set_name(secret_name)
            .send()
            .await
            .map_err(|e| self.error(&e, "secretmanager.secrets.get"))?;
        let same_copy = existing.annotations.get(ANNOTATION_WORKFLOW_ID).map(String::as_str)
            == Some(copy.workflow_id)
            && existing.annotations.get(ANNOTATION_NAME).map(String::as_str) == Some(copy.name);
        if !self.is_ours(&existing) || !same_copy {
            return Err(ProviderError::Rejected(format!(
                "the secret {id} already exists in project {} and was not made by this Strongroom \
                 install for this run; it was left alone",
                self.project
            )));
        }
        self.has_enabled_version(secret_name).await
    }

    /// `SecretStore::delete_copy`: deletes the copy's secret, versions and all.
    pub(super) async fn delete_secret_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        let id = Self::copy_id(&copy)?;
        self.delete_secret(&self.secret_name(&id))
            .await
            .map_err(|e| self.error(&e, "secretmanager.secrets.delete"))
    }

    /// `SecretStore::list_managed`: every copy labelled and annotated as this install's.
    pub(super) async fn list_secret_copies(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let mut found = Vec::new();
        let mut page_token = String::new();
        let mut bound = PageBound::new(format!("this install's copies in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .client
                .list_secrets()
                .set_parent(format!("projects/{}", self.project))
                .set_filter(format!("labels.{LABEL_MANAGED_BY}={}", self.managed_by))
                .set_page_token(page_token)
                .send()
                .await
                .map_err(|e| self.error(&e, "secretmanager.secrets.list"))?;
            for secret in &page.secrets {
                // The filter is Google's; the exact install id is ours to check.
                if !self.is_ours(secret) || secret.annotations.contains_key(ANNOTATION_PROBE) {
                    continue;
                }
                if let Some(copy) = managed_copy(secret) {
                    found.push(copy);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(found);
            }
            page_token = page.next_page_token;
        }
    }

    fn copy_id(copy: &CopySpec<'_>) -> Result<String, ProviderError> {
        let id = copy_name(copy.workflow_id, copy.name);
        if copy.workflow_id.is_empty() || copy.name.is_empty() || !valid_secret_id(&id) {
            return Err(ProviderError::Rejected(format!("'{id}' cannot be a Google secret id")));
        }
        Ok(id)
    }

    /// A secret with automatic replication, deleted by Google after `ttl`.
    pub(super) fn new_secret(
        &self,
        ttl: Duration,
        labels: Vec<(&str, String)>,
        annotations: Vec<(&str, String)>,
    ) -> Secret {
        let ttl = google_cloud_wkt::Duration::clamp(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX), 0);
        Secret::new()
            .set_replication(Replication::new().set_automatic(Automatic::new()))
            .set_labels(labels)
            .set_annotations(annotations)
            .set_ttl(ttl)
    }

    /// Creates the secret `id`; `false` when a secret of that id exists already.
    pub(super) async fn create_secret(
        &self,
        id: &str,
        secret: Secret,
    ) -> Result<bool, google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        let created = self
            .client
            .create_secret()
            .set_parent(format!("projects/{}", self.project))
            .set_secret_id(id)
            .set_secret(secret)
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(Code::AlreadyExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn has_enabled_version(&self, secret: &str) -> Result<bool, ProviderError> {
        let mut page_token = String::new();
        let mut bound = PageBound::new(format!("the versions of {secret} in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .client
                .list_secret_versions()
                .set_parent(secret)
                .set_page_token(page_token)
                .send()
                .await
                .map_err(|e| self.error(&e, "secretmanager.versions.list"))?;
            if page.versions.iter().any(|v| v.state == State::Enabled) {
                return Ok(true);
            }
            if page.next_page_token.is_empty() {
                return Ok(false);
            }
            page_token = page.next_page_token;
        }
    }

    pub(super) async fn add_version(
        &self,
        secret: &str,
        value: &[u8],
    ) -> Result<(), google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        // The client holds the bytes only for the request (`bytes::Bytes`, not zeroised).
        let payload = SecretPayload::new().set_data(value.to_vec());
        self.client.add_secret_version().set_parent(secret).set_payload(payload).send().await.map(|_| ())
    }

    /// Deletes the secret; one that is not there is deleted.
    pub(super) async fn delete_secret(&self, secret: &str) -> Result<(), google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        match self.client.delete_secret().set_name(secret).send().await {
            Ok(()) => Ok(()),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Reads which copy a listed secret is: from the annotations, else from its id.
fn managed_copy(secret: &Secret) -> Option<ManagedCopy> {
    let from_annotations = secret
        .annotations
        .get(ANNOTATION_WORKFLOW_ID)
        .zip(secret.annotations.get(ANNOTATION_NAME))
        .map(|(w, n)| ManagedCopy { workflow_id: w.clone(), name: n.clone() });
    from_annotations.or_else(|| {
        let id = secret.name.rsplit('/').next()?;
        let (workflow_id, name) = id.strip_prefix("tower-")?.split_once('-')?;
        (!workflow_id.is_empty() && !name.is_empty())
            .then(|| ManagedCopy { workflow_id: workflow_id.into(), name: name.into() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_ids_become_valid_label_values() {
        assert_eq!(label_value("Prod-Install_01"), "prod-install_01");
        assert_eq!(label_value("a.b/c d@É"), "a-b-c-d--");
        assert_eq!(label_value(&"X".repeat(100)), "x".repeat(63));
        assert_eq!(
            label_value("550e8400-e29b-41d4-a716-446655440000"),
            "550e8400-e29b-41d4-a716-446655440000"
        );
    }

    #[test]
    fn listed_secrets_name_their_copy_from_annotations_or_id() {
        let by_id = Secret::new().set_name("projects/123/secrets/tower-1k0K4WlGep8ZTM-MY_TOKEN");
        assert_eq!(
            managed_copy(&by_id),
            Some(ManagedCopy { workflow_id: "1k0K4WlGep8ZTM".into(), name: "MY_TOKEN".into() })
        );
        let annotated = by_id.set_annotations([(ANNOTATION_WORKFLOW_ID, "wf"), (ANNOTATION_NAME, "N_1")]);
        assert_eq!(
            managed_copy(&annotated),
            Some(ManagedCopy { workflow_id: "wf".into(), name: "N_1".into() })
        );
        assert_eq!(managed_copy(&Secret::new().set_name("projects/p/secrets/other")), None);
    }
}
