//! The per-run copies in AWS Secrets Manager: made, deleted and listed.
//!
//! Guarantees:
//! - a copy is `tower-<workflowId>/<NAME>`, tagged `managed-by=<install id>`, `workflow-id` and
//!   `secret-name`; a secret of that name without this install's tags for that run is never
//!   adopted by `create_copy`, never deleted by `delete_copy`, never listed;
//! - a retried create sends the same `ClientRequestToken`, so AWS itself treats it as the same
//!   request, and deletes use `ForceDeleteWithoutRecovery`;
//! - the value goes only into the `CreateSecret` request; an error that could echo it is scrubbed.

use super::errors::{code_of, scrub};
use super::{AwsStore, TAG_MANAGED_BY, TAG_PURPOSE, TAG_SECRET_NAME, TAG_WORKFLOW_ID};
use crate::crypto::SecretBytes;
use crate::providers::paging::PageBound;
use crate::providers::{CopySpec, ManagedCopy, ProviderError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

/// The name of a copy as Nextflow and the AWS console show it.
pub fn copy_name(workflow_id: &str, name: &str) -> String {
    format!("tower-{workflow_id}/{name}")
}

/// The `ClientRequestToken` of a copy: a UUID-shaped digest of install id, workflow id and name
/// (36 characters; AWS wants 32–64), the same on every retry of the same copy.
pub fn request_token(install_id: &str, workflow_id: &str, name: &str) -> String {
    let mut hash = Sha256::new();
    for part in ["strongroom-copy", install_id, workflow_id, name] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// Refuses anything but a workflow id (letters and digits): it goes into secret and job
/// definition names.
pub(super) fn check_workflow_id(workflow_id: &str) -> Result<(), ProviderError> {
    if workflow_id.is_empty()
        || workflow_id.len() > 64
        || !workflow_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ProviderError::Rejected(format!("'{workflow_id}' is not a workflow id")));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ProviderError> {
    if name.is_empty() || name.len() > 100 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ProviderError::Rejected(format!("'{name}' is not a secret name")));
    }
    Ok(())
}

pub(super) fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

impl AwsStore {
    /// `SecretStore::create_copy`: creates the copy, or adopts the one an earlier attempt made.
    pub(super) async fn create_secret_copy(
        &self,
        copy: CopySpec<'_>,
        value: &SecretBytes,
    ) -> Result<String, ProviderError> {
        check_workflow_id(copy.workflow_id)?;
        check_name(copy.name)?;
        let secret_name = copy_name(copy.workflow_id, copy.name);
        let value = std::str::from_utf8(value.expose_secret()).map_err(|_| {
            ProviderError::Rejected(format!(
                "The value of {} is not UTF-8 text, and AWS Secrets Manager copies are passed to tasks as \
                 text.",
                copy.name
            ))
        })?;
        self.pacing.create.until_ready().await;
        let mut request = self
            .secrets
            .create_secret()
            .name(&secret_name)
            .client_request_token(request_token(&self.install_id, copy.workflow_id, copy.name))
            .description(format!("Strongroom copy of {} for run {}", copy.name, copy.workflow_id))
            .tags(tag(TAG_MANAGED_BY, &self.install_id))
            .tags(tag(TAG_WORKFLOW_ID, copy.workflow_id))
            .tags(tag(TAG_SECRET_NAME, copy.name))
            .secret_string(value);
        if let Some(key) = &self.kms_key_id {
            request = request.kms_key_id(key);
        }
        match request.send().await {
            Ok(created) => {
                tracing::debug!(copy = %secret_name, "created the copy");
                match created.arn() {
                    Some(arn) => Ok(arn.to_string()),
                    None => self.existing_copy(copy, &secret_name).await?.ok_or_else(|| {
                        ProviderError::Unavailable(format!(
                            "AWS created {secret_name} but did not say its ARN"
                        ))
                    }),
                }
            }
            Err(e) if code_of(&e) == Some("ResourceExistsException") => {
                // An earlier attempt made it (or someone else did: existing_copy checks the tags).
                self.existing_copy(copy, &secret_name).await?.ok_or_else(|| {
                    ProviderError::Unavailable(format!("{secret_name} was said to exist but cannot be found"))
                })
            }
            Err(e) => Err(scrub(self.sdk_error("secretsmanager:CreateSecret", &e), value)),
        }
    }

