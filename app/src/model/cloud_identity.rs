//! A cloud compute environment's **managed** identity (issue 14): instead of stored keys, each run
//! gets a short-lived token from Strongroom's OIDC issuer and exchanges it for the cloud identity
//! mapped to its subject (an AWS role; a Google workload identity provider and, optionally, a
//! service account to impersonate). A mapping may also name an Azure app registration: the run's
//! head job then gets a token for it too, so the pipeline can reach Azure resources (Blob storage,
//! say) as that app, through Azure's workload identity variables. Strongroom has no Azure compute
//! platform: Nextflow reads no pipeline secrets on Azure Batch.
//!
//! The subject granularity is the administrator's choice: one subject for the whole workspace, one
//! per pipeline, or one per launching user. Mappings say which cloud identity a subject gets; in
//! per-user mode each user's own mappings are theirs alone.

use serde::{Deserialize, Serialize};

/// Whose identity a managed environment's runs get.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectGranularity {
    /// Every run of the workspace: `org:<orgId>:wsp:<wsId>`.
    #[default]
    Workspace,
    /// One per pipeline repository: `org:<orgId>:wsp:<wsId>:pipeline:<hash>`.
    Pipeline,
    /// One per launching user: `org:<orgId>:wsp:<wsId>:user:<userId>`.
    User,
}

impl SubjectGranularity {
    pub const ALL: [SubjectGranularity; 3] =
        [SubjectGranularity::Workspace, SubjectGranularity::Pipeline, SubjectGranularity::User];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectGranularity::Workspace => "workspace",
            SubjectGranularity::Pipeline => "pipeline",
            SubjectGranularity::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<SubjectGranularity> {
        SubjectGranularity::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// The managed identity settings of a cloud environment (`cloudIdentity` in its config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudIdentity {
    #[serde(default)]
    pub subject: SubjectGranularity,
    /// The token's `aud`; the cloud's default when absent (AWS `sts.amazonaws.com`, Google the
    /// provider's full resource name, Azure `api://AzureADTokenExchange`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default)]
    pub mappings: Vec<IdentityMapping>,
}

/// One subject's cloud identity. Per user: `userId` says whose; per pipeline: `pipeline` says
/// which; per workspace: neither.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// Per user, instead of `userId`: a participant's email, turned into their id when saved
    /// (never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// AWS: the role to assume with the token (`AssumeRoleWithWebIdentity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Google: `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity_provider: Option<String>,
    /// Google: a service account to impersonate after the exchange (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Azure, beside the role or provider: the tenant and the app registration (client) whose
    /// federated credential trusts the subject. Both or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The most mappings one environment may hold (a list people read on one page).
pub const MAX_MAPPINGS: usize = 100;

/// AWS's audience for `AssumeRoleWithWebIdentity`, and Azure's for a federated credential.
pub const AWS_AUDIENCE: &str = "sts.amazonaws.com";
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Google's default allowed audience of a workload identity provider (`projects/<n>/locations/
/// global/workloadIdentityPools/<pool>/providers/<id>`): its full resource name as a URL.
pub fn google_audience(provider: &str) -> String {
    format!("https://iam.googleapis.com/{provider}")
}

/// The provider as Google's STS names it in a token exchange's `audience`.
pub fn google_sts_audience(provider: &str) -> String {
    format!("//iam.googleapis.com/{provider}")
}

/// The principal a federated token of `subject` acts as, which a cloud admin grants roles to
/// (`roles/iam.workloadIdentityUser` on a service account to impersonate, or roles on resources).
pub fn google_principal(provider: &str, subject: &str) -> String {
    let pool = provider.split("/providers/").next().unwrap_or(provider);
    format!("principal://iam.googleapis.com/{pool}/subject/{subject}")
}

impl CloudIdentity {
    /// The mappings that apply to a run of `user_id` launching a pipeline for which
    /// `same_pipeline` says yes, with their positions (what a launch names to pick one).
    pub fn mappings_for(
        &self,
        user_id: i64,
        same_pipeline: impl Fn(&str) -> bool,
    ) -> Vec<(usize, &IdentityMapping)> {
        self.mappings
            .iter()
            .enumerate()
            .filter(|(_, m)| match self.subject {
                SubjectGranularity::Workspace => true,
                SubjectGranularity::User => m.user_id == Some(user_id),
                SubjectGranularity::Pipeline => m.pipeline.as_deref().is_some_and(&same_pipeline),
            })
            .collect()
    }
}

impl IdentityMapping {
    /// What the mapping grants, as people read it ("role/pipeline-runner", a provider's last part).
    pub fn describe(&self) -> String {
        if let Some(arn) = &self.role_arn {
            return arn.rsplit(':').next().unwrap_or(arn).to_string();
        }
        if let Some(provider) = &self.workload_identity_provider {
            let short = provider.rsplit('/').next().unwrap_or(provider);
            return match &self.service_account {
                Some(sa) => format!("{short} as {sa}"),
                None => short.to_string(),
            };
        }
        "nothing".into()
    }

