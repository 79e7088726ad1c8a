//! The six workspace roles and what each may do. The table is `Role::allows` below (the README's
//! REST API table names the roles each endpoint admits); the server's policy point
//! (`server/src/policy/`) is its only user for decisions, the UI uses it only to hide controls the
//! server would refuse anyway.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    // Declared from least to most powerful so that the derived ordering means "at least".
    View,
    Connect,
    Launch,
    Maintain,
    Admin,
    Owner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// See the workspace, its participants and the names and dates of its secrets.
    ReadWorkspace,
    /// Create, update and delete workspace secrets.
    WriteSecrets,
    LaunchWorkflow,
    /// Credentials and compute environments.
    ManageCompute,
    /// Add, remove and change the role of participants; see the audit log.
    ManageParticipants,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::ReadWorkspace,
        Permission::WriteSecrets,
        Permission::LaunchWorkflow,
        Permission::ManageCompute,
        Permission::ManageParticipants,
    ];
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Owner, Role::Admin, Role::Maintain, Role::Launch, Role::Connect, Role::View];

    /// The role table. Written as an explicit match rather than as "role >= X" so that a new role
    /// or permission cannot silently inherit a grant.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ReadWorkspace => true,
            WriteSecrets => matches!(self, Owner | Admin | Maintain),
            LaunchWorkflow => matches!(self, Owner | Admin | Maintain | Launch),
            ManageCompute | ManageParticipants => matches!(self, Owner | Admin),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Maintain => "maintain",
            Role::Launch => "launch",
            Role::Connect => "connect",
            Role::View => "view",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "Full control, including removing the workspace's other owners",
            Role::Admin => "Manages participants, credentials and compute environments",
            Role::Maintain => "Creates and updates secrets and pipelines, and launches",
            Role::Launch => "Launches pipelines with the workspace's secrets",
            Role::Connect => "Connects to running sessions; cannot launch",
            Role::View => "Read-only: sees names and dates, never values",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            "Unknown role. Use one of: owner, admin, maintain, launch, connect, view.".to_string()
        })
    }
}

/// The permissions one role holds, for the UI to decide which controls to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub write_secrets: bool,
    pub launch: bool,
    pub manage_compute: bool,
    pub manage_participants: bool,
}

impl From<Role> for Grants {
    fn from(role: Role) -> Self {
        Grants {
            write_secrets: role.allows(Permission::WriteSecrets),
            launch: role.allows(Permission::LaunchWorkflow),
            manage_compute: role.allows(Permission::ManageCompute),
            manage_participants: role.allows(Permission::ManageParticipants),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every role × permission, spelled out a second time so a change to `allows` that
    /// disagrees with the intended table (the roles the README's REST API table admits) fails here.
    #[test]
    fn role_table_matches_conventions() {
        use Permission::*;
        let expected: [(Role, [bool; 5]); 6] = [
            //               read   write  launch compute participants
            (Role::Owner, [true, true, true, true, true]),
            (Role::Admin, [true, true, true, true, true]),
            (Role::Maintain, [true, true, true, false, false]),
            (Role::Launch, [true, false, true, false, false]),
            (Role::Connect, [true, false, false, false, false]),
            (Role::View, [true, false, false, false, false]),
        ];
        let perms = [ReadWorkspace, WriteSecrets, LaunchWorkflow, ManageCompute, ManageParticipants];
        for (role, row) in expected {
            for (perm, want) in perms.iter().zip(row) {
                assert_eq!(role.allows(*perm), want, "{role} × {perm:?}");
            }
        }
    }

    #[test]
    fn roles_parse_from_api_spelling_and_reject_others() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("OWNER".parse::<Role>(), Ok(Role::Owner));
        assert!("superuser".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn roles_serialize_as_the_api_spells_them() {
        assert_eq!(serde_json::to_string(&Role::Maintain).unwrap(), "\"maintain\"");
        assert_eq!(serde_json::from_str::<Role>("\"view\"").unwrap(), Role::View);
    }
}
