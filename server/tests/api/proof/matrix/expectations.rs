//! The one table of who may do what: each routed operation (REST method and path, or server
//! function) names the rule that guards it, and `expect` derives every principal's outcome from
//! that rule and the role table (`Role::allows`). Nothing here lists status codes per pair.
//!
//! The rules are the documented ones (README's REST API table, conventions.md's role table,
//! `server/src/policy/`): signed out is 401; a run token is 403 outside its run's trace
//! endpoints; a participant whose role lacks the permission is 403; anyone who takes no part
//! (non-member, a member of another workspace, an instance administrator, who is not a
//! participant) is told "not found" (404), so ids outside one's reach reveal nothing.

use super::principals::Principal;
use app::model::{Permission, Role};

/// What guards one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Public: signed-out visitors too (sign-in, the OpenAPI document).
    Anyone,
    /// Any signed-in account, on its own things (tokens, organizations it creates).
    SignedIn,
    /// A workspace participant whose role allows the permission.
    Workspace(Permission),
    /// Nextflow's trace reports: the run's launcher (who must still be allowed to launch) or the
    /// run's own run token.
    Launcher,
    /// An organization's members (owners and participants of its workspaces) see it.
    OrgMember,
    /// Only an organization's owners create workspaces in it.
    OrgOwner,
    /// Managed identities: members use them, owners manage them, and instance administrators
    /// count as owners of every organization.
    Identities {
        manage: bool,
    },
    InstanceAdmin,
    /// A run's managed cloud identity token: the run's own run token alone. The matrix's runs
    /// have no managed identity, so even that token is told "not found"; everyone else is
    /// refused (`oidc::run_identity` proves the token's own path).
    RunIdentityToken,
    /// First-visit setup, once it is done: refused to everyone.
    SetupDone,
    /// An API path with no endpoint: the API's JSON 404 for everyone.
    NoRoute,
}

/// What a principal must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx, or a 3xx with a `Location` (the server functions that sign in and out redirect).
    Allowed,
    /// This refusal status.
    Refused(u16),
}

/// The documented status of first-visit setup once an administrator exists.
pub const SETUP_DONE_STATUS: u16 = 409;

pub fn expect(rule: Rule, who: Principal) -> Outcome {
    use Outcome::*;
    use Principal::*;
    match (rule, who) {
        (Rule::RunIdentityToken, RunToken) => Refused(404),
        (Rule::RunIdentityToken, SignedOut) => Refused(401),
        (Rule::RunIdentityToken, _) => Refused(403),
        (Rule::Launcher, RunToken) => Allowed,
        // A run token reports on its own run and does nothing else (authentication middleware).
        (_, RunToken) => Refused(403),
        (Rule::NoRoute, _) => Refused(404),
        (Rule::Anyone, _) => Allowed,
        (Rule::SetupDone, _) => Refused(SETUP_DONE_STATUS),
        (_, SignedOut) => Refused(401),
        (Rule::SignedIn, _) => Allowed,
        (Rule::InstanceAdmin, InstanceAdmin) => Allowed,
        (Rule::InstanceAdmin, _) => Refused(403),
        (Rule::Workspace(permission), Member(role)) => allowed_if(role.allows(permission)),
        // The launcher of every run in the matrix is the workspace owner.
        (Rule::Launcher, Member(role)) => {
            allowed_if(role.allows(Permission::LaunchWorkflow) && role == Role::Owner)
        }
        (Rule::OrgMember, Member(_)) => Allowed,
        // The workspace owner made the organization, so owns it; other participants do not.
        (Rule::OrgOwner, Member(role)) => allowed_if(role == Role::Owner),
        (Rule::Identities { manage }, Member(role)) => allowed_if(!manage || role == Role::Owner),
        (Rule::Identities { .. }, InstanceAdmin) => Allowed,
        (_, NonMember | OtherWorkspace | InstanceAdmin) => Refused(404),
    }
}

