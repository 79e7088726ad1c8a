//! Managed cloud identity (issue 14): who a run of a managed environment acts as. The subject
//! comes from ids at the granularity the administrator chose; the mapping gives the cloud
//! identity; the session (`providers::CloudSession`) is fixed at launch, and tokens are minted
//! from it by the issuer whenever the provider needs to exchange one.
//!
//! Guarantees: a launcher only ever gets a mapping that applies to them (per user: their own;
//! per pipeline: the launched pipeline's); a mapping picked by position that does not apply is
//! refused with the subject to map, never silently replaced.

use crate::domain::Core;
use crate::oidc::claims::{pipeline_hash, subject, RunFacts};
use crate::providers::aws::WebIdentity;
use crate::providers::gcp::Federation;
use crate::providers::{CloudSession, IdentityTokens, ManagedIdentity, MintToken, PreflightFailure};
use app::model::{google_audience, CloudIdentity, AWS_AUDIENCE, AZURE_AUDIENCE};
use std::sync::Arc;

/// The session a run of `facts` acts as: the subject, the mapping that applies (the one picked
/// by position, or the first), the audience.
pub fn session_for(
    identity: &CloudIdentity,
    facts: &RunFacts,
    pick: Option<usize>,
) -> Result<CloudSession, String> {
    let sub = subject(identity.subject, facts);
    let launched = pipeline_hash(&facts.pipeline);
    let applicable = identity.mappings_for(facts.user_id, |p| pipeline_hash(p) == launched);
    let chosen = match pick {
        Some(index) => applicable.iter().find(|(i, _)| *i == index).map(|(_, m)| *m).ok_or_else(|| {
            format!(
                "Cloud identity {} is not one of those mapped for you (subject '{sub}'); choose one of yours.",
                index + 1
            )
        })?,
        None => applicable.first().map(|(_, m)| *m).ok_or_else(|| {
            format!(
                "No cloud identity is mapped for subject '{sub}' in this compute environment; ask a workspace \
                 owner or admin to map it to a cloud identity."
            )
        })?,
    };
    // AWS maps to a role; Google to a workload identity provider (and perhaps a service account),
    // whose default allowed audience is its own resource name.
    let (role_arn, audience) = match (&chosen.role_arn, &chosen.workload_identity_provider) {
        (Some(role), _) => (role.clone(), AWS_AUDIENCE.to_string()),
        (None, Some(provider)) => (String::new(), google_audience(provider)),
        (None, None) => return Err("The mapped cloud identity names no IAM role nor provider.".to_string()),
    };
    Ok(CloudSession {
        subject: sub,
        audience: identity.audience.clone().unwrap_or(audience),
        role_arn,
        workload_identity_provider: chosen.workload_identity_provider.clone(),
        service_account: chosen.service_account.clone(),
        azure_app: chosen.azure_app(),
        session_name: session_name(facts.user_id, facts.workflow_id.as_deref()),
        org_id: facts.org_id,
        workspace_id: facts.workspace_id,
        user_id: facts.user_id,
        pipeline: facts.pipeline.clone(),
        workflow_id: facts.workflow_id.clone(),
        compute_env_id: facts.compute_env_id.clone(),
        launch_role: facts.launch_role.clone(),
    })
}

/// AWS `RoleSessionName` (`[\w+=,.@-]{2,64}`): the user and the run, as CloudTrail shows them.
pub fn session_name(user_id: i64, workflow_id: Option<&str>) -> String {
    let run = workflow_id.unwrap_or("check");
    let safe: String = run.chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect();
    format!("strongroom-u{user_id}-{safe}")
}

/// The facts a session's tokens state.
pub fn facts_of(session: &CloudSession) -> RunFacts {
    RunFacts {
        org_id: session.org_id,
        workspace_id: session.workspace_id,
        user_id: session.user_id,
        pipeline: session.pipeline.clone(),
        workflow_id: session.workflow_id.clone(),
        compute_env_id: session.compute_env_id.clone(),
        launch_role: session.launch_role.clone(),
    }
}