    /// What the mapping grants, with the Azure app registration it adds, if any.
    pub fn describe_all(&self) -> String {
        match self.azure_app() {
            Some(app) => format!("{}, and {app}", self.describe()),
            None => self.describe(),
        }
    }

    /// The Azure app registration the mapping adds, when it names one.
    pub fn azure_app(&self) -> Option<AzureApp> {
        match (&self.tenant_id, &self.client_id) {
            (Some(tenant_id), Some(client_id)) => {
                Some(AzureApp { tenant_id: tenant_id.clone(), client_id: client_id.clone() })
            }
            _ => None,
        }
    }
}

/// An Azure app registration a run may act as (client-assertion flow, with Strongroom's token for
/// the audience `api://AzureADTokenExchange`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureApp {
    pub tenant_id: String,
    pub client_id: String,
}

/// How every message and view names it.
impl std::fmt::Display for AzureApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Azure app registration {} in tenant {}", self.client_id, self.tenant_id)
    }
}

/// What a cloud admin must configure for a managed environment, with the exact values: the
/// issuer, the audience, each mapped subject and, ready to copy, the provider and trust settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudIdentityView {
    /// Whether the environment is in managed mode (otherwise it uses stored keys, and the rest
    /// shows what managed mode would use: no mappings yet).
    pub managed: bool,
    pub issuer: String,
    /// `<issuer>/.well-known/openid-configuration`.
    pub discovery_url: String,
    pub audience: String,
    pub subject_granularity: SubjectGranularity,
    /// The caller's own subject in this environment (what their runs and Checks use).
    pub your_subject: String,
    /// AWS: how to create the IAM OIDC identity provider (once per account).
    pub aws_provider: String,
    pub subjects: Vec<MappedSubject>,
}

/// One mapping as a cloud admin reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedSubject {
    /// The mapping's position (what a launch names to pick it).
    pub index: usize,
    pub subject: String,
    /// Whom or what it is for: everyone in the workspace, a user's name, a pipeline.
    pub applies_to: String,
    /// What it maps to (the role ARN).
    pub maps_to: String,
    /// Whether it applies to the caller.
    pub yours: bool,
    /// AWS: the role's trust policy, ready to paste.
    pub aws_trust_policy: String,
    /// Google: the workload identity provider to create, as a gcloud command.
    pub google_provider: String,
    /// Azure: the federated identity credential to add to the app registration.
    pub azure_federated_credential: String,
}

/// Which cloud an environment's identity is for (an Azure app registration may be added to either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCloud {
    Aws,
    Google,
}