fn allowed_if(allowed: bool) -> Outcome {
    if allowed {
        Outcome::Allowed
    } else {
        Outcome::Refused(403)
    }
}

/// What an allowed call needs made first, so that each principal acts on its own fresh object and
/// one principal's delete does not turn the next one's into a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fresh {
    Nothing,
    WorkspaceSecret,
    ComputeEnv,
    Credentials,
    Identity,
    /// The principal's own cluster credentials on a fresh identity (the owner's when the
    /// principal cannot register any).
    OwnClusterCredentials,
    /// A run launched by the owner, with a run token of its own.
    Run,
    /// A new account that takes part in the workspace (view).
    Participant,
    /// A new account that takes no part yet.
    Account,
    /// An access token of the principal's own (the owner's for those who cannot have one).
    OwnToken,
    /// A session of the principal's own, made for this call (sign-out and password change end
    /// sessions).
    OwnSession,
}

use Fresh as F;
use Permission::*;
use Rule::*;

const READ: Rule = Workspace(ReadWorkspace);
const WRITE: Rule = Workspace(WriteSecrets);
const LAUNCH: Rule = Workspace(LaunchWorkflow);
const COMPUTE: Rule = Workspace(ManageCompute);
const PARTICIPANTS: Rule = Workspace(ManageParticipants);
const USE_IDS: Rule = Identities { manage: false };
const MANAGE_IDS: Rule = Identities { manage: true };

