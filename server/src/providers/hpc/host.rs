//! The instance administrator's rules for HPC environments on this host: which directories work
//! directories may be in (`hpc_work_roots`), which account launch commands run as
//! (`launch_account`), and which of the server's own variables they may see (`launch_env_allow`).
//! Checked once at start-up (a bad setting stops the server with a plain message) and then on
//! every create, update, store opening and launch.

use super::safe_fs::Owner;
use std::path::{Component, Path, PathBuf};

/// Variable names a launch command may never receive, whatever the allow-list says: the server's
/// own settings, its database and the host's cloud credentials.
pub const FORBIDDEN_PREFIXES: [&str; 5] = ["STRONGROOM_", "DATABASE_URL", "AWS_", "GOOGLE_", "AZURE_"];

pub fn is_forbidden_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    FORBIDDEN_PREFIXES.iter().any(|prefix| upper.starts_with(prefix))
}

/// The unprivileged system account launch commands run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchAccount {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// Who a launch command will run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchAs {
    /// Strongroom is root and switches to the launch account.
    Account(LaunchAccount),
    /// Strongroom is not root and runs the command as itself (it cannot read the key or database).
    ServiceUser,
}

#[derive(Debug, Clone, Default)]
pub struct HpcHost {
    /// Absolute, normalised directories every HPC work directory must lie under.
    pub work_roots: Vec<PathBuf>,
    pub launch_account: Option<LaunchAccount>,
    /// Extra variable names passed from the server's environment to launch commands.
    pub env_allow: Vec<String>,
    /// Files a launch command must not be able to read, each with what it is ("key file",
    /// "database file").
    pub protected_files: Vec<(&'static str, PathBuf)>,
}

/// `path` made absolute-and-plain without touching the disk, or `None` if it is relative or
/// climbs with `..`.
pub fn normalise(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut plain = PathBuf::from("/");
    for part in path.components() {
        match part {
            Component::Normal(name) => plain.push(name),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(plain)
}

impl HpcHost {
    /// Reads and checks the settings. `data_dir` is absolute; `key_file` and `database_file` are
    /// what the launch command must never read (absent when the key or database is elsewhere).
    pub fn from_settings(
        work_roots: &[PathBuf],
        launch_account: Option<&str>,
        env_allow: &[String],
        data_dir: &Path,
        protected_files: Vec<(&'static str, PathBuf)>,
    ) -> Result<HpcHost, String> {
        // Strongroom's own work area is always a root: the local environments live there.
        let mut roots = vec![data_dir.join("work")];
        roots.extend(work_roots.iter().cloned());
        let mut work_roots = roots
            .iter()
            .map(|root| {
                normalise(root).ok_or_else(|| {
                    format!(
                        "STRONGROOM_HPC_WORK_ROOTS: '{}' must be an absolute path without '..'",
                        root.display()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        work_roots.dedup();
        for name in env_allow {
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(format!(
                    "STRONGROOM_LAUNCH_ENV_ALLOW: '{name}' is not an environment variable name"
                ));
            }
            if is_forbidden_name(name) {
                return Err(format!(
                    "STRONGROOM_LAUNCH_ENV_ALLOW may not list {name}: launch commands never receive \
                     variables starting with {}",
                    FORBIDDEN_PREFIXES.join(", ")
                ));
            }
        }
        let launch_account = match launch_account.map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(name) => Some(look_up_account(name)?),
        };
        Ok(HpcHost { work_roots, launch_account, env_allow: env_allow.to_vec(), protected_files })
    }

    /// The work directory `raw` if it lies under a work root (lexically: nothing on the disk is
    /// looked at, so the answer never tells whether a host path exists), with the root it is under.
    pub fn check_work_dir(&self, raw: &str) -> Result<(PathBuf, PathBuf), String> {
        let Some(work_dir) = normalise(Path::new(raw.trim())) else {
            return Err("workDir must be an absolute path (starting with /, without '..').".into());
        };
        // The most specific root: below it, every step is taken without following links.
        let root = self
            .work_roots
            .iter()
            .filter(|root| work_dir.starts_with(root))
            .max_by_key(|r| r.components().count());
        match root {
            Some(root) => Ok((root.clone(), work_dir)),
            None => Err(format!(
                "workDir must be under a directory an instance administrator allowed for HPC work \
                 (STRONGROOM_HPC_WORK_ROOTS): {}.",
                self.work_roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Who a launch command would run as now, or why none may start.
    pub fn launch_as(&self) -> Result<LaunchAs, String> {
        launch_as(rustix::process::geteuid().as_raw(), self.launch_account.as_ref(), &self.protected_files)
    }

    /// The owner of a run's directory and files when its target has a launch command: the launch
    /// account if Strongroom switches to it, else Strongroom itself (`None`).
    pub fn store_owner(&self, has_launch_command: bool) -> Option<Owner> {
        if !has_launch_command || !rustix::process::geteuid().is_root() {
            return None;
        }
        self.launch_account.as_ref().map(|a| Owner { uid: a.uid, gid: a.gid })
    }
}

fn look_up_account(name: &str) -> Result<LaunchAccount, String> {
    let user = nix::unistd::User::from_name(name)
        .map_err(|e| format!("STRONGROOM_LAUNCH_ACCOUNT: could not look up the account {name}: {e}"))?
        .ok_or_else(|| {
            format!("STRONGROOM_LAUNCH_ACCOUNT names {name}, which is not an account on this host")
        })?;
    if user.uid.is_root() || user.gid.as_raw() == 0 {
        return Err(format!(
            "STRONGROOM_LAUNCH_ACCOUNT must be an unprivileged account; {name} has uid or gid 0"
        ));
    }
    Ok(LaunchAccount { name: user.name, uid: user.uid.as_raw(), gid: user.gid.as_raw(), home: user.dir })
}

/// The rule: a launch command never runs as a user that can read the key file or the database.
/// Root switches to the launch account (and there must be one that cannot read them); any other
/// service user runs it as itself, which is allowed only if it cannot read them either (the key
/// given in `STRONGROOM_KEY` and the database on PostgreSQL).
pub fn launch_as(
    euid: u32,
    account: Option<&LaunchAccount>,
    protected: &[(&'static str, PathBuf)],
) -> Result<LaunchAs, String> {
    if euid == 0 {
        let Some(account) = account else {
            return Err("Strongroom runs as root and no launch account is set, so it will not start launch \
                 commands: an instance administrator must set STRONGROOM_LAUNCH_ACCOUNT to an unprivileged \
                 system account."
                .into());
        };
        if let Some((what, _)) = protected.iter().find(|(_, f)| readable_by(f, account.uid, account.gid)) {
            return Err(format!(
                "The launch account {} could read Strongroom's {}: an instance administrator must make \
                 it readable by Strongroom alone (mode 0600, in a directory the account cannot enter).",
                account.name, what
            ));
        }
        return Ok(LaunchAs::Account(account.clone()));
    }
    if let Some(account) = account.filter(|a| a.uid != euid) {
        return Err(format!(
            "STRONGROOM_LAUNCH_ACCOUNT names {}, but Strongroom does not run as root and cannot switch to \
             it, so it will not start launch commands.",
            account.name
        ));
    }
    if let Some((what, _)) = protected.iter().find(|(_, f)| std::fs::File::open(f).is_ok()) {
        return Err(format!(
            "The launch command would run as the Strongroom service user, which can read the {}: set up \
             a launch account (run Strongroom as root with STRONGROOM_LAUNCH_ACCOUNT set), or give the key \
             in STRONGROOM_KEY and use PostgreSQL so the service user reads no such file.",
            what
        ));
    }
    Ok(LaunchAs::ServiceUser)
}

/// The file of a `sqlite:` database URL (`sqlite://path?mode=rwc`), `None` for other databases
/// and in-memory ones.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Whether `uid`/`gid` (no supplementary groups: the launch drops them) may read `file`: every
/// directory above it searchable and the file readable, by the Unix mode bits.
fn readable_by(file: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let allows = |meta: &std::fs::Metadata, bit: u32| {
        let mode = meta.mode();
        if meta.uid() == uid {
            mode & (bit << 6) != 0
        } else if meta.gid() == gid {
            mode & (bit << 3) != 0
        } else {
            mode & bit != 0
        }
    };
    let Ok(meta) = std::fs::metadata(file) else { return false };
    if !allows(&meta, 0o4) {
        return false;
    }
    file.ancestors().skip(1).all(|dir| std::fs::metadata(dir).is_ok_and(|meta| allows(&meta, 0o1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> LaunchAccount {
        LaunchAccount { name: "srlaunch".into(), uid: 4321, gid: 4321, home: "/home/srlaunch".into() }
    }

    #[test]
    fn root_without_a_launch_account_refuses_and_says_which_setting() {
        let message = launch_as(0, None, &[]).unwrap_err();
        assert!(message.contains("STRONGROOM_LAUNCH_ACCOUNT"), "{message}");
        assert_eq!(launch_as(0, Some(&account()), &[]).unwrap(), LaunchAs::Account(account()));
    }

    #[test]
    fn root_refuses_an_account_that_could_read_the_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let key = dir.path().join("strongroom.key");
        std::fs::write(&key, "k").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let protected = [("key file", key.clone())];
        let message = launch_as(0, Some(&account()), &protected).unwrap_err();
        assert!(message.contains("key file"), "{message}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(launch_as(0, Some(&account()), &protected).is_ok());
        // A readable file in a directory the account cannot enter is out of its reach too.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(launch_as(0, Some(&account()), &protected).is_ok());
    }

    #[test]
    fn a_service_user_that_can_read_the_key_file_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("strongroom.key");
        std::fs::write(&key, "k").unwrap();
        let message = launch_as(1000, None, &[("key file", key)]).unwrap_err();
        assert!(message.contains("service user, which can read the key file"), "{message}");
        assert!(message.contains("launch account"), "{message}");
        // No file it can read (key in STRONGROOM_KEY, database on PostgreSQL): it may.
        let absent = [("database file", dir.path().join("absent"))];
        assert_eq!(launch_as(1000, None, &absent).unwrap(), LaunchAs::ServiceUser);
        // An account it cannot switch to is not silently ignored.
        assert!(launch_as(1000, Some(&account()), &absent).unwrap_err().contains("cannot switch"));
    }

    #[test]
    fn the_database_file_is_read_from_sqlite_urls_only() {
        assert_eq!(sqlite_file("sqlite:///data/x.db?mode=rwc"), Some(PathBuf::from("/data/x.db")));
        assert_eq!(sqlite_file("sqlite://data/x.db"), Some(PathBuf::from("data/x.db")));
        assert_eq!(sqlite_file("postgres://u:p@h/db"), None);
    }

    #[test]
    fn work_dirs_must_lie_lexically_under_a_root() {
        let host = HpcHost { work_roots: vec!["/scratch/strongroom".into()], ..HpcHost::default() };
        assert!(host.check_work_dir("/scratch/strongroom/lab").is_ok());
        assert!(host.check_work_dir("/scratch/strongroom/./lab/").is_ok());
        assert!(host.check_work_dir("/scratch/strongroomx").is_err());
        assert!(host.check_work_dir("/scratch/strongroom/../../etc").is_err());
        assert!(host.check_work_dir("/etc").unwrap_err().contains("STRONGROOM_HPC_WORK_ROOTS"));
        assert!(host.check_work_dir("scratch").unwrap_err().contains("absolute"));
    }

    #[test]
    fn settings_refuse_forbidden_names_and_relative_roots() {
        let data = Path::new("/data");
        let ok = HpcHost::from_settings(&[], None, &["HTTPS_PROXY".into()], data, vec![]).unwrap();
        assert_eq!(ok.work_roots, vec![PathBuf::from("/data/work")]);
        for name in [
            "STRONGROOM_KEY",
            "DATABASE_URL",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "azure_client_secret",
        ] {
            let message = HpcHost::from_settings(&[], None, &[name.into()], data, vec![]).unwrap_err();
            assert!(message.contains("may not list"), "{name}: {message}");
        }
        assert!(HpcHost::from_settings(&["rel".into()], None, &[], data, vec![]).is_err());
        assert!(HpcHost::from_settings(&[], Some("root"), &[], data, vec![])
            .unwrap_err()
            .contains("unprivileged"));
        assert!(HpcHost::from_settings(&[], Some("no-such-user-xyz"), &[], data, vec![]).is_err());
    }
}