/// Checks (and tidies: trims, drops empty fields) a managed identity for `cloud`. Errors say
/// which mapping and field, never anything else.
pub fn check_cloud_identity(cloud: IdentityCloud, identity: CloudIdentity) -> Result<CloudIdentity, String> {
    let tidy = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let audience = tidy(identity.audience);
    if let Some(aud) = &audience {
        if aud.len() > 400 || aud.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("audience must be at most 400 characters, without spaces.".into());
        }
    }
    if identity.mappings.is_empty() {
        return Err("A managed identity needs at least one mapping to a cloud identity.".into());
    }
    if identity.mappings.len() > MAX_MAPPINGS {
        return Err(format!("A managed identity can hold at most {MAX_MAPPINGS} mappings."));
    }
    let mut mappings = Vec::new();
    for (index, m) in identity.mappings.into_iter().enumerate() {
        let n = index + 1;
        let m = IdentityMapping {
            user_id: m.user_id,
            user_email: tidy(m.user_email),
            pipeline: tidy(m.pipeline),
            role_arn: tidy(m.role_arn),
            workload_identity_provider: tidy(m.workload_identity_provider),
            service_account: tidy(m.service_account),
            tenant_id: tidy(m.tenant_id),
            client_id: tidy(m.client_id),
        };
        match identity.subject {
            SubjectGranularity::Workspace if m.user_id.is_some() || m.user_email.is_some() || m.pipeline.is_some() => {
                return Err(format!(
                    "Mapping {n}: with one subject per workspace, a mapping names no user and no pipeline."
                ))
            }
            SubjectGranularity::User if (m.user_id.is_none() && m.user_email.is_none()) || m.pipeline.is_some() => {
                return Err(format!(
                    "Mapping {n}: with one subject per user, each mapping names a userId (or a participant's userEmail)."
                ))
            }
            SubjectGranularity::Pipeline if m.pipeline.is_none() || m.user_id.is_some() || m.user_email.is_some() => {
                return Err(format!(
                    "Mapping {n}: with one subject per pipeline, each mapping names a pipeline repository."
                ))
            }
            _ => {}
        }
        if let Some(p) = &m.pipeline {
            if p.len() > 500 || p.chars().any(char::is_control) {
                return Err(format!(
                    "Mapping {n}: pipeline must be a repository URL of at most 500 characters."
                ));
            }
        }
        check_mapping_target(cloud, &m).map_err(|e| format!("Mapping {n}: {e}"))?;
        mappings.push(m);
    }
    check_azure_credential_limit(&mappings)?;
    Ok(CloudIdentity { subject: identity.subject, audience, mappings })
}

/// Azure allows this many federated identity credentials on one app registration.
pub const AZURE_CREDENTIALS_PER_APP: usize = 20;

/// Each subject mapped to an Azure app needs a federated credential of its own on that app, and
/// Azure allows 20: more subjects on one app could never all act as it.
fn check_azure_credential_limit(mappings: &[IdentityMapping]) -> Result<(), String> {
    // What tells the subjects apart: the user (by id or email) or the pipeline.
    type Who<'a> = (Option<i64>, Option<&'a str>, Option<&'a str>);
    let mut subjects: std::collections::HashMap<AzureApp, std::collections::HashSet<Who>> =
        std::collections::HashMap::new();
    for m in mappings {
        if let Some(app) = m.azure_app() {
            let who = (m.user_id, m.user_email.as_deref(), m.pipeline.as_deref());
            subjects.entry(app).or_default().insert(who);
        }
    }
    match subjects.into_iter().find(|(_, who)| who.len() > AZURE_CREDENTIALS_PER_APP) {
        Some((app, who)) => Err(format!(
            "Azure app registration {} would need {} federated identity credentials, one per subject, and \
             Azure allows {AZURE_CREDENTIALS_PER_APP} per app: map some of these subjects to another app \
             registration, or use one subject per workspace or per pipeline.",
            app.client_id,
            who.len()
        )),
        None => Ok(()),
    }
}