impl Core {
    /// A fresh identity token for a live run's head job (called with the run's own token only:
    /// the trace API's rule), for its own cloud or (`for_azure`) for the Azure app registration its
    /// mapping adds. A run that has ended, or has no such identity, gets none.
    pub async fn identity_token_for_run(
        &self,
        workflow_id: &str,
        for_azure: bool,
    ) -> Result<String, app::error::AppError> {
        use app::error::AppError;
        let run = crate::db::runs::find(&self.db.pool, workflow_id)
            .await
            .map_err(crate::domain::internal)?
            .ok_or_else(|| AppError::not_found("Run"))?;
        let Some(session) = run.target.and_then(|t| t.cloud_session) else {
            return Err(AppError::not_found("Managed cloud identity of this run"));
        };
        let audience = match (for_azure, &session.azure_app) {
            (false, _) => session.audience.clone(),
            (true, Some(_)) => AZURE_AUDIENCE.to_string(),
            (true, None) => return Err(AppError::not_found("Azure app registration of this run")),
        };
        if run.ended_at.is_some() {
            return Err(AppError::Forbidden(
                "The run has ended: its identity tokens are no longer issued.".into(),
            ));
        }
        let issuer = self.oidc.clone();
        let now = crate::clock::now_ms() / 1000;
        let signed = tokio::task::spawn_blocking(move || {
            issuer.sign(session.subject.clone(), &audience, &facts_of(&session), now)
        })
        .await
        .map_err(crate::domain::internal)?
        .map_err(crate::domain::internal)?;
        tracing::info!(workflow_id, jti = %signed.claims.jti, for_azure, "identity token issued to the run's head job");
        Ok(signed.token)
    }

    /// Mints fresh tokens for `session` with `audience`: what a provider exchanges whenever it
    /// needs the cloud identity's credentials.
    fn token_minter(&self, session: &CloudSession, audience: &str) -> MintToken {
        let issuer = self.oidc.clone();
        let minted = session.clone();
        let audience = audience.to_string();
        Arc::new(move || {
            let now = crate::clock::now_ms() / 1000;
            issuer
                .sign(minted.subject.clone(), &audience, &facts_of(&minted), now)
                .map(|signed| signed.token)
                .map_err(|e| format!("Strongroom could not sign the run's identity token: {e}"))
        })
    }

    /// What the providers need to act as the session's cloud identity: the AWS role, or the
    /// Google provider (and service account).
    pub fn managed_identity_for(&self, session: &CloudSession) -> ManagedIdentity {
        let tokens = IdentityTokens {
            issuer: self.oidc.issuer().to_string(),
            subject: session.subject.clone(),
            audience: session.audience.clone(),
            mint: self.token_minter(session, &session.audience),
        };
        match &session.workload_identity_provider {
            Some(provider) => ManagedIdentity::Google(Federation {
                provider: provider.clone(),
                service_account: session.service_account.clone(),
                tokens,
            }),
            None => ManagedIdentity::Aws(WebIdentity {
                role_arn: session.role_arn.clone(),
                session_name: session.session_name.clone(),
                tokens,
            }),
        }
    }