/// Every operation the router serves, by `METHOD path-template` as the router names it.
pub const OPERATIONS: &[(&str, Rule, Fresh)] = &[
    // REST
    ("GET /api/openapi.json", Anyone, F::Nothing),
    ("GET /api/user-info", SignedIn, F::Nothing),
    ("GET /api/orgs", SignedIn, F::Nothing),
    ("POST /api/orgs", SignedIn, F::Nothing),
    ("GET /api/orgs/{org_id}/workspaces", OrgMember, F::Nothing),
    ("POST /api/orgs/{org_id}/workspaces", OrgOwner, F::Nothing),
    ("GET /api/pipeline-secrets", READ, F::Nothing),
    ("POST /api/pipeline-secrets", WRITE, F::Nothing),
    ("GET /api/pipeline-secrets/validate", READ, F::Nothing),
    ("GET /api/pipeline-secrets/{secret_id}", READ, F::Nothing),
    ("PUT /api/pipeline-secrets/{secret_id}", WRITE, F::Nothing),
    ("DELETE /api/pipeline-secrets/{secret_id}", WRITE, F::WorkspaceSecret),
    ("GET /api/compute-envs", READ, F::Nothing),
    ("POST /api/compute-envs", COMPUTE, F::Nothing),
    ("GET /api/compute-envs/{compute_env_id}", READ, F::Nothing),
    ("PUT /api/compute-envs/{compute_env_id}", COMPUTE, F::ComputeEnv),
    ("DELETE /api/compute-envs/{compute_env_id}", COMPUTE, F::ComputeEnv),
    ("POST /api/compute-envs/{compute_env_id}/validate", COMPUTE, F::Nothing),
    ("GET /api/compute-envs/{compute_env_id}/identity", READ, F::Nothing),
    ("GET /api/credentials", READ, F::Nothing),
    ("POST /api/credentials", COMPUTE, F::Nothing),
    ("GET /api/credentials/{credentials_id}", READ, F::Nothing),
    ("PUT /api/credentials/{credentials_id}", COMPUTE, F::Credentials),
    ("DELETE /api/credentials/{credentials_id}", COMPUTE, F::Credentials),
    ("GET /api/identities", USE_IDS, F::Nothing),
    ("POST /api/identities", MANAGE_IDS, F::Nothing),
    ("GET /api/identities/{managed_identity_id}", USE_IDS, F::Nothing),
    ("PUT /api/identities/{managed_identity_id}", MANAGE_IDS, F::Identity),
    ("DELETE /api/identities/{managed_identity_id}", MANAGE_IDS, F::Identity),
    ("GET /api/identities/{managed_identity_id}/credentials", USE_IDS, F::Nothing),
    ("POST /api/identities/{managed_identity_id}/credentials", USE_IDS, F::Identity),
    (
        "PUT /api/identities/{managed_identity_id}/credentials/{managed_credentials_id}",
        USE_IDS,
        F::OwnClusterCredentials,
    ),
    (
        "DELETE /api/identities/{managed_identity_id}/credentials/{managed_credentials_id}",
        USE_IDS,
        F::OwnClusterCredentials,
    ),
    ("GET /api/workflow", READ, F::Nothing),
    ("POST /api/workflow/launch", LAUNCH, F::Nothing),
    ("GET /api/workflow/{workflow_id}", READ, F::Nothing),
    ("POST /api/workflow/{workflow_id}/cancel", LAUNCH, F::Run),
    ("POST /api/trace/create", Launcher, F::Run),
    ("PUT /api/trace/{workflow_id}/begin", Launcher, F::Run),
    ("PUT /api/trace/{workflow_id}/progress", Launcher, F::Run),
    ("PUT /api/trace/{workflow_id}/heartbeat", Launcher, F::Run),
    ("PUT /api/trace/{workflow_id}/complete", Launcher, F::Run),
    ("POST /api/trace/{workflow_id}/identity-token", RunIdentityToken, F::Run),
    ("GET /api/tokens", SignedIn, F::Nothing),
    ("POST /api/tokens", SignedIn, F::Nothing),
    ("DELETE /api/tokens/{token_id}", SignedIn, F::OwnToken),
    ("PUT /api/workspaces/{workspace_id}/host-identity", InstanceAdmin, F::Nothing),
    ("GET /api/orgs/{org_id}/workspaces/{workspace_id}/participants", READ, F::Nothing),
    ("PUT /api/orgs/{org_id}/workspaces/{workspace_id}/participants/add", PARTICIPANTS, F::Account),
    (
        "DELETE /api/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}",
        PARTICIPANTS,
        F::Participant,
    ),
    (
        "PUT /api/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}/role",
        PARTICIPANTS,
        F::Participant,
    ),
    ("ANY /api/{*rest}", NoRoute, F::Nothing),
    // Server functions
    ("POST /sfn/session_user", Anyone, F::Nothing),
    ("POST /sfn/needs_setup", Anyone, F::Nothing),
    ("POST /sfn/setup", SetupDone, F::Nothing),
    ("POST /sfn/login", Anyone, F::Nothing),
    ("POST /sfn/logout", Anyone, F::OwnSession),
    ("POST /sfn/change_password", SignedIn, F::OwnSession),
    ("POST /sfn/list_users", InstanceAdmin, F::Nothing),
    ("POST /sfn/create_user", InstanceAdmin, F::Nothing),
    ("POST /sfn/set_user_disabled", InstanceAdmin, F::Account),
    ("POST /sfn/instance_audit", InstanceAdmin, F::Nothing),
    ("POST /sfn/workspace_audit", PARTICIPANTS, F::Nothing),
    ("POST /sfn/list_orgs", SignedIn, F::Nothing),
    ("POST /sfn/create_org", SignedIn, F::Nothing),
    ("POST /sfn/list_workspaces", OrgMember, F::Nothing),
    ("POST /sfn/create_workspace", OrgOwner, F::Nothing),
    ("POST /sfn/workspace_view", READ, F::Nothing),
    ("POST /sfn/list_secrets", READ, F::Nothing),
    ("POST /sfn/validate_secret_name", READ, F::Nothing),
    ("POST /sfn/create_secret", WRITE, F::Nothing),
    ("POST /sfn/update_secret", WRITE, F::Nothing),
    ("POST /sfn/delete_secret", WRITE, F::WorkspaceSecret),
    ("POST /sfn/list_compute_envs", READ, F::Nothing),
    ("POST /sfn/create_compute_env", COMPUTE, F::Nothing),
    ("POST /sfn/delete_compute_env", COMPUTE, F::ComputeEnv),
    ("POST /sfn/check_compute_env", COMPUTE, F::Nothing),
    ("POST /sfn/cloud_identity_view", READ, F::Nothing),
    ("POST /sfn/list_credentials", READ, F::Nothing),
    ("POST /sfn/create_credentials", COMPUTE, F::Nothing),
    ("POST /sfn/replace_credentials", COMPUTE, F::Credentials),
    ("POST /sfn/delete_credentials", COMPUTE, F::Credentials),
    ("POST /sfn/list_participants", READ, F::Nothing),
    ("POST /sfn/add_participant", PARTICIPANTS, F::Account),
    ("POST /sfn/set_participant_role", PARTICIPANTS, F::Participant),
    ("POST /sfn/remove_participant", PARTICIPANTS, F::Participant),
    ("POST /sfn/launch_options", READ, F::Nothing),
    ("POST /sfn/launch_run", LAUNCH, F::Nothing),
    ("POST /sfn/list_runs", READ, F::Nothing),
    ("POST /sfn/describe_run", READ, F::Nothing),
    ("POST /sfn/cancel_run", LAUNCH, F::Run),
    ("POST /sfn/list_tokens", SignedIn, F::Nothing),
    ("POST /sfn/create_token", SignedIn, F::Nothing),
    ("POST /sfn/delete_token", SignedIn, F::OwnToken),
    ("POST /sfn/list_identities", USE_IDS, F::Nothing),
    ("POST /sfn/create_identity", MANAGE_IDS, F::Nothing),
    ("POST /sfn/update_identity", MANAGE_IDS, F::Identity),
    ("POST /sfn/delete_identity", MANAGE_IDS, F::Identity),
    ("POST /sfn/list_identity_members", USE_IDS, F::Nothing),
    ("POST /sfn/your_cluster_credentials", SignedIn, F::Nothing),
    ("POST /sfn/add_cluster_credentials", USE_IDS, F::Identity),
    ("POST /sfn/replace_cluster_credentials", USE_IDS, F::OwnClusterCredentials),
    ("POST /sfn/delete_cluster_credentials", USE_IDS, F::OwnClusterCredentials),
];