fn check_mapping_target(cloud: IdentityCloud, m: &IdentityMapping) -> Result<(), String> {
    let google = m.workload_identity_provider.is_some() || m.service_account.is_some();
    match cloud {
        IdentityCloud::Aws => {
            if google {
                return Err(
                    "an AWS environment maps subjects to IAM roles (roleArn), not to a Google provider."
                        .into(),
                );
            }
            let arn = m.role_arn.as_deref().ok_or("roleArn is required.")?;
            if !is_role_arn(arn) {
                return Err(
                    "roleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/pipeline-runner."
                        .into(),
                );
            }
        }
        IdentityCloud::Google => {
            if m.role_arn.is_some() {
                return Err(
                    "a Google environment maps subjects to a workload identity provider, not to an IAM role."
                        .into(),
                );
            }
            let provider =
                m.workload_identity_provider.as_deref().ok_or("workloadIdentityProvider is required.")?;
            if !is_workload_identity_provider(provider) {
                return Err("workloadIdentityProvider must be projects/<project number>/locations/global/\
                     workloadIdentityPools/<pool>/providers/<provider>."
                    .into());
            }
            if let Some(sa) = &m.service_account {
                if !is_service_account_email(sa) {
                    return Err("serviceAccount must be a service account email (name@project.iam.gserviceaccount.com).".into());
                }
            }
        }
    }
    // The Azure app registration the run may also act as: both ids, or neither.
    if m.tenant_id.is_some() || m.client_id.is_some() {
        for (field, value) in [("tenantId", &m.tenant_id), ("clientId", &m.client_id)] {
            match value.as_deref() {
                None => {
                    return Err(
                        "an Azure app registration needs both tenantId and clientId (or neither).".into()
                    )
                }
                Some(id) if !is_guid(id) => {
                    return Err(format!(
                        "{field} must be a GUID such as 00000000-0000-0000-0000-000000000000."
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// `arn:<partition>:iam::<12 digits>:role/<optional path/>name`.
pub fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let name_ok = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|r| !r.is_empty() && r.len() <= 512 && r.chars().all(name_ok) && !r.ends_with('/'))
}

fn is_workload_identity_provider(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let id_ok = |s: &str| {
        (4..=32).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    parts.len() == 8
        && parts[0] == "projects"
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[2] == "locations"
        && parts[3] == "global"
        && parts[4] == "workloadIdentityPools"
        && id_ok(parts[5])
        && parts[6] == "providers"
        && id_ok(parts[7])
}

fn is_service_account_email(email: &str) -> bool {
    email.split_once('@').is_some_and(|(name, domain)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && domain.ends_with(".gserviceaccount.com")
    })
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(subject: SubjectGranularity, mappings: Vec<IdentityMapping>) -> CloudIdentity {
        CloudIdentity { subject, audience: None, mappings }
    }

    fn role(arn: &str) -> IdentityMapping {
        IdentityMapping { role_arn: Some(arn.into()), ..IdentityMapping::default() }
    }

    #[test]
    fn role_arns_must_look_like_iam_roles() {
        for ok in ["arn:aws:iam::123456789012:role/runner", "arn:aws-us-gov:iam::123456789012:role/a/b/c-1"] {
            assert!(is_role_arn(ok), "{ok}");
        }
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "role/x",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn each_granularity_takes_the_mappings_it_can_tell_apart() {
        let ws = aws(SubjectGranularity::Workspace, vec![role(" arn:aws:iam::123456789012:role/runner ")]);
        let checked = check_cloud_identity(IdentityCloud::Aws, ws).unwrap();
        assert_eq!(checked.mappings[0].role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/runner"));

        let per_user = IdentityMapping { user_id: Some(3), ..role("arn:aws:iam::123456789012:role/ada") };
        assert!(check_cloud_identity(
            IdentityCloud::Aws,
            aws(SubjectGranularity::User, vec![per_user.clone()])
        )
        .is_ok());
        let error =
            check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![per_user]))
                .unwrap_err();
        assert!(error.starts_with("Mapping 1:"), "{error}");
        let error = check_cloud_identity(
            IdentityCloud::Aws,
            aws(SubjectGranularity::User, vec![role("arn:aws:iam::123456789012:role/x")]),
        )
        .unwrap_err();
        assert!(error.contains("userId"), "{error}");
        let error =
            check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![])).unwrap_err();
        assert!(error.contains("at least one mapping"), "{error}");
    }

    #[test]
    fn google_and_azure_mappings_name_their_own_kind_of_identity() {
        let google = IdentityMapping {
            workload_identity_provider: Some(
                "projects/123456/locations/global/workloadIdentityPools/strongroom/providers/runs".into(),
            ),
            service_account: Some("runner@proj-1.iam.gserviceaccount.com".into()),
            ..IdentityMapping::default()
        };
        assert!(check_cloud_identity(
            IdentityCloud::Google,
            aws(SubjectGranularity::Workspace, vec![google.clone()])
        )
        .is_ok());
        assert!(check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![google]))
            .is_err());
        let azure = IdentityMapping {
            tenant_id: Some("0b0b0b0b-1111-2222-3333-444444444444".into()),
            client_id: Some("not-a-guid".into()),
            ..role("arn:aws:iam::123456789012:role/runner")
        };
        let error = check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![azure]))
            .unwrap_err();
        assert!(error.contains("clientId must be a GUID"), "{error}");
    }

    #[test]
    fn an_azure_app_registration_comes_beside_a_role_or_provider_with_both_ids() {
        let tenant = "0b0b0b0b-1111-2222-3333-444444444444";
        let client = "c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd";
        let with_azure = IdentityMapping {
            tenant_id: Some(tenant.into()),
            client_id: Some(format!(" {client} ")),
            ..role("arn:aws:iam::123456789012:role/runner")
        };
        let checked =
            check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![with_azure]))
                .unwrap();
        let app = checked.mappings[0].azure_app().unwrap();
        assert_eq!((app.tenant_id.as_str(), app.client_id.as_str()), (tenant, client));
        assert_eq!(
            checked.mappings[0].describe_all(),
            format!("role/runner, and Azure app registration {client} in tenant {tenant}")
        );

        // Azure alone is no identity for the run's own cloud; half an app registration is refused.
        let alone = IdentityMapping {
            tenant_id: Some(tenant.into()),
            client_id: Some(client.into()),
            ..IdentityMapping::default()
        };
        let error = check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![alone]))
            .unwrap_err();
        assert!(error.contains("roleArn is required"), "{error}");
        let half =
            IdentityMapping { tenant_id: Some(tenant.into()), ..role("arn:aws:iam::123456789012:role/r") };
        let error = check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::Workspace, vec![half]))
            .unwrap_err();
        assert!(error.contains("both tenantId and clientId"), "{error}");
        assert_eq!(role("arn:aws:iam::123456789012:role/r").azure_app(), None);
    }

    #[test]
    fn one_azure_app_takes_at_most_twenty_subjects() {
        let users = |count: i64, client: &str| -> Vec<IdentityMapping> {
            (1..=count)
                .map(|user| IdentityMapping {
                    user_id: Some(user),
                    tenant_id: Some("0b0b0b0b-1111-2222-3333-444444444444".into()),
                    client_id: Some(client.into()),
                    ..role("arn:aws:iam::123456789012:role/runner")
                })
                .collect()
        };
        let app = "c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd";
        let twenty = check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::User, users(20, app)));
        assert!(twenty.is_ok(), "{twenty:?}");
        let error = check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::User, users(21, app)))
            .unwrap_err();
        assert!(error.contains(&format!("{app} would need 21 federated identity credentials")), "{error}");
        // Twenty-one users over two apps fit.
        let mut split = users(11, app);
        split.extend(users(21, "d2d2d2d2-aaaa-bbbb-cccc-dddddddddddd").into_iter().skip(11));
        assert!(check_cloud_identity(IdentityCloud::Aws, aws(SubjectGranularity::User, split)).is_ok());
    }
}