    /// The session's Azure app registration, checked with a real client-assertion exchange (none
    /// to check: Ok). Called by every preflight, so the Check and each launch say in plain words
    /// when Azure would refuse the run's head job.
    pub async fn check_azure_app(&self, session: &CloudSession) -> Result<(), PreflightFailure> {
        let Some(app) = &session.azure_app else { return Ok(()) };
        let tokens = IdentityTokens {
            issuer: self.oidc.issuer().to_string(),
            subject: session.subject.clone(),
            audience: AZURE_AUDIENCE.to_string(),
            mint: self.token_minter(session, AZURE_AUDIENCE),
        };
        self.azure.check_exchange(app, &tokens).await.map_err(|error| PreflightFailure {
            step: format!("act as {app} with Strongroom's token"),
            message: error.to_string(),
            fix: "Add the federated identity credential that the compute environment's Identity section \
                  shows to the app registration (issuer, this subject, audience api://AzureADTokenExchange)."
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{IdentityMapping, SubjectGranularity};

    fn facts(user_id: i64, pipeline: &str) -> RunFacts {
        RunFacts {
            org_id: 1,
            workspace_id: 2,
            user_id,
            pipeline: pipeline.into(),
            workflow_id: Some("4xYzW".into()),
            compute_env_id: "9".into(),
            launch_role: "launch".into(),
        }
    }

    fn mapping(user_id: Option<i64>, pipeline: Option<&str>, role: &str) -> IdentityMapping {
        IdentityMapping {
            user_id,
            pipeline: pipeline.map(String::from),
            role_arn: Some(format!("arn:aws:iam::123456789012:role/{role}")),
            ..IdentityMapping::default()
        }
    }

    #[test]
    fn per_user_each_launcher_gets_their_own_mapping_and_never_anothers() {
        let identity = CloudIdentity {
            subject: SubjectGranularity::User,
            audience: None,
            mappings: vec![
                mapping(Some(5), None, "ada"),
                mapping(Some(6), None, "bob"),
                mapping(Some(5), None, "ada-2"),
            ],
        };
        let ada = session_for(&identity, &facts(5, "p"), None).unwrap();
        assert_eq!(
            (ada.subject.as_str(), ada.role_arn.as_str()),
            ("org:1:wsp:2:user:5", "arn:aws:iam::123456789012:role/ada")
        );
        assert_eq!(ada.audience, "sts.amazonaws.com");
        assert_eq!(ada.session_name, "strongroom-u5-4xYzW");
        let second = session_for(&identity, &facts(5, "p"), Some(2)).unwrap();
        assert!(second.role_arn.ends_with("role/ada-2"));
        let refused = session_for(&identity, &facts(5, "p"), Some(1)).unwrap_err();
        assert!(
            refused.contains("not one of those mapped for you") && refused.contains("org:1:wsp:2:user:5"),
            "{refused}"
        );
        let nobody = session_for(&identity, &facts(7, "p"), None).unwrap_err();
        assert!(nobody.contains("No cloud identity is mapped for subject 'org:1:wsp:2:user:7'"), "{nobody}");
    }

    #[test]
    fn per_pipeline_the_launched_pipeline_picks_the_mapping() {
        let identity = CloudIdentity {
            subject: SubjectGranularity::Pipeline,
            audience: Some("custom-aud".into()),
            mappings: vec![mapping(None, Some("https://github.com/nf-core/rnaseq"), "rnaseq")],
        };
        let run = session_for(&identity, &facts(5, "https://github.com/nf-core/rnaseq.git"), None).unwrap();
        assert!(run.role_arn.ends_with("role/rnaseq") && run.subject.starts_with("org:1:wsp:2:pipeline:"));
        assert_eq!(run.audience, "custom-aud");
        assert!(session_for(&identity, &facts(5, "https://github.com/nf-core/sarek"), None).is_err());
    }

    #[test]
    fn a_google_mapping_defaults_the_audience_to_its_provider() {
        let provider = "projects/123/locations/global/workloadIdentityPools/pool/providers/lab";
        let identity = CloudIdentity {
            subject: SubjectGranularity::Workspace,
            audience: None,
            mappings: vec![IdentityMapping {
                workload_identity_provider: Some(provider.into()),
                service_account: Some("runner@p.iam.gserviceaccount.com".into()),
                ..IdentityMapping::default()
            }],
        };
        let run = session_for(&identity, &facts(5, "p"), None).unwrap();
        assert_eq!(run.audience, format!("https://iam.googleapis.com/{provider}"));
        assert_eq!(run.workload_identity_provider.as_deref(), Some(provider));
        assert!(run.role_arn.is_empty());
        assert_eq!(run.acts_as(), "service account runner@p.iam.gserviceaccount.com");
    }
}