/// Operations that end every other session of the caller: run after all the rest.
pub const RUN_LAST: &[&str] = &["POST /sfn/change_password"];

#[test]
fn the_table_names_each_operation_once() {
    let mut keys: Vec<&str> = OPERATIONS.iter().map(|(key, _, _)| *key).collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(before, keys.len(), "an operation is listed twice");
}

#[test]
fn outcomes_follow_the_role_table() {
    use Principal::*;
    // Spot checks that the derivation reads the role table and the refusal rules as documented.
    assert_eq!(expect(WRITE, Member(Role::Maintain)), Outcome::Allowed);
    assert_eq!(expect(WRITE, Member(Role::Launch)), Outcome::Refused(403));
    assert_eq!(expect(WRITE, OtherWorkspace), Outcome::Refused(404));
    assert_eq!(expect(WRITE, InstanceAdmin), Outcome::Refused(404));
    assert_eq!(expect(WRITE, SignedOut), Outcome::Refused(401));
    assert_eq!(expect(WRITE, RunToken), Outcome::Refused(403));
    assert_eq!(expect(Launcher, RunToken), Outcome::Allowed);
    assert_eq!(expect(Launcher, Member(Role::Launch)), Outcome::Refused(403));
    assert_eq!(expect(MANAGE_IDS, InstanceAdmin), Outcome::Allowed);
    assert_eq!(expect(OrgMember, InstanceAdmin), Outcome::Refused(404));
}
