//! `CloudIdentityPort`: what a cloud admin must configure for a managed environment, with the exact
//! values (issuer, audience, each subject) and the settings ready to copy: the AWS role trust
//! policy, the Google workload identity provider, the Azure federated credential. Every
//! participant may read it: it holds ids and public URLs, no secret.

use super::Compute;
use crate::db::{compute_envs, participants};
use crate::domain::internal;
use crate::oidc::claims::{subject, RunFacts};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::CloudIdentityPort;
use async_trait::async_trait;
use serde_json::json;
use std::collections::HashMap;

#[async_trait]
impl CloudIdentityPort for Compute {
    async fn cloud_identity_view(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<CloudIdentityView, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let workspace_id = access.workspace_id();
        let env = compute_envs::find(&self.core.db.pool, workspace_id, compute_env_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::not_found("Compute environment"))?;
        let config: ComputeConfig = serde_json::from_str(&env.config).map_err(internal)?;
        // An environment on stored keys shows the issuer and the subject it would have, so an
        // admin can prepare the cloud before switching it to managed mode.
        let managed = config.cloud_identity.is_some();
        let identity = config.cloud_identity.unwrap_or_default();
        // Names only of the workspace's own participants; another id shows as an id.
        let (people, _) =
            participants::list(&self.core.db.pool, workspace_id, None, 10_000, 0).await.map_err(internal)?;
        let names: HashMap<i64, String> =
            people.into_iter().map(|p| (p.user_id, format!("{} ({})", p.display_name, p.email))).collect();
        let facts = |user_id: i64, pipeline: &str| RunFacts {
            org_id: access.workspace.org_id,
            workspace_id,
            user_id,
            pipeline: pipeline.to_string(),
            workflow_id: None,
            compute_env_id: compute_env_id.to_string(),
            launch_role: String::new(),
        };
        let issuer = self.core.oidc.issuer().to_string();
        // The default audience is AWS's, or on Google the (first) provider's own resource name.
        let first_provider = identity.mappings.iter().find_map(|m| m.workload_identity_provider.as_deref());
        let default_audience = match (env.platform.as_str(), first_provider) {
            ("google-batch", Some(provider)) => google_audience(provider),
            _ => AWS_AUDIENCE.to_string(),
        };
        let audience = identity.audience.clone().unwrap_or(default_audience);
        let subjects = identity
            .mappings
            .iter()
            .enumerate()
            .map(|(index, mapping)| {
                let user_id = mapping.user_id.unwrap_or(actor.id);
                let pipeline = mapping.pipeline.clone().unwrap_or_default();
                let sub = subject(identity.subject, &facts(user_id, &pipeline));
                let applies_to = match identity.subject {
                    SubjectGranularity::Workspace => "every run in this workspace".to_string(),
                    SubjectGranularity::User => match names.get(&user_id) {
                        Some(name) => format!("runs launched by {name}"),
                        None => format!("runs launched by user {user_id} (not a participant)"),
                    },
                    SubjectGranularity::Pipeline => format!("runs of {pipeline}"),
                };
                let yours = match identity.subject {
                    SubjectGranularity::User => mapping.user_id == Some(actor.id),
                    _ => true,
                };
                let role = mapping.role_arn.clone().unwrap_or_default();
                let mut maps_to = match (&mapping.workload_identity_provider, &mapping.service_account) {
                    (Some(provider), Some(account)) => format!("{provider}, as {account}"),
                    (Some(provider), None) => provider.clone(),
                    _ => role.clone(),
                };
                if let Some(app) = mapping.azure_app() {
                    maps_to.push_str(&format!("; and {app}"));
                }
                MappedSubject {
                    index,
                    aws_trust_policy: aws_trust_policy(&issuer, &audience, &sub, &role),
                    google_provider: google_provider(&issuer, &sub, mapping),
                    azure_federated_credential: azure_credential(&issuer, &sub, index, mapping),
                    subject: sub,
                    applies_to,
                    maps_to,
                    yours,
                }
            })
            .collect();
        let your_subject = subject(identity.subject, &facts(actor.id, ""));
        Ok(CloudIdentityView {
            managed,
            discovery_url: format!("{issuer}/.well-known/openid-configuration"),
            aws_provider: format!(
                "IAM > Identity providers > Add provider: OpenID Connect, provider URL {issuer}, audience \
                 {audience}. Or: aws iam create-open-id-connect-provider --url {issuer} --client-id-list {audience}"
            ),
            issuer,
            audience,
            subject_granularity: identity.subject,
            your_subject,
            subjects,
        })
    }
}