    /// `SecretStore::delete_copy`: force-deletes the copy if it is there and ours.
    pub(super) async fn delete_secret_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        check_workflow_id(copy.workflow_id)?;
        check_name(copy.name)?;
        let secret_name = copy_name(copy.workflow_id, copy.name);
        // A secret of that name that is not our copy (create_copy refused it) is not ours to
        // delete; our copy is then not there, which is what delete promises.
        match self.existing_copy(copy, &secret_name).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(ProviderError::Rejected(why)) => {
                tracing::warn!(copy = %secret_name, "not deleting a secret this install did not make: {why}");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        self.pacing.delete.until_ready().await;
        match self
            .secrets
            .delete_secret()
            .secret_id(&secret_name)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(copy = %secret_name, "deleted the copy");
                Ok(())
            }
            Err(e) if code_of(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(self.sdk_error("secretsmanager:DeleteSecret", &e)),
        }
    }

    /// `SecretStore::list_managed`: every copy tagged as this install's, page by bounded page.
    pub(super) async fn list_secret_copies(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let filter =
            |key: FilterNameStringType, value: &str| Filter::builder().key(key).values(value).build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let mut bound = PageBound::new(format!("this install's copies in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .secrets
                .list_secrets()
                .filters(filter(FilterNameStringType::TagKey, TAG_MANAGED_BY))
                .filters(filter(FilterNameStringType::TagValue, &self.install_id))
                .filters(filter(FilterNameStringType::Name, "tower-"))
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("secretsmanager:ListSecrets", &e))?;
            for entry in page.secret_list() {
                if let Some(copy) = self.managed_copy(entry.name().unwrap_or_default(), entry.tags()) {
                    found.push(copy);
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(found)
    }

    /// Whether tags say this is this install's copy of `copy`.
    fn is_our_copy(&self, tags: &[Tag], copy: CopySpec<'_>) -> bool {
        let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        get(TAG_MANAGED_BY) == Some(self.install_id.as_str())
            && get(TAG_WORKFLOW_ID) == Some(copy.workflow_id)
    }

    /// The ARN of an existing secret of the copy's name, if it is ours; `None` if there is none.
    async fn existing_copy(
        &self,
        copy: CopySpec<'_>,
        secret_name: &str,
    ) -> Result<Option<String>, ProviderError> {
        let described = match self.secrets.describe_secret().secret_id(secret_name).send().await {
            Ok(described) => described,
            Err(e) if code_of(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(self.sdk_error("secretsmanager:DescribeSecret", &e)),
        };
        if !self.is_our_copy(described.tags(), copy) {
            return Err(ProviderError::Rejected(format!(
                "A secret named {secret_name} already exists in AWS Secrets Manager and is not a copy \
                 this Strongroom made for run {}; it was left alone.",
                copy.workflow_id
            )));
        }
        described
            .arn()
            .map(|arn| Some(arn.to_string()))
            .ok_or_else(|| ProviderError::Unavailable(format!("AWS described {secret_name} without its ARN")))
    }

    /// A listed secret as a copy, or `None` when it is not one of this install's copies (another
    /// install's, a probe, or a name that is not `tower-<wf>/<NAME>`).
    fn managed_copy(&self, secret_name: &str, tags: &[Tag]) -> Option<ManagedCopy> {
        let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        // ListSecrets matches tag keys and tag values separately: check the pair here.
        if get(TAG_MANAGED_BY) != Some(self.install_id.as_str()) || get(TAG_PURPOSE).is_some() {
            return None;
        }
        let (name_wf, name_name) = secret_name.strip_prefix("tower-")?.split_once('/')?;
        let workflow_id = get(TAG_WORKFLOW_ID).unwrap_or(name_wf);
        let name = get(TAG_SECRET_NAME).unwrap_or(name_name);
        // The tags must agree with the name, or delete_copy would aim at another secret.
        (workflow_id == name_wf && name == name_name)
            .then(|| ManagedCopy { workflow_id: workflow_id.to_string(), name: name.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_token_is_deterministic_uuid_shaped_and_distinct_per_copy() {
        let a = request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORD");
        assert_eq!(a, request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORD"));
        assert!((32..=64).contains(&a.len()), "{a}");
        assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
        assert_ne!(a, request_token("install-2", "1k0K4WlGep8ZTM", "DB_PASSWORD"));
        assert_ne!(a, request_token("install-1", "1k0K4WlGep8ZTN", "DB_PASSWORD"));
        assert_ne!(a, request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORE"));
        // Length-prefixed parts: moving a character from one part to the next changes the token.
        assert_ne!(request_token("ab", "c", "D"), request_token("a", "bc", "D"));
    }

    #[test]
    fn names_and_workflow_ids_are_checked() {
        assert!(check_workflow_id("1k0K4WlGep8ZTM").is_ok());
        assert!(check_workflow_id("../x").is_err());
        assert!(check_workflow_id("").is_err());
        assert!(check_name("DB_PASSWORD").is_ok());
        assert!(check_name("a/b").is_err());
    }
}