/// The IAM provider's name in ARNs and condition keys: the issuer without its scheme.
fn provider_host(issuer: &str) -> &str {
    issuer.trim_start_matches("https://").trim_start_matches("http://")
}

/// A role trust policy allowing exactly this subject and audience from Strongroom's issuer.
pub fn aws_trust_policy(issuer: &str, audience: &str, sub: &str, role_arn: &str) -> String {
    let host = provider_host(issuer);
    // The role's account: arn:aws:iam::<account>:role/…
    let account = role_arn.split(':').nth(4).filter(|a| !a.is_empty()).unwrap_or("<account-id>");
    let partition = role_arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:{partition}:iam::{account}:oidc-provider/{host}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": {
                format!("{host}:aud"): audience,
                format!("{host}:sub"): sub,
            }}
        }]
    });
    serde_json::to_string_pretty(&policy).expect("a policy serializes")
}

/// The workload identity provider to create (the mapping's pool and provider ids, when it names
/// them), and the grant that lets the subject impersonate the mapping's service account.
fn google_provider(issuer: &str, sub: &str, mapping: &IdentityMapping) -> String {
    let provider = mapping.workload_identity_provider.as_deref();
    let parts: Vec<&str> = provider.map(|p| p.split('/').collect()).unwrap_or_default();
    let (project, pool, id) = match parts.as_slice() {
        [_, project, _, _, _, pool, _, id] => (*project, *pool, *id),
        _ => ("PROJECT_NUMBER", "POOL", "strongroom"),
    };
    let mut text = format!(
        "gcloud iam workload-identity-pools providers create-oidc {id} \\\n  --location=global \
         --workload-identity-pool={pool} \\\n  --issuer-uri={issuer} \\\n  \
         --attribute-mapping=google.subject=assertion.sub \\\n  --attribute-condition=\"assertion.sub == '{sub}'\""
    );
    if let Some(account) = &mapping.service_account {
        let pool_name = format!("projects/{project}/locations/global/workloadIdentityPools/{pool}");
        let principal = google_principal(&format!("{pool_name}/providers/{id}"), sub);
        text.push_str(&format!(
            "\n\ngcloud iam service-accounts add-iam-policy-binding {account} \\\n  \
             --role=roles/iam.workloadIdentityUser \\\n  --member={principal}"
        ));
    }
    text
}

/// The federated identity credential the mapping's Azure app registration needs (issuer, subject,
/// audience exactly), as the file `az ad app federated-credential create` takes.
fn azure_credential(issuer: &str, sub: &str, index: usize, mapping: &IdentityMapping) -> String {
    let credential = json!({
        "name": format!("strongroom-{}", index + 1),
        "issuer": issuer,
        "subject": sub,
        "audiences": [AZURE_AUDIENCE],
        "description": "Runs launched from Strongroom",
    });
    let credential = serde_json::to_string_pretty(&credential).expect("a credential serializes");
    let app =
        mapping.azure_app().map(|app| app.client_id).unwrap_or_else(|| "<application (client) id>".into());
    format!(
        "Save as credential.json, then:\naz ad app federated-credential create --id {app} --parameters credential.json\n\n{credential}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_policy_names_the_issuer_audience_and_subject_exactly() {
        let policy = aws_trust_policy(
            "https://sr.example.org/strongroom",
            "sts.amazonaws.com",
            "org:1:wsp:2:user:3",
            "arn:aws:iam::123456789012:role/ada",
        );
        let parsed: serde_json::Value = serde_json::from_str(&policy).unwrap();
        let statement = &parsed["Statement"][0];
        assert_eq!(
            statement["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/sr.example.org/strongroom"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["sr.example.org/strongroom:sub"],
            "org:1:wsp:2:user:3"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["sr.example.org/strongroom:aud"],
            "sts.amazonaws.com"
        );
    }
}
